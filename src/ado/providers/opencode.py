"""OpenCode (``opencode``): the open-source agent CLI from sst.

Runs as ``opencode run --format json PROMPT``. It prints ``step_start``, ``text``,
``tool_use`` (once, when the call has finished), ``step_finish`` with the step's tokens and
cost (when the model's price is configured), and ``error``. It retries 429s silently (five
times, no off switch), then prints a single ``error`` with the status and response headers:
the supervisor's timeout is the only watchdog while it waits. Those headers'
``x-ratelimit-*`` are the only usage figures it hands on (a quota-ledger reading).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ado.providers._common import any_env, as_dict, as_int, as_str, clip, home
from ado.providers.base import AgentAdapter, ParseState, Permission, RunRequest
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.quota import rate_limit_header_windows
from ado.providers.resets import (
    looks_like_server_error,
    looks_rate_limited,
    parse_reset,
    parse_retry_after,
)

__all__ = ["OpenCode"]

_FILE_TOOLS = ("write", "edit", "patch", "multiedit")
#: Provider keys opencode reads from the environment.
_KEY_ENV = (
    "ANTHROPIC_API_KEY",
    "OPENAI_API_KEY",
    "OPENROUTER_API_KEY",
    "GEMINI_API_KEY",
    "GOOGLE_GENERATIVE_AI_API_KEY",
    "GROQ_API_KEY",
    "XAI_API_KEY",
    "DEEPSEEK_API_KEY",
    "MISTRAL_API_KEY",
)
#: ``OPENCODE_PERMISSION`` per policy; AUTO and BYPASS approve everything with ``--auto``.
_PERMISSIONS = {
    Permission.EDITS: {"edit": "allow", "bash": "deny", "webfetch": "allow"},
    Permission.READ_ONLY: {"edit": "deny", "bash": "deny", "webfetch": "allow"},
}


class OpenCode(AgentAdapter):
    id = "opencode"
    display_name = "OpenCode"
    executable = "opencode"
    install_hint = "npm install -g opencode-ai"
    context_file = "AGENTS.md"
    supports_resume = True
    env_passthrough = ("OPENCODE_*", *_KEY_ENV)
    api_key_env = None  # providers and keys live in opencode's config (OPENCODE_CONFIG)
    credential_env = _KEY_ENV
    login_hint = "no credentials: run `opencode auth login`, or set a provider's API key"
    base_url_env = None
    default_model = None  # runs name "provider/model"; opencode prices them itself

    def build_args(self, request: RunRequest) -> list[str]:
        # Its logs on stderr are the only live sign of a 429: it retries silently otherwise.
        args = ["run", "--format", "json", "--print-logs", "--log-level", "WARN"]
        if request.model:
            args += ["-m", request.model]
        if request.resume_session_id:
            args += ["--session", request.resume_session_id]
        if request.permission in (Permission.BYPASS, Permission.AUTO):
            args.append("--auto")
        elif request.permission is Permission.READ_ONLY:
            args += ["--agent", "plan"]
        return [*args, request.prompt]

    def build_env(self, request: RunRequest) -> dict[str, str]:
        env = {"OPENCODE_DISABLE_AUTOUPDATE": "1"}
        if permission := _PERMISSIONS.get(request.permission):
            env["OPENCODE_PERMISSION"] = json.dumps(permission)
        return env

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        events: list[AgentEvent] = []
        session = as_str(obj.get("sessionID"))
        if session and not state.data.get("session"):
            state.data["session"] = session
            events.append(AgentEvent(EventKind.SESSION_STARTED, session_id=session))
        kind = obj.get("type")
        part = as_dict(obj.get("part"))
        if kind == "text" and part.get("text"):
            state.data["text"] = part["text"]
            events.append(AgentEvent(EventKind.TEXT, text=str(part["text"])))
        elif kind == "tool_use":
            events += _tool_use(part)
        elif kind == "step_finish":
            events += _step_finish(part, state)
        elif kind == "error":
            events += _error(as_dict(obj.get("error")))
        return events

    def parse_stderr_line(self, line: str, state: ParseState) -> Iterable[AgentEvent]:
        """``level=ERROR ... message="stream error" ... error.error="AI_APICallError: ..."``.

        opencode prints this at once for every failed model call, then retries on its own
        (a 429 5 times, honouring any retry-after; a 5xx for minutes, backing off): either
        stops the run here.
        """
        if 'message="stream error"' not in line or "agent=title" in line:
            return ()
        detail = line.split("error.error=", 1)[-1].strip().strip('"')
        if looks_like_server_error(detail):
            # A 5xx: opencode backs off for minutes on its own (no status on this line).
            return [AgentEvent(EventKind.ERROR, text=clip(detail), retrying=True)]
        if not looks_rate_limited(detail):
            return ()
        return [
            AgentEvent(
                EventKind.RATE_LIMIT,
                text=clip(detail),
                retrying=True,
                reset_at=parse_reset(detail, datetime.now(UTC)),
            )
        ]

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        if any_env(env, self.credential_env):
            return True
        data_home = Path(env["XDG_DATA_HOME"]) if env.get("XDG_DATA_HOME") else None
        auth = (data_home or home(env) / ".local" / "share") / "opencode" / "auth.json"
        try:
            if json.loads(auth.read_text()):
                return True
        except (OSError, ValueError):
            pass
        return None if env.get("OPENCODE_CONFIG") else False  # a config file may hold keys


def _tool_use(part: dict[str, Any]) -> list[AgentEvent]:
    state = as_dict(part.get("state"))
    name = str(part.get("tool") or "")
    tool_input = as_dict(state.get("input"))
    path = as_str(tool_input.get("filePath")) if name in _FILE_TOOLS else None
    call_id = as_str(part.get("callID"))
    events = [
        AgentEvent(
            EventKind.TOOL_CALL,
            tool_id=call_id,
            tool_name=name,
            tool_input=tool_input,
            files=[path] if path else None,
        )
    ]
    if state.get("status") in ("completed", "error"):
        failed = state.get("status") == "error"
        output = state.get("error") if failed else state.get("output")
        events.append(
            AgentEvent(EventKind.TOOL_RESULT, tool_id=call_id, is_error=failed, text=clip(output))
        )
    return events


def _step_finish(part: dict[str, Any], state: ParseState) -> list[AgentEvent]:
    tokens = as_dict(part.get("tokens"))
    cache = as_dict(tokens.get("cache"))
    cost = part.get("cost")
    usage = Usage(
        input_tokens=as_int(tokens.get("input")),
        output_tokens=as_int(tokens.get("output")) + as_int(tokens.get("reasoning")),
        cache_read_tokens=as_int(cache.get("read")),
        cache_write_tokens=as_int(cache.get("write")),
        cost_usd=float(cost) if isinstance(cost, int | float) else None,
    )
    events = [AgentEvent(EventKind.USAGE, usage=usage)]
    if part.get("reason") == "stop":
        text = as_str(state.data.get("text"))
        events.append(AgentEvent(EventKind.RESULT, is_error=False, text=text))
    return events


def _error(error: dict[str, Any]) -> list[AgentEvent]:
    data = as_dict(error.get("data"))
    message = as_str(data.get("message")) or as_str(error.get("name")) or "error"
    status = as_int(data.get("statusCode")) or None
    detail = {
        k: v
        for k, v in (("name", error.get("name")), ("isRetryable", data.get("isRetryable")))
        if v is not None
    }
    if status != 429:
        return [AgentEvent(EventKind.ERROR, text=message, status_code=status, data=detail)]
    now = datetime.now(UTC)
    headers = {str(k).lower(): str(v) for k, v in as_dict(data.get("responseHeaders")).items()}
    reset_at = parse_retry_after(headers.get("retry-after", ""), now) or parse_reset(message, now)
    limits = {k: v for k, v in headers.items() if k.startswith("x-ratelimit-")}
    return [
        # its error hands on the response's headers: the x-ratelimit-* ones are a reading
        *rate_limit_header_windows(limits, now),
        AgentEvent(
            EventKind.RATE_LIMIT,
            text=message,
            status_code=429,
            retrying=False,
            reset_at=reset_at,
            data={**detail, **({"headers": limits} if limits else {})},
        ),
    ]
