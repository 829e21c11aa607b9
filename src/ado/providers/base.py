"""The agent-adapter interface.

An adapter knows one agent CLI: how to find it, how to build its non-interactive command
and environment, and how to map each line it prints to normalized events. Everything else
(spawning, reading, timeouts, cancellation, classifying how a run ended) lives here once.

A new agent is one module with a subclass of ``AgentAdapter``, registered in the
``ado.providers`` entry-point group.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar

from ado.providers import resets
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.process import AgentProcess, OutputLine, SpawnError

__all__ = [
    "AgentAdapter",
    "AgentRun",
    "Detection",
    "Outcome",
    "OutcomeKind",
    "ParseState",
    "Permission",
    "RunRequest",
    "RunSummary",
]

#: Variables every agent gets from ADO's own environment when set.
BASE_ENV = (
    "PATH",
    "HOME",
    "USER",
    "LOGNAME",
    "LANG",
    "LC_ALL",
    "LC_CTYPE",
    "TZ",
    "TMPDIR",
    "SHELL",
    "XDG_CONFIG_HOME",
    "XDG_DATA_HOME",
    "XDG_CACHE_HOME",
    "XDG_STATE_HOME",
    "SSL_CERT_FILE",
    "SSL_CERT_DIR",
    "NODE_EXTRA_CA_CERTS",
    "HTTPS_PROXY",
    "HTTP_PROXY",
    "NO_PROXY",
    "https_proxy",
    "http_proxy",
    "no_proxy",
    "TRACEPARENT",
)


class Permission(StrEnum):
    """What the agent may do without asking, mapped from the HITL policy."""

    #: ``--yolo``: no sandbox, no approvals.
    BYPASS = "bypass"
    #: ``autonomous``: edits and commands inside the working directory, no approvals.
    AUTO = "auto"
    #: ``review-edits``: file edits allowed, commands not.
    EDITS = "edits"
    #: ``approve-steps`` / ``manual``: read-only; the agent proposes, a human applies.
    READ_ONLY = "read_only"

    @classmethod
    def from_policy(cls, policy: str, *, yolo: bool = False) -> Permission:
        if yolo:
            return cls.BYPASS
        return {
            "autonomous": cls.AUTO,
            "review-edits": cls.EDITS,
            "approve-steps": cls.READ_ONLY,
            "manual": cls.READ_ONLY,
        }[policy]


class OutcomeKind(StrEnum):
    SUCCESS = "success"
    FAILED = "failed"  # the agent ran and reported an error of its own
    RATE_LIMITED = "rate_limited"  # short window: cool down until the reset
    QUOTA_EXHAUSTED = "quota_exhausted"  # long window (weekly/monthly): skip
    SERVER_ERROR = "server_error"  # 5xx / overloaded: transient
    AUTH_MISSING = "auth_missing"
    NOT_INSTALLED = "not_installed"
    CRASHED = "crashed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    COST_LIMIT = "cost_limit"

    @property
    def is_limit(self) -> bool:
        return self in (OutcomeKind.RATE_LIMITED, OutcomeKind.QUOTA_EXHAUSTED)


@dataclass(slots=True)
class Outcome:
    kind: OutcomeKind
    message: str = ""
    reset_at: datetime | None = None
    exit_code: int | None = None


@dataclass(slots=True)
class Detection:
    installed: bool
    path: str | None = None
    version: str | None = None
    #: True/False when the CLI (or its credential files) can tell, None when unknown.
    logged_in: bool | None = None
    detail: str = ""


@dataclass(slots=True)
class RunRequest:
    prompt: str
    cwd: str
    permission: Permission = Permission.AUTO
    model: str | None = None
    max_turns: int | None = None
    resume_session_id: str | None = None
    #: ``permissionMode`` from the provider's defaultOptions, passed through when set.
    permission_mode: str | None = None
    access_mode: str = "subscription"
    api_key: str | None = None
    base_url: str | None = None
    command: str | None = None
    extra_args: list[str] = field(default_factory=list)
    extra_env: dict[str, str] = field(default_factory=dict)
    timeout: float | None = None


@dataclass(slots=True)
class ParseState:
    """Per-run scratch space an adapter's parser may use (open tool calls, totals...)."""

    data: dict[str, Any] = field(default_factory=dict)


