"""The agent-adapter interface.

The run loop is ``ado.providers.run.AgentRun``; the generic outcome rules are
``ado.providers.classify``.

An adapter knows one agent CLI: how to find it, how to build its non-interactive command
and environment, and how to map each line it prints to normalized events. Everything else
(spawning, reading, timeouts, cancellation, classifying how a run ended) lives here once.

A new agent is one module with a subclass of ``AgentAdapter``, registered in the
``ado.providers`` entry-point group.
"""

from __future__ import annotations

import os
from abc import ABC, abstractmethod
from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any, ClassVar

from ado.providers.events import AgentEvent
from ado.providers.spawn import Spawned, SpawnError, spawn, which
from ado.records import Record
from ado.vocab import AccessMode, HitlPolicy, OutcomeKind

if TYPE_CHECKING:
    from ado.providers.classify import RunSummary
    from ado.providers.run import AgentRun

__all__ = [
    "AgentAdapter",
    "Detection",
    "Outcome",
    "ParseState",
    "Permission",
    "RunRequest",
    "command_problem",
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


#: The terminal type agents are told. Not ``dumb``: gemini warns on stderr about a "Basic
#: terminal detected (TERM=dumb)" and a missing 256-colour support on every run. Output
#: stays plain: stdout and stderr are pipes, and ``NO_COLOR`` is set.
TERM = "xterm-256color"


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
            HitlPolicy.AUTONOMOUS: cls.AUTO,
            HitlPolicy.REVIEW_EDITS: cls.EDITS,
            HitlPolicy.APPROVE_STEPS: cls.READ_ONLY,
            HitlPolicy.MANUAL: cls.READ_ONLY,
        }[HitlPolicy(policy)]


class Outcome(Record):
    """How an attempt ended."""

    __slots__ = ("kind", "message", "reset_at", "exit_code")

    def __init__(
        self,
        kind: OutcomeKind,
        message: str = "",
        reset_at: datetime | None = None,
        exit_code: int | None = None,
    ) -> None:
        self.kind = kind
        self.message = message
        self.reset_at = reset_at
        self.exit_code = exit_code


class Detection(Record):
    """Whether an agent's CLI is installed (``AgentAdapter.detect``): where, which version,
    whether it is logged in."""

    __slots__ = ("installed", "path", "version", "logged_in", "detail")

    def __init__(
        self,
        installed: bool,
        path: str | None = None,
        version: str | None = None,
        logged_in: bool | None = None,
        detail: str = "",
    ) -> None:
        self.installed = installed
        self.path = path
        self.version = version
        #: True/False when the CLI (or its credential files) can tell, None when unknown.
        self.logged_in = logged_in
        self.detail = detail


class RunRequest(Record):
    """What an adapter starts its agent with."""

    __slots__ = (
        "prompt",
        "cwd",
        "permission",
        "model",
        "max_turns",
        "resume_session_id",
        "permission_mode",
        "access_mode",
        "api_key",
        "base_url",
        "command",
        "extra_args",
        "extra_env",
        "pass_env",
        "timeout",
        "max_event_bytes",
    )

    def __init__(
        self,
        prompt: str,
        cwd: str,
        permission: Permission = Permission.AUTO,
        model: str | None = None,
        max_turns: int | None = None,
        resume_session_id: str | None = None,
        permission_mode: str | None = None,
        access_mode: str = AccessMode.SUBSCRIPTION,
        api_key: str | None = None,
        base_url: str | None = None,
        command: str | None = None,
        extra_args: list[str] | None = None,
        extra_env: dict[str, str] | None = None,
        pass_env: tuple[str, ...] = (),
        timeout: float | None = None,
        max_event_bytes: int | None = None,
    ) -> None:
        self.prompt = prompt
        self.cwd = cwd
        self.permission = permission
        self.model = model
        self.max_turns = max_turns
        self.resume_session_id = resume_session_id
        #: ``permissionMode`` from the provider's defaultOptions, passed through when set.
        self.permission_mode = permission_mode
        self.access_mode = access_mode
        self.api_key = api_key
        self.base_url = base_url
        self.command = command
        self.extra_args: list[str] = [] if extra_args is None else extra_args
        self.extra_env: dict[str, str] = {} if extra_env is None else extra_env
        #: ``providers.<id>.passEnv``: names or globs of ADO's variables the agent also gets.
        self.pass_env = pass_env
        self.timeout = timeout
        #: Each event is cut to about this many bytes where it is parsed
        #: (``storage.maxEventBytes``).
        self.max_event_bytes = max_event_bytes


