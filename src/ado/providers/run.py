"""One run of an agent: spawn, read, parse, stop — the loop every adapter shares."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Iterable
from typing import Any

from ado.providers.base import (
    AgentAdapter,
    Outcome,
    ParseState,
    RunRequest,
)
from ado.providers.classify import RunSummary
from ado.providers.events import AgentEvent, EventKind
from ado.providers.process import AgentProcess, OutputLine
from ado.providers.sanitize import limit_event
from ado.providers.spawn import Spawned
from ado.text import clean_value, needs_cleaning
from ado.vocab import OutcomeKind

__all__ = ["AgentRun", "stops_run"]

#: Outcomes a missing variable cannot explain.
_NOT_ABOUT_ENVIRONMENT = frozenset(
    {
        OutcomeKind.SUCCESS,
        OutcomeKind.CANCELLED,
        OutcomeKind.COST_LIMIT,
        OutcomeKind.RATE_LIMITED,
        OutcomeKind.QUOTA_EXHAUSTED,
        OutcomeKind.NOT_INSTALLED,
    }
)


class AgentRun:
    """One run of an agent: iterate it for events, then read ``outcome``.

    ``stop()`` ends it early from outside (Ctrl-C, a cost limit); a ``rate_limit`` event with
    ``retrying=True`` ends it from inside, so the agent's own back-off never delays failover.
    """

    def __init__(
        self, adapter: AgentAdapter, request: RunRequest, spawned: Spawned | None = None
    ) -> None:
        self.adapter = adapter
        self.request = request
        #: The agent's process as ``adapter.start`` spawned it (None: iterating spawns it).
        self.spawned = spawned
        self.summary = RunSummary()
        self.outcome: Outcome | None = None
        self.process: AgentProcess | None = None
        self._stop = asyncio.Event()
        self._files: set[str] = set()

    def stop(self, reason: OutcomeKind = OutcomeKind.CANCELLED) -> None:
        if self.summary.stop_reason is None:
            self.summary.stop_reason = reason
        self._stop.set()

    async def __aiter__(self) -> AsyncIterator[AgentEvent]:
        adapter, request, summary = self.adapter, self.request, self.summary
        if self.spawned is None:
            self.spawned = adapter.start(request)
        spawned = self.spawned
        started, env = spawned.started, spawned.env
        if spawned.process is None:
            summary.spawn_error = spawned.error
            self.outcome = adapter.classify(summary)
            return
        self.process = proc = AgentProcess(spawned.process)
        state = ParseState()
        max_bytes = request.max_event_bytes
        batches = proc.batches()
        stopper = asyncio.ensure_future(self._stop.wait())
        deadline = started + request.timeout if request.timeout else None
        nxt: asyncio.Future[list[OutputLine]] | None = None
        try:
            while True:
                # One wait for every line the reader holds, not one per line: the stop and
                # the deadline are looked at between batches (a batch is at most ~4 MiB).
                nxt = asyncio.ensure_future(anext(batches))
                timeout = max(0.0, deadline - time.monotonic()) if deadline else None
                done, _ = await asyncio.wait(
                    {nxt, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if nxt not in done:
                    if not done:
                        summary.timed_out = True
                    break
                try:
                    batch = nxt.result()
                except StopAsyncIteration:
                    break
                for line in batch:
                    for event in self._parse(line, state):
                        if max_bytes:
                            limit_event(event, max_bytes)
                        self._absorb(event)
                        yield event
                        if stops_run(event):
                            if event.kind is EventKind.RATE_LIMIT:
                                summary.stopped_for_rate_limit = True
                            else:
                                summary.stopped_for_error = True
                            self._stop.set()
        finally:
            stopper.cancel()
            if nxt is not None and not nxt.done():
                # let the pending read unwind before closing the generator it is running in
                nxt.cancel()
                await asyncio.wait({nxt})
            await batches.aclose()
            await proc.stop()
            # Stopped by ADO (deadline, cancel, a limit): the signal it sent, whatever the
            # agent then exited with; else the agent's own exit (its output ended first).
            stopped = summary.timed_out or self._stop.is_set()
            summary.exit_code = proc.exit_status if stopped else proc.returncode
            summary.timeout_s = request.timeout
            summary.stderr_tail = "\n".join(proc.stderr_tail)
            summary.duration_s = time.monotonic() - started
            summary.api_key_source = adapter.api_key_source(request, env, state)
            self.outcome = adapter.classify(summary)
            self._explain_missing_variable(env)
        for event in adapter.closing_events(request, env, state):
            self._absorb(event)  # the tokens an agent left in its session log count too
            yield event

    def _explain_missing_variable(self, env: dict[str, str]) -> None:
        """A failure naming a variable ADO has but the agent did not get says so, with the
        ``passEnv`` line to add (see ``ado.providers.environment``)."""
        import os

        from ado.providers.environment import missing_variable_hint

        outcome, summary = self.outcome, self.summary
        if outcome is None or outcome.kind in _NOT_ABOUT_ENVIRONMENT:
            return
        texts = [outcome.message, summary.stderr_tail, *(e.text or "" for e in summary.errors)]
        if summary.result is not None:
            texts.append(summary.result.text or "")
        hint = missing_variable_hint(self.adapter.id, texts, env, os.environ, self.request.pass_env)
        if hint:
            outcome.message = f"{outcome.message} — {hint}" if outcome.message else hint

    def _parse(self, line: OutputLine, state: ParseState) -> Iterable[AgentEvent]:
        adapter = self.adapter
        if line.stream == "stderr":
            return adapter.parse_stderr_line(line.text, state)
        text = line.text.strip()
        if not text:
            return ()
        if line.truncated:
            return (
                AgentEvent(
                    EventKind.LOG,
                    text=f"dropped an over-long output line ({len(line.text)} bytes kept of more)",
                ),
            )
        if text[0] == "{":
            try:
                obj = _loads(text)
            except ValueError:
                return adapter.parse_text_line(text, state)
            if isinstance(obj, dict):
                if needs_cleaning(text):  # "\ud83d", "\u0000": see ado.providers.sanitize
                    obj = clean_value(obj)
                try:
                    return list(adapter.parse_line(obj, state))
                except (KeyError, TypeError, ValueError, AttributeError) as exc:
                    return (
                        AgentEvent(
                            EventKind.LOG,
                            text=f"unparsed {adapter.id} event: {exc}",
                            data={"line": text[:2000]},
                        ),
                    )
        return adapter.parse_text_line(text, state)

    def _absorb(self, event: AgentEvent) -> None:
        s = self.summary
        if event.session_id and not s.session_id:
            s.session_id = event.session_id
        if event.usage is not None:
            s.usage += event.usage
        if event.files:
            for f in event.files:
                if f not in self._files and len(s.files) < _MAX_FILES:
                    self._files.add(f)
                    s.files.append(f)
        if event.kind is EventKind.TEXT and event.text:
            s.final_text = event.text
        elif event.kind is EventKind.RESULT:
            s.result = event
            if event.text:
                s.final_text = event.text
        elif event.kind is EventKind.ERROR:
            _keep(s.errors, event)
        elif event.kind is EventKind.RATE_LIMIT:
            _keep(s.rate_limits, event)
        elif event.kind is EventKind.QUOTA and event.data.get("overage"):
            s.overage = True


def _loads(text: str) -> Any:
    """A JSON line decoded: pydantic-core's decoder (several times faster than
    ``json.loads``), else ``json.loads``, which also takes what it refuses (an escaped lone
    surrogate: ``ado.providers.sanitize``)."""
    from pydantic_core import from_json  # not at import: the path to the spawn stays lean

    try:
        return from_json(text)
    except ValueError:
        return json.loads(text)


def stops_run(event: AgentEvent) -> bool:
    """A failure the agent would wait out by itself (a rate-limit or error retry notice, a
    rejected window): the run loop stops the agent at once, so ADO decides where the task
    goes next instead of the agent's own back-off."""
    if event.kind is EventKind.RATE_LIMIT:
        return bool(event.retrying or event.data.get("status") == "rejected")
    return event.kind is EventKind.ERROR and bool(event.retrying)


#: A flood of errors or rate-limit notices keeps its first and latest ones for classifying.
_MAX_KEPT = 100
#: Files an attempt reports changed, at most.
_MAX_FILES = 1000


def _keep(events: list[AgentEvent], event: AgentEvent) -> None:
    if len(events) >= _MAX_KEPT:
        del events[_MAX_KEPT // 2]
    events.append(event)
