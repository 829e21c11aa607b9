"""A scripted agent adapter: the Runner's whole task path in process, with no subprocess.

    adapters = ScriptedAdapters({"claude-code": [Step.text("hi"), Step.ok()]})
    runner = Runner(config, store, adapters=adapters)

Each provider id plays its script once per attempt (the same script each time, or a list of
scripts consumed in order). A step yields an event, sets the outcome, or blocks until the
runner stops the run (``Step.block()``), as a real agent would hang.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ado.providers.base import (
    AgentAdapter,
    Outcome,
    ParseState,
    RunRequest,
)
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.run import AgentRun
from ado.providers.spawn import Spawned
from ado.vocab import OutcomeKind

__all__ = ["ScriptedAdapters", "Step"]


@dataclass(frozen=True)
class Step:
    event: AgentEvent | None = None
    outcome: Outcome | None = None
    block: bool = False

    @classmethod
    def text(cls, text: str) -> Step:
        return cls(AgentEvent(EventKind.TEXT, text=text))

    @classmethod
    def usage(cls, input_tokens: int, output_tokens: int) -> Step:
        usage = Usage(input_tokens=input_tokens, output_tokens=output_tokens)
        return cls(AgentEvent(EventKind.USAGE, usage=usage))

    @classmethod
    def wrote(cls, path: str, tool_id: str = "call-1") -> Step:
        """A tool call that wrote ``path``."""
        return cls(
            AgentEvent(
                EventKind.TOOL_CALL,
                tool_id=tool_id,
                tool_name="Write",
                tool_input={"file_path": path, "content": "..."},
                files=[path],
            )
        )

    @classmethod
    def ok(cls, text: str = "done") -> Step:
        return cls(outcome=Outcome(OutcomeKind.SUCCESS, text, exit_code=0))

    @classmethod
    def limited(cls, reset_at: datetime | None, message: str = "429 Too Many Requests") -> Step:
        return cls(outcome=Outcome(OutcomeKind.RATE_LIMITED, message, reset_at, exit_code=1))

    @classmethod
    def failed(cls, message: str = "it broke") -> Step:
        return cls(outcome=Outcome(OutcomeKind.FAILED, message, exit_code=1))

    @classmethod
    def hang(cls) -> Step:
        return cls(block=True)


@dataclass
class _Played:
    requests: list[RunRequest] = field(default_factory=list)
    stopped: list[OutcomeKind | None] = field(default_factory=list)


class _ScriptedRun(AgentRun):
    def __init__(self, adapter: _ScriptedAdapter, request: RunRequest, script: Sequence[Step]):
        super().__init__(adapter, request)
        self.script = script
        self.played = adapter.played

    async def __aiter__(self) -> AsyncIterator[AgentEvent]:
        self.played.requests.append(self.request)
        for step in self.script:
            if self._stop.is_set():
                break
            if step.block:
                await self._stop.wait()
                break
            if step.event is not None:
                self._absorb(step.event)  # usage, files, session: as a real run's summary
                yield step.event
            if step.outcome is not None:
                self.outcome = step.outcome
        reason = self.summary.stop_reason
        self.played.stopped.append(reason)
        if reason is not None:
            self.outcome = Outcome(reason, f"stopped: {reason.value}")


class _ScriptedAdapter(AgentAdapter):
    executable = "scripted-agent"
    display_name = "Scripted"
    install_hint = "-"
    context_file = "SCRIPTED.md"
    default_model = None

    def __init__(self, provider_id: str, scripts: list[Sequence[Step]]) -> None:
        self.id = provider_id  # type: ignore[misc]
        self.scripts = scripts
        self.played = _Played()

    def build_args(self, request: RunRequest) -> list[str]:
        return []

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        return []

    def resolve_command(self, command: str | None = None) -> str | None:
        return "/scripted/agent"

    def start(self, request: RunRequest) -> Spawned:
        return Spawned({}, started=time.monotonic(), pid=4_000_000)  # a pid no process has

    def run(self, request: RunRequest, spawned: Spawned | None = None) -> AgentRun:
        script = self.scripts.pop(0) if len(self.scripts) > 1 else self.scripts[0]
        return _ScriptedRun(self, request, script)


class ScriptedAdapters:
    """``Runner(adapters=...)``: a scripted adapter per provider id."""

    def __init__(self, scripts: dict[str, Sequence[Step] | list[Sequence[Step]]]) -> None:
        self.adapters: dict[str, _ScriptedAdapter] = {}
        for pid, script in scripts.items():
            listed: list[Sequence[Step]] = []
            if script and not isinstance(script[0], Step):
                listed.extend(s for s in script if not isinstance(s, Step))
            else:
                listed.append([s for s in script if isinstance(s, Step)])
            self.adapters[pid] = _ScriptedAdapter(pid, listed)

    def __call__(self, provider_id: str) -> AgentAdapter:
        return self._adapter(provider_id)

    def played(self, provider_id: str) -> _Played:
        return self._adapter(provider_id).played

    def _adapter(self, provider_id: str) -> _ScriptedAdapter:
        if provider_id not in self.adapters:  # configured but not scripted: a failing agent
            self.adapters[provider_id] = _ScriptedAdapter(provider_id, [[Step.failed()]])
        return self.adapters[provider_id]
