"""GitHub Copilot CLI (``copilot``).

Runs as ``copilot -p PROMPT --output-format json``, which streams one JSON event per line:
``assistant.message`` (text and ``toolRequests``), ``tool.execution_complete`` (with
``fileEdits``), ``model.call_failure`` (``statusCode``), ``assistant.turn_retry`` while it
backs off, ``session.error``, and a final ``result`` with ``sessionId`` and ``exitCode``.
No token counts and no cost on stdout: premium requests only
(``result.usage.premiumRequests``), and a 402 ``quota_exceeded`` when the month's premium
requests are used up (a reading for the quota ledger). The tokens are in its session log,
read when the run ends: ``$COPILOT_HOME/session-state/<sessionId>/events.jsonl``
(``~/.copilot`` by default) ends with ``session.shutdown{modelMetrics{<model>{usage{
inputTokens, outputTokens, cacheReadTokens, cacheWriteTokens}}}, currentModel}``; its
``session.usage_record`` lines carry ``quotaSnapshots`` (the premium-request allowance)
when GitHub's API sends them.
Its retries have no off switch, so the run loop stops it at the first ``model.call_failure``
with status 429 (it arrives about a second before ``assistant.turn_retry``, which waits out
the retry-after first).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ado.providers._common import any_env, as_dict, as_int, as_str, clip, home, pick
from ado.providers.base import AgentAdapter, ParseState, Permission, RunRequest
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.quota import copilot_premium_window, copilot_quota_snapshots
from ado.providers.resets import parse_reset

__all__ = ["Copilot"]

_FILE_TOOLS = {
    "create": "path",
    "edit": "path",
    "str_replace": "path",
    "write": "path",
    "str_replace_editor": "path",
}
_TOKEN_ENV = ("COPILOT_GITHUB_TOKEN", "GH_TOKEN", "GITHUB_TOKEN")


class Copilot(AgentAdapter):
    id = "copilot"
    display_name = "GitHub Copilot CLI"
    executable = "copilot"
    install_hint = "npm install -g @github/copilot"
    context_file = ".github/copilot-instructions.md"
    supports_resume = True
    env_passthrough = ("COPILOT_*", "GH_TOKEN", "GITHUB_TOKEN", "GH_HOST")
    #: API mode is "bring your own key": an OpenAI-compatible endpoint.
    api_key_env = "COPILOT_PROVIDER_API_KEY"
    credential_env = (*_TOKEN_ENV, "COPILOT_PROVIDER_API_KEY")
    login_hint = "not logged in: run `copilot` once and /login, or set GH_TOKEN"
    base_url_env = "COPILOT_PROVIDER_BASE_URL"
    default_model = "claude-sonnet-4-5"

    def build_args(self, request: RunRequest) -> list[str]:
        args = ["-p", request.prompt, "--output-format", "json", "--no-auto-update"]
        if request.model:
            args += ["--model", request.model]
        if request.resume_session_id:
            args += ["--resume", request.resume_session_id]
        match request.permission:
            case Permission.BYPASS:
                return [*args, "--allow-all-tools", "--allow-all-paths"]
            case Permission.AUTO:
                return [*args, "--allow-all-tools"]  # paths stay inside the working directory
            case Permission.EDITS:
                return [*args, "--allow-tool", "write", "--deny-tool", "shell"]
            case Permission.READ_ONLY:
                return [*args, "--deny-tool", "write", "--deny-tool", "shell"]

    def build_env(self, request: RunRequest) -> dict[str, str]:
        if request.base_url:  # bring-your-own-key endpoints speak OpenAI's API
            return {"COPILOT_PROVIDER_TYPE": "openai"}
        return {}

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        kind = obj.get("type")
        data = as_dict(obj.get("data"))
        if kind == "session.start":
            session = as_str(data.get("sessionId"))
            return [AgentEvent(EventKind.SESSION_STARTED, session_id=session)] if session else []
        if kind == "assistant.message":
            return self._message(data)
        if kind == "tool.execution_complete":
            return self._tool_result(data)
        if kind == "model.call_failure":
            return self._call_failure(data, state)
        if kind == "assistant.turn_retry" and data.get("reason") == "rate_limit":
            return [
                AgentEvent(
                    EventKind.RATE_LIMIT,
                    text="rate limited, retrying",
                    retrying=True,
                    status_code=429,
                    reset_at=state.data.get("reset_at"),
                    data={"model": data.get("model")} if data.get("model") else {},
                )
            ]
        if kind == "session.error":
            extra = {"errorType": data["errorType"]} if data.get("errorType") else {}
            return [
                AgentEvent(
                    EventKind.ERROR,
                    text=as_str(data.get("message")),
                    status_code=as_int(data.get("statusCode")) or None,
                    data=extra,
                )
            ]
        if kind == "result":
            state.data["session_id"] = as_str(obj.get("sessionId"))
            return self._result(obj)
        return ()

    def closing_events(
        self, request: RunRequest, env: Mapping[str, str], state: ParseState
    ) -> Iterable[AgentEvent]:
        """The tokens (and premium-request snapshots) copilot wrote to its session log."""
        session = state.data.get("session_id")
        if not isinstance(session, str):
            return []
        return session_log_events(_copilot_home(env), session)

    def _message(self, data: dict[str, Any]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        if content := as_str(data.get("content")):
            events.append(AgentEvent(EventKind.TEXT, text=content))
        for request in data.get("toolRequests") or []:
            request = as_dict(request)
            name = str(request.get("name") or "")
            arguments = request.get("arguments")
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    arguments = {"arguments": arguments}
            tool_input = as_dict(arguments)
            path = as_str(tool_input.get(_FILE_TOOLS.get(name, "")))
            events.append(
                AgentEvent(
                    EventKind.TOOL_CALL,
                    tool_id=as_str(request.get("toolCallId")),
                    tool_name=name,
                    tool_input=tool_input,
                    files=[path] if path else None,
                )
            )
        return events

    def _tool_result(self, data: dict[str, Any]) -> list[AgentEvent]:
        result = as_dict(data.get("result"))
        error = data.get("error")
        text = result.get("content") or (as_dict(error).get("message") if error else None)
        edits = [as_str(as_dict(e).get("path")) for e in data.get("fileEdits") or []]
        files = [path for path in edits if path]
        return [
            AgentEvent(
                EventKind.TOOL_RESULT,
                tool_id=as_str(data.get("toolCallId")),
                is_error=not data.get("success", True),
                text=clip(text if text is not None else error),
                files=files or None,
            )
        ]

    def _call_failure(self, data: dict[str, Any], state: ParseState) -> list[AgentEvent]:
        status = as_int(data.get("statusCode")) or None
        message = _error_message(data.get("errorMessage"))
        detail = pick(data, ("model", "retryAttempt", "errorCode"))
        if status != 429:
            # 402 ``quota_exceeded``: the monthly premium requests are used up (a reading).
            premium = copilot_premium_window(
                status, as_str(data.get("errorCode")), datetime.now(UTC)
            )
            return [
                *premium,
                AgentEvent(EventKind.ERROR, text=message, status_code=status, data=detail),
            ]
        reset_at = parse_reset(message or "", datetime.now(UTC))
        state.data["reset_at"] = reset_at
        return [
            AgentEvent(
                EventKind.RATE_LIMIT,
                text=message,
                status_code=429,
                # The first 429 arrives here ~1 s before ``assistant.turn_retry``: act now.
                retrying=True,
                reset_at=reset_at,
                data=detail,
            )
        ]

    def _result(self, obj: dict[str, Any]) -> list[AgentEvent]:
        usage = as_dict(obj.get("usage"))
        changes = as_dict(usage.get("codeChanges"))
        files = [f for f in changes.get("filesModified") or [] if isinstance(f, str)]
        exit_code = as_int(obj.get("exitCode"))
        data = pick(usage, ("premiumRequests", "totalApiDurationMs", "sessionDurationMs"))
        return [
            AgentEvent(
                EventKind.RESULT,
                is_error=exit_code != 0,
                session_id=as_str(obj.get("sessionId")),
                files=files or None,
                data={**data, "exitCode": exit_code},
            )
        ]

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        if any_env(env, _TOKEN_ENV):
            return True
        config = home(env) / ".copilot" / "config.json"
        try:
            return bool(json.loads(config.read_text()).get("logged_in_users"))
        except (OSError, ValueError, AttributeError):
            return False


def _copilot_home(env: Mapping[str, str]) -> Path:
    configured = env.get("COPILOT_HOME")
    return Path(configured) if configured else home(env) / ".copilot"


def session_log_events(copilot_home: Path, session_id: str) -> list[AgentEvent]:
    """A ``USAGE`` event of the tokens in the session's ``session.shutdown`` summary and the
    readings of its last ``quotaSnapshots``; [] when there is no log or no summary (copilot
    killed before it wrote one): the attempt's tokens then stay "not reported"."""
    if not session_id or "/" in session_id or session_id.startswith("."):
        return []
    log = copilot_home / "session-state" / session_id / "events.jsonl"
    shutdown: dict[str, Any] | None = None
    snapshots: dict[str, Any] | None = None
    try:
        with log.open(encoding="utf-8", errors="replace") as lines:
            for line in lines:
                if '"session.shutdown"' not in line and '"quotaSnapshots"' not in line:
                    continue
                try:
                    obj = json.loads(line)
                except ValueError:
                    continue
                data = as_dict(as_dict(obj).get("data"))
                if obj.get("type") == "session.shutdown":
                    shutdown = data
                found = as_dict(data.get("usage")).get("quotaSnapshots")
                if isinstance(found, dict) and found:
                    snapshots = found
    except OSError:
        return []
    events = copilot_quota_snapshots(snapshots) if snapshots else []
    try:
        usage = _shutdown_usage(shutdown) if shutdown is not None else None
    except (OverflowError, ValueError):  # a count no int holds: not a figure
        usage = None
    if usage is not None:
        events.append(AgentEvent(EventKind.USAGE, usage=usage, data={"source": "session log"}))
    return events


def _shutdown_usage(data: dict[str, Any]) -> Usage | None:
    metrics = as_dict(data.get("modelMetrics"))
    if not metrics:
        return None
    total = Usage()
    for model in metrics.values():
        usage = as_dict(as_dict(model).get("usage"))
        total += Usage(
            input_tokens=max(0, as_int(usage.get("inputTokens"))),
            output_tokens=max(0, as_int(usage.get("outputTokens"))),
            cache_read_tokens=max(0, as_int(usage.get("cacheReadTokens"))),
            cache_write_tokens=max(0, as_int(usage.get("cacheWriteTokens"))),
        )
    current = as_str(data.get("currentModel"))
    total.model = current or (next(iter(metrics)) if len(metrics) == 1 else None)
    return total


def _error_message(raw: Any) -> str | None:
    """``errorMessage`` is often the provider's JSON error body: keep its message."""
    if not isinstance(raw, str):
        return None
    try:
        body = json.loads(raw)
    except ValueError:
        return raw
    if isinstance(body, dict):
        inner = body.get("error") if isinstance(body.get("error"), dict) else body
        return as_str(as_dict(inner).get("message")) or raw
    return raw