@dataclass(slots=True)
class RunSummary:
    """What the run loop gathered from the events; ``classify`` reads it."""

    exit_code: int | None = None
    session_id: str | None = None
    result: AgentEvent | None = None
    errors: list[AgentEvent] = field(default_factory=list)
    rate_limits: list[AgentEvent] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)
    files: list[str] = field(default_factory=list)
    final_text: str = ""
    stderr_tail: str = ""
    spawn_error: SpawnError | None = None
    timed_out: bool = False
    stop_reason: OutcomeKind | None = None  # CANCELLED / COST_LIMIT when stopped from outside
    stopped_for_rate_limit: bool = False
    duration_s: float = 0.0


class AgentAdapter(ABC):
    """Base class of every agent adapter."""

    #: Provider id used in the config (``providers.<id>``) and on the command line.
    id: ClassVar[str]
    display_name: ClassVar[str]
    #: Default executable name looked up on PATH (``command`` in the config overrides it).
    executable: ClassVar[str]
    install_hint: ClassVar[str]
    context_file: ClassVar[str]
    supports_resume: ClassVar[bool] = True
    reports_cost: ClassVar[bool] = False
    reports_tokens: ClassVar[bool] = True
    #: Extra variables (or prefixes ending in ``*``) passed through from ADO's environment.
    env_passthrough: ClassVar[tuple[str, ...]] = ()
    #: Where an access mode's ``api.apiKey`` / ``api.baseUrl`` go.
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    #: Price-table model used for API-equivalent cost when the run does not name one.
    default_model: ClassVar[str | None] = None

    # -- what each adapter implements ------------------------------------------------------

    @abstractmethod
    def build_args(self, request: RunRequest) -> list[str]:
        """Arguments after the executable for a non-interactive, streaming run."""

    @abstractmethod
    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        """Map one JSON line of the agent's stdout to normalized events."""

    def build_env(self, request: RunRequest) -> dict[str, str]:
        """Adapter-specific variables (e.g. switching off the agent's own 429 retries)."""
        return {}

    def parse_text_line(self, line: str, state: ParseState) -> Iterable[AgentEvent]:
        """A stdout line that is not JSON. Default: ignored."""
        return ()

    def parse_stderr_line(self, line: str, state: ParseState) -> Iterable[AgentEvent]:
        """A stderr line. Default: nothing, but a retry notice is worth an event."""
        return ()

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        """Whether credentials are present, when the adapter can tell without a network call."""
        return None

    def classify(self, summary: RunSummary) -> Outcome:
        return classify_generic(summary)

    # -- shared machinery -------------------------------------------------------------------

    def resolve_command(self, command: str | None = None) -> str | None:
        name = command or self.executable
        if os.sep in name:
            path = Path(name).expanduser()
            return str(path) if path.is_file() and os.access(path, os.X_OK) else None
        return shutil.which(name)

    async def detect(
        self,
        command: str | None = None,
        limit_s: float = 5.0,
        env: Mapping[str, str] | None = None,
    ) -> Detection:
        """Installed? Which version (``--version``, bounded)? Credentials present?

        ``env`` adds the variables the configuration gives the agent (``providers.<id>.env``,
        an access mode's API key) to what the login check looks at.
        """
        path = self.resolve_command(command)
        if path is None:
            return Detection(installed=False, detail=f"not found: {self.install_hint}")
        version = None
        detail = ""
        try:
            proc = await asyncio.create_subprocess_exec(
                path,
                "--version",
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.STDOUT,
                env=self.environment(RunRequest(prompt="", cwd=".")),
                start_new_session=True,
            )
            try:
                out, _ = await asyncio.wait_for(proc.communicate(), limit_s)
                version = _first_version(out.decode(errors="replace"))
            except TimeoutError:
                proc.kill()
                await proc.wait()
                detail = f"`{path} --version` did not answer within {limit_s:g}s"
        except OSError as exc:
            return Detection(installed=False, path=path, detail=str(exc))
        return Detection(
            installed=True,
            path=path,
            version=version,
            logged_in=self.login_state({**os.environ, **(env or {})}),
            detail=detail,
        )

    def environment(self, request: RunRequest) -> dict[str, str]:
        """The minimal environment the agent runs with."""
        env: dict[str, str] = {}
        wanted = BASE_ENV + self.env_passthrough
        for key, value in os.environ.items():
            if key in wanted or any(
                w.endswith("*") and key.startswith(w[:-1]) for w in self.env_passthrough
            ):
                env[key] = value
        env.setdefault("PATH", os.defpath)
        env["NO_COLOR"] = "1"
        env["TERM"] = "dumb"
        env["CI"] = "1"
        if request.api_key and self.api_key_env:
            env[self.api_key_env] = request.api_key
        if request.base_url and self.base_url_env:
            env[self.base_url_env] = request.base_url
        env.update(self.build_env(request))
        env.update(request.extra_env)
        return env

    def command(self, request: RunRequest) -> list[str]:
        path = self.resolve_command(request.command) or (request.command or self.executable)
        return [path, *self.build_args(request), *request.extra_args]

    def run(self, request: RunRequest) -> AgentRun:
        return AgentRun(self, request)


