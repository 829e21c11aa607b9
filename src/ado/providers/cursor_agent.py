"""Cursor Agent (``cursor-agent``): Cursor's agent CLI.

Runs as ``cursor-agent -p PROMPT --output-format stream-json``. Its stream resembles
claude's: ``system/init``, ``user``, ``assistant``, ``tool_call`` with subtype ``started`` /
``completed`` (the tool named by the key of ``tool_call``: ``writeToolCall``,
``editToolCall``, ``shellToolCall``…, or ``function{name,arguments}``), and a final
``result``. Failures go to stderr with a non-zero exit and no ``result``. No cost; tokens
only when a ``usage`` object is present (newer versions).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from ado.providers._common import any_env, as_dict, as_int, as_str, clip, home, pick
from ado.providers.base import (
    AgentAdapter,
    Outcome,
    ParseState,
    Permission,
    RunRequest,
)
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.vocab import OutcomeKind

if TYPE_CHECKING:
    from ado.providers.classify import RunSummary

__all__ = ["CursorAgent"]

_FILE_TOOLS = ("write", "edit", "delete", "multiEdit", "searchReplace")


class CursorAgent(AgentAdapter):
    id = "cursor-agent"
    display_name = "Cursor Agent"
    executable = "cursor-agent"
    install_hint = "curl https://cursor.com/install -fsS | bash"
    context_file = ".cursorrules"
    supports_resume = True
    env_passthrough = ("CURSOR_*",)
    api_key_env = "CURSOR_API_KEY"
    credential_env = ("CURSOR_API_KEY",)
    login_hint = "not logged in: run `cursor-agent login`, or set CURSOR_API_KEY"
    base_url_env = None
    default_model = None

    def build_args(self, request: RunRequest) -> list[str]:
        args = ["-p", request.prompt, "--output-format", "stream-json"]
        if request.model:
            args += ["--model", request.model]
        if request.resume_session_id:
            args += ["--resume", request.resume_session_id]
        if request.permission is Permission.READ_ONLY:
            return args  # without --force, print mode proposes changes but applies none
        # Cursor has no edits-only switch: --force allows edits and commands alike.
        return [*args, "--force"]

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        kind = obj.get("type")
        if kind == "system" and obj.get("subtype") == "init":
            data = pick(obj, ("model", "cwd", "apiKeySource", "permissionMode"))
            return [
                AgentEvent(EventKind.SESSION_STARTED, session_id=obj.get("session_id"), data=data)
            ]
        if kind == "assistant":
            content = as_dict(obj.get("message")).get("content") or []
            text = "".join(str(as_dict(b).get("text") or "") for b in content)
            return [AgentEvent(EventKind.TEXT, text=text)] if text else []
        if kind == "tool_call":
            return self._tool_call(obj)
        if kind == "result":
            return self._result(obj)
        if kind == "error":
            message = as_str(obj.get("message")) or as_str(as_dict(obj.get("error")).get("message"))
            return [AgentEvent(EventKind.ERROR, text=message)]
        return ()

    def _tool_call(self, obj: dict[str, Any]) -> list[AgentEvent]:
        name, body = _tool_body(as_dict(obj.get("tool_call")))
        args = as_dict(body.get("args"))
        call_id = as_str(obj.get("call_id")) or as_str(args.get("toolCallId"))
        if obj.get("subtype") == "started":
            path = as_str(args.get("path")) if name in _FILE_TOOLS else None
            return [
                AgentEvent(
                    EventKind.TOOL_CALL,
                    tool_id=call_id,
                    tool_name=name,
                    tool_input=args,
                    files=[path] if path else None,
                )
            ]
        if obj.get("subtype") == "completed":
            result = as_dict(body.get("result"))
            failed = "success" not in result and bool(result)
            detail = result.get("success") if not failed else (result.get("error") or result)
            text = detail if isinstance(detail, str) else json.dumps(detail) if detail else None
            return [
                AgentEvent(EventKind.TOOL_RESULT, tool_id=call_id, is_error=failed, text=clip(text))
            ]
        return []

    def _result(self, obj: dict[str, Any]) -> list[AgentEvent]:
        events: list[AgentEvent] = []
        raw = as_dict(obj.get("usage"))
        if raw:
            events.append(
                AgentEvent(
                    EventKind.USAGE,
                    usage=Usage(
                        input_tokens=as_int(raw.get("inputTokens", raw.get("input_tokens"))),
                        output_tokens=as_int(raw.get("outputTokens", raw.get("output_tokens"))),
                        cache_read_tokens=as_int(
                            raw.get("cacheReadTokens", raw.get("cache_read_input_tokens"))
                        ),
                        cache_write_tokens=as_int(
                            raw.get("cacheWriteTokens", raw.get("cache_creation_input_tokens"))
                        ),
                    ),
                )
            )
        data = pick(obj, ("subtype", "duration_ms", "duration_api_ms", "request_id"))
        events.append(
            AgentEvent(
                EventKind.RESULT,
                is_error=bool(obj.get("is_error")) or obj.get("subtype") not in (None, "success"),
                text=as_str(obj.get("result")),
                session_id=as_str(obj.get("session_id")),
                data=data,
            )
        )
        return events

    def classify(self, summary: RunSummary) -> Outcome:
        outcome = super().classify(summary)
        if outcome.kind is OutcomeKind.SUCCESS and summary.result is None:
            # A finished run always ends with ``result``: without it the stream was cut short.
            tail = summary.stderr_tail.strip().splitlines()
            message = tail[-1] if tail else "cursor-agent stopped before its result"
            return Outcome(OutcomeKind.CRASHED, message, exit_code=summary.exit_code)
        return outcome

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        if any_env(env, self.credential_env):
            return True
        from pathlib import Path  # not before the agent spawns (ado.config.loader)

        config_home = (
            Path(env["XDG_CONFIG_HOME"]) if env.get("XDG_CONFIG_HOME") else home(env) / ".config"
        )
        if (config_home / "cursor" / "auth.json").is_file():
            return True
        cli_config = home(env) / ".cursor" / "cli-config.json"
        try:
            return "authInfo" in json.loads(cli_config.read_text())
        except (OSError, ValueError, TypeError):
            return False


def _tool_body(tool_call: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    """``{"writeToolCall": {...}}`` → ``("write", {...})``; ``{"function": {...}}`` → its name."""
    for key, body in tool_call.items():
        if key == "function":
            fn = as_dict(body)
            arguments = fn.get("arguments")
            if isinstance(arguments, str):
                try:
                    arguments = json.loads(arguments)
                except ValueError:
                    arguments = {"arguments": arguments}
            return str(fn.get("name") or "function"), {"args": as_dict(arguments), **fn}
        if key.endswith("ToolCall"):
            return key.removesuffix("ToolCall"), as_dict(body)
    return "unknown", {}