class ParseState:
    """Per-run scratch space an adapter's parser may use (open tool calls, totals...)."""

    __slots__ = ("data",)

    def __init__(self) -> None:
        self.data: dict[str, Any] = {}


class AgentAdapter(ABC):
    """Base class of every agent adapter."""

    #: Provider id used in the config (``providers.<id>``) and on the command line.
    id: ClassVar[str]
    display_name: ClassVar[str]
    #: Default executable name looked up on PATH (``command`` in the config overrides it).
    executable: ClassVar[str]
    install_hint: ClassVar[str]
    context_file: ClassVar[str]
    #: False: ``--resume`` is refused for this agent (it cannot continue a session).
    supports_resume: ClassVar[bool] = True
    #: Extra variables (or prefixes ending in ``*``) passed through from ADO's environment.
    env_passthrough: ClassVar[tuple[str, ...]] = ()
    #: The variables that carry this agent's credentials (a ``passEnv`` glob passes them to
    #: this agent only; see ``ado.providers.environment``).
    credential_env: ClassVar[tuple[str, ...]] = ()
    #: What to do when no credentials are found (``ado providers check``).
    login_hint: ClassVar[str] = ""
    #: Where an access mode's ``api.apiKey`` / ``api.baseUrl`` go.
    api_key_env: ClassVar[str | None] = None
    base_url_env: ClassVar[str | None] = None
    #: Price-table model used for API-equivalent cost when the run does not name one.
    default_model: ClassVar[str | None] = None
    #: Starts of stderr lines the agent prints on every run (start-up notices, warnings):
    #: never the reason a run failed (see ``ado.providers.classify``).
    stderr_noise: ClassVar[tuple[str, ...]] = ()

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

    def closing_events(
        self, request: RunRequest, env: Mapping[str, str], state: ParseState
    ) -> Iterable[AgentEvent]:
        """Events read once the agent has exited, from what it left behind (codex's
        session log of usage windows). Default: none."""
        return ()

    def quota_snapshot(self, env: Mapping[str, str]) -> tuple[datetime, list[AgentEvent]] | None:
        """The agent's usage windows as it last recorded them, read without a run and
        without spending quota (``ado quota --refresh``), and when they were true. Default:
        None, the agent keeps no such record (its windows are read during runs)."""
        return None

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        """Whether credentials are present, when the adapter can tell without a network call."""
        return None

    def api_key_source(
        self, request: RunRequest, env: Mapping[str, str], state: ParseState
    ) -> str | None:
        """When this run is billed through an API key: where the key came from, as the agent
        reported it or its configuration says; None for a subscription login or unknown."""
        return None

    def classify(self, summary: RunSummary) -> Outcome:
        from ado.providers.classify import classify_generic

        return classify_generic(summary, noise=self.stderr_noise)

    # -- shared machinery -------------------------------------------------------------------

    def resolve_command(self, command: str | None = None) -> str | None:
        name = command or self.executable
        if os.sep in name:
            path = os.path.expanduser(name)
            return path if os.path.isfile(path) and os.access(path, os.X_OK) else None
        return which(name)

    async def detect(
        self,
        command: str | None = None,
        limit_s: float = 5.0,
        env: Mapping[str, str] | None = None,
        pass_env: tuple[str, ...] = (),
    ) -> Detection:
        """Installed? Which version (``--version``, bounded)? Credentials present?

        ``env`` adds the variables the configuration gives the agent (``providers.<id>.env``,
        an access mode's API key) and ``pass_env`` its ``passEnv``: the login check looks at
        the environment the agent would really get.
        """
        import asyncio  # here, not at module level: `ado status` never needs it

        path = self.resolve_command(command)
        if path is None:
            if command:
                return Detection(installed=False, detail=command_problem(self.id, command))
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
        logged_in, login_detail = self.login_check(env or {}, pass_env)
        return Detection(
            installed=True,
            path=path,
            version=version,
            logged_in=logged_in,
            detail="; ".join(d for d in (detail, login_detail) if d),
        )

    def credential_vars(self, env: Mapping[str, str]) -> tuple[str, ...]:
        """The variables that would log the agent in (codex adds its config's ``env_key``)."""
        return self.credential_env

    def login_check(
        self, configured: Mapping[str, str], pass_env: tuple[str, ...] = ()
    ) -> tuple[bool | None, str]:
        """Credentials in the environment the agent really gets, and what to do when not:
        a credential only ADO's environment holds is named, with the ``passEnv`` to add."""
        given = self.environment(
            RunRequest(prompt="", cwd=".", extra_env=dict(configured), pass_env=pass_env)
        )
        state = self.login_state(given)
        if state is not False:
            return state, ""
        from ado.providers.environment import missing_variable_hint

        full = {**os.environ, **configured}
        names = [n for n in self.credential_vars(full) if n in full and n not in given]
        hint = missing_variable_hint(self.id, names, given, full, pass_env)
        return False, hint or self.login_hint

    def environment(self, request: RunRequest) -> dict[str, str]:
        """The minimal environment the agent runs with, widened by ``passEnv``."""
        from ado.providers.environment import select

        env: dict[str, str] = {}
        wanted = BASE_ENV + self.env_passthrough
        for key, value in os.environ.items():
            if key in wanted or any(
                w.endswith("*") and key.startswith(w[:-1]) for w in self.env_passthrough
            ):
                env[key] = value
        if request.pass_env:
            env.update(select(request.pass_env, os.environ, self.credential_env).passed)
        env.setdefault("PATH", os.defpath)
        env["NO_COLOR"] = "1"
        env["TERM"] = TERM
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

    def start(self, request: RunRequest) -> Spawned:
        """Spawn the agent for ``request`` (synchronous: ``ado run`` starts its first agent
        before the event loop exists); a spawn that fails is returned, not raised."""
        env = self.environment(request)
        try:
            return Spawned.of(env, spawn(self.command(request), cwd=request.cwd, env=env))
        except SpawnError as exc:
            return Spawned.failed(env, exc)

    def run(self, request: RunRequest, spawned: Spawned | None = None) -> AgentRun:
        """The agent's run: iterate it for events (see ``ado.providers.run.AgentRun``);
        ``spawned`` is the process ``start`` gave, else iterating starts one."""
        from ado.providers.run import AgentRun

        return AgentRun(self, request, spawned)


def command_problem(provider: str, command: str) -> str:
    """Why ``providers.<id>.command`` cannot run, naming the path (the router and
    ``ado providers check`` say it)."""
    if os.sep not in command:
        return f"providers.{provider}.command: {command!r} is not on PATH"
    path = os.path.expanduser(command)
    if not os.path.exists(path):
        return f"providers.{provider}.command: {command} does not exist"
    if os.path.isdir(path):
        return f"providers.{provider}.command: {command} is a directory"
    return f"providers.{provider}.command: {command} is not executable (chmod +x)"


def _first_version(text: str) -> str | None:
    import re

    match = re.search(r"\d+\.\d+(?:\.\d+)?(?:[-+.\w]*)?", text)
    if match:
        return match.group(0)
    lines = text.strip().splitlines()
    return lines[0] if lines else None