class AgentRun:
    """One run of an agent: iterate it for events, then read ``outcome``.

    ``stop()`` ends it early from outside (Ctrl-C, a cost limit); a ``rate_limit`` event with
    ``retrying=True`` ends it from inside, so the agent's own back-off never delays failover.
    """

    def __init__(self, adapter: AgentAdapter, request: RunRequest) -> None:
        self.adapter = adapter
        self.request = request
        self.summary = RunSummary()
        self.outcome: Outcome | None = None
        self.process: AgentProcess | None = None
        #: Called with the agent's pid once it is running (the runner records it).
        self.on_spawn: Callable[[int], Awaitable[None]] | None = None
        self._stop = asyncio.Event()

    def stop(self, reason: OutcomeKind = OutcomeKind.CANCELLED) -> None:
        if self.summary.stop_reason is None:
            self.summary.stop_reason = reason
        self._stop.set()

    async def __aiter__(self) -> AsyncIterator[AgentEvent]:
        adapter, request, summary = self.adapter, self.request, self.summary
        started = time.monotonic()
        self.process = proc = AgentProcess(
            adapter.command(request), cwd=request.cwd, env=adapter.environment(request)
        )
        try:
            await proc.start()
        except SpawnError as exc:
            summary.spawn_error = exc
            self.outcome = adapter.classify(summary)
            return
        if self.on_spawn is not None and proc.pid is not None:
            await self.on_spawn(proc.pid)
        state = ParseState()
        lines = proc.lines()
        stopper = asyncio.ensure_future(self._stop.wait())
        deadline = started + request.timeout if request.timeout else None
        nxt: asyncio.Future[OutputLine] | None = None
        try:
            while True:
                nxt = asyncio.ensure_future(anext(lines))
                timeout = max(0.0, deadline - time.monotonic()) if deadline else None
                done, _ = await asyncio.wait(
                    {nxt, stopper}, timeout=timeout, return_when=asyncio.FIRST_COMPLETED
                )
                if nxt not in done:
                    if not done:
                        summary.timed_out = True
                    break
                try:
                    line = nxt.result()
                except StopAsyncIteration:
                    break
                for event in self._parse(line, state):
                    self._absorb(event)
                    yield event
                    if event.kind is EventKind.RATE_LIMIT and (
                        event.retrying or event.data.get("status") == "rejected"
                    ):
                        summary.stopped_for_rate_limit = True
                        self._stop.set()
        finally:
            stopper.cancel()
            if nxt is not None and not nxt.done():
                # let the pending read unwind before closing the generator it is running in
                nxt.cancel()
                await asyncio.wait({nxt})
            await lines.aclose()
            await proc.stop()
            summary.exit_code = proc.returncode
            summary.stderr_tail = "\n".join(proc.stderr_tail)
            summary.duration_s = time.monotonic() - started
            self.outcome = adapter.classify(summary)

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
                obj = json.loads(text)
            except ValueError:
                return adapter.parse_text_line(text, state)
            if isinstance(obj, dict):
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
                if f not in s.files:
                    s.files.append(f)
        if event.kind is EventKind.TEXT and event.text:
            s.final_text = event.text
        elif event.kind is EventKind.RESULT:
            s.result = event
            if event.text:
                s.final_text = event.text
        elif event.kind is EventKind.ERROR:
            s.errors.append(event)
        elif event.kind is EventKind.RATE_LIMIT:
            s.rate_limits.append(event)


def classify_generic(summary: RunSummary, now: datetime | None = None) -> Outcome:
    """How a run ended, from what the run loop gathered. Adapters refine it when needed."""
    now = now or datetime.now(UTC)
    code = summary.exit_code
    if summary.spawn_error is not None:
        kind = OutcomeKind.NOT_INSTALLED if summary.spawn_error.not_found else OutcomeKind.CRASHED
        return Outcome(kind, str(summary.spawn_error), exit_code=None)
    if summary.stop_reason is not None:
        return Outcome(summary.stop_reason, "stopped by ADO", exit_code=code)
    texts = [e.text or "" for e in summary.errors]
    if summary.result is not None and summary.result.text:
        texts.append(summary.result.text)
    texts.append(summary.stderr_tail)
    joined = "\n".join(t for t in texts if t)

    statuses = {e.status_code for e in [*summary.errors, *summary.rate_limits] if e.status_code}
    if summary.result is not None and summary.result.status_code:
        statuses.add(summary.result.status_code)
    limited = (
        summary.stopped_for_rate_limit
        or any(e.data.get("status") == "rejected" or e.retrying for e in summary.rate_limits)
        or 429 in statuses
        or resets.looks_rate_limited(joined)
    )
    if limited:
        reset_at = next((e.reset_at for e in reversed(summary.rate_limits) if e.reset_at), None)
        reset_at = reset_at or resets.parse_reset(joined, now)
        message = (
            _first_line(next((t for t in texts if t and resets.looks_rate_limited(t)), joined))
            or "rate limited"
        )
        quota = (
            resets.looks_like_quota(joined)
            or 402 in statuses
            or (reset_at is not None and reset_at - now > timedelta(days=3))
        )
        kind = OutcomeKind.QUOTA_EXHAUSTED if quota else OutcomeKind.RATE_LIMITED
        return Outcome(kind, message, reset_at=reset_at, exit_code=code)
    if summary.timed_out:
        return Outcome(OutcomeKind.TIMED_OUT, "the agent did not finish in time", exit_code=code)
    if 401 in statuses or 403 in statuses or resets.looks_like_auth_error(joined):
        return Outcome(
            OutcomeKind.AUTH_MISSING, _first_line(joined) or "not logged in", exit_code=code
        )
    result = summary.result
    if result is not None and not result.is_error and code in (0, None):
        return Outcome(OutcomeKind.SUCCESS, _first_line(summary.final_text), exit_code=code)
    if any(s >= 500 for s in statuses) or resets.looks_like_server_error(joined):
        return Outcome(
            OutcomeKind.SERVER_ERROR, _first_line(joined) or "server error", exit_code=code
        )
    if result is not None:
        return Outcome(
            OutcomeKind.FAILED, _first_line(joined) or "the agent reported an error", exit_code=code
        )
    if code == 0 and not summary.errors:
        return Outcome(OutcomeKind.SUCCESS, _first_line(summary.final_text), exit_code=code)
    detail = _first_line(joined) or f"exited with code {code}"
    return Outcome(OutcomeKind.CRASHED, detail, exit_code=code)


def _first_line(text: str, limit: int = 300) -> str:
    for line in text.splitlines():
        if line.strip():
            return line.strip()[:limit]
    return ""


def _first_version(text: str) -> str | None:
    import re

    match = re.search(r"\d+\.\d+(?:\.\d+)?(?:[-+.\w]*)?", text)
    if match:
        return match.group(0)
    lines = text.strip().splitlines()
    return lines[0] if lines else None
