"""Claude Code (``claude``): Anthropic's agent CLI.

Runs as ``claude -p PROMPT --output-format stream-json --verbose``. It prints ``system/init``,
``assistant`` / ``user`` messages, ``system/api_retry`` while it backs off, and one final
``result`` carrying the run's tokens and dollar cost. Subscriptions also print
``rate_limit_event`` lines with the window's reset time (``ado.providers.quota``), and
``isUsingOverage`` once claude bills extra usage past an exhausted window.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ado.providers._common import any_env, as_dict, as_int, as_str, clip, home, is_root, pick
from ado.providers.base import (
    AgentAdapter,
    Outcome,
    ParseState,
    Permission,
    RunRequest,
)
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.quota import claude_window, using_overage
from ado.vocab import OutcomeKind

if TYPE_CHECKING:
    from ado.providers.classify import RunSummary

__all__ = ["ClaudeCode"]

#: Tools granted for ``Permission.AUTO`` (edits are granted by ``acceptEdits``).
AUTO_TOOLS = (
    "Bash,Edit,MultiEdit,Write,NotebookEdit,Read,Glob,Grep,LS,TodoWrite,Task,WebFetch,WebSearch"
)
_FILE_TOOLS = {
    "Write": "file_path",
    "Edit": "file_path",
    "MultiEdit": "file_path",
    "NotebookEdit": "notebook_path",
}
_WEEKLY = ("seven_day", "seven_day_opus", "seven_day_sonnet", "weekly")


class ClaudeCode(AgentAdapter):
    id = "claude-code"
    display_name = "Claude Code"
    executable = "claude"
    install_hint = "npm install -g @anthropic-ai/claude-code"
    context_file = "CLAUDE.md"
    supports_resume = True
    env_passthrough = ("ANTHROPIC_*", "CLAUDE_*", "IS_SANDBOX", "AWS_*", "CLOUD_ML_REGION")
    api_key_env = "ANTHROPIC_API_KEY"
    credential_env = ("ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "CLAUDE_CODE_OAUTH_TOKEN")
    login_hint = "not logged in: run `claude` once and /login, or set ANTHROPIC_API_KEY"
    base_url_env = "ANTHROPIC_BASE_URL"
    default_model = "claude-sonnet-4-5"

    def build_args(self, request: RunRequest) -> list[str]:
        # The prompt goes right after -p: a variadic flag later on cannot swallow it.
        args = ["-p", request.prompt, "--output-format", "stream-json", "--verbose"]
        if request.model:
            args += ["--model", request.model]
        if request.max_turns:
            args += ["--max-turns", str(request.max_turns)]
        if request.resume_session_id:
            args += ["--resume", request.resume_session_id]
        return args + self._permission_args(request)

    def _permission_args(self, request: RunRequest) -> list[str]:
        if request.permission_mode:
            return ["--permission-mode", request.permission_mode]
        match request.permission:
            case Permission.BYPASS:
                return ["--dangerously-skip-permissions"]
            case Permission.AUTO:
                return ["--permission-mode", "acceptEdits", "--allowedTools", AUTO_TOOLS]
            case Permission.EDITS:
                return ["--permission-mode", "acceptEdits", "--disallowedTools", "Bash"]
            case Permission.READ_ONLY:
                return ["--permission-mode", "plan"]

    def build_env(self, request: RunRequest) -> dict[str, str]:
        env = {"CLAUDE_CODE_MAX_RETRIES": "0", "DISABLE_AUTOUPDATER": "1"}
        bypass = (request.permission_mode or "") == "bypassPermissions" or (
            not request.permission_mode and request.permission is Permission.BYPASS
        )
        if bypass and is_root():
            env["IS_SANDBOX"] = "1"  # claude refuses to bypass permissions as root otherwise
        return env

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        kind = obj.get("type")
        if kind == "system":
            return self._system(obj, state)
        if kind == "assistant":
            return self._assistant(obj)
        if kind == "user":
            return self._tool_results(obj)
        if kind == "rate_limit_event":
            info = as_dict(obj.get("rate_limit_info"))
            return [*claude_window(info), *self._rate_limit(info)]
        if kind == "result":
            return self._result(obj, state)
        return ()

    def _system(self, obj: dict[str, Any], state: ParseState) -> list[AgentEvent]:
        subtype = obj.get("subtype")
        if subtype == "init":
            state.data["model"] = obj.get("model")
            state.data["api_key_source"] = obj.get("apiKeySource")
            data = {
                k: obj[k]
                for k in ("model", "cwd", "permissionMode", "apiKeySource", "claude_code_version")
                if obj.get(k)
            }
            return [
                AgentEvent(EventKind.SESSION_STARTED, session_id=obj.get("session_id"), data=data)
            ]
        if subtype == "api_retry":
            status = as_int(obj.get("error_status")) or None
            data = pick(obj, ("attempt", "max_retries", "retry_delay_ms", "error"))
            text = (
                f"API error {status or obj.get('error')}, retrying (attempt {obj.get('attempt')})"
            )
            if status == 429 or obj.get("error") == "rate_limit":
                return [
                    AgentEvent(
                        EventKind.RATE_LIMIT, text=text, retrying=True, status_code=429, data=data
                    )
                ]
            return [
                AgentEvent(EventKind.ERROR, text=text, status_code=status, retrying=True, data=data)
            ]
        return []

    def _assistant(self, obj: dict[str, Any]) -> list[AgentEvent]:
        message = as_dict(obj.get("message"))
        events: list[AgentEvent] = []
        for block in message.get("content") or []:
            block = as_dict(block)
            if block.get("type") == "text" and block.get("text"):
                # A synthetic message carrying an API failure is an error, not an answer.
                kind = EventKind.ERROR if obj.get("error") else EventKind.TEXT
                data = {"error": obj["error"]} if obj.get("error") else {}
                events.append(AgentEvent(kind, text=block["text"], data=data))
            elif block.get("type") == "tool_use":
                name = str(block.get("name") or "")
                tool_input = as_dict(block.get("input"))
                path = as_str(tool_input.get(_FILE_TOOLS.get(name, "")))
                events.append(
                    AgentEvent(
                        EventKind.TOOL_CALL,
                        tool_id=block.get("id"),
                        tool_name=name,
                        tool_input=tool_input,
                        files=[path] if path else None,
                    )
                )
        return events

    def _tool_results(self, obj: dict[str, Any]) -> list[AgentEvent]:
        content = as_dict(obj.get("message")).get("content")
        if not isinstance(content, list):
            return []
        return [
            AgentEvent(
                EventKind.TOOL_RESULT,
                tool_id=block.get("tool_use_id"),
                is_error=bool(block.get("is_error")),
                text=clip(block.get("content")),
            )
            for block in map(as_dict, content)
            if block.get("type") == "tool_result"
        ]

    def _rate_limit(self, info: dict[str, Any]) -> list[AgentEvent]:
        status = info.get("status")
        if status not in ("allowed_warning", "rejected"):
            return []
        if using_overage(info):
            # The window is exhausted but claude goes on, billed as extra usage: not a limit
            # (stopping here would kill a working run); the reading marks the spend as real.
            return []
        resets_at = as_int(info.get("resetsAt"))
        data = {"status": status}
        data.update(pick(info, ("rateLimitType", "utilization", "overageStatus")))
        return [
            AgentEvent(
                EventKind.RATE_LIMIT,
                text=f"{info.get('rateLimitType') or 'usage'} limit {status}",
                reset_at=datetime.fromtimestamp(resets_at, UTC) if resets_at else None,
                retrying=False,
                data=data,
            )
        ]

    def _result(self, obj: dict[str, Any], state: ParseState) -> list[AgentEvent]:
        raw = as_dict(obj.get("usage"))
        model_usage = as_dict(obj.get("modelUsage"))
        cost = obj.get("total_cost_usd")
        usage = Usage(
            input_tokens=as_int(raw.get("input_tokens")),
            output_tokens=as_int(raw.get("output_tokens")),
            cache_read_tokens=as_int(raw.get("cache_read_input_tokens")),
            cache_write_tokens=as_int(raw.get("cache_creation_input_tokens")),
            cost_usd=float(cost) if isinstance(cost, int | float) else None,
            model=next(iter(model_usage), None) or state.data.get("model"),
        )
        text = obj.get("result")
        if not text and obj.get("errors"):
            text = "; ".join(map(str, obj["errors"]))
        data = pick(obj, ("subtype", "num_turns", "duration_ms", "duration_api_ms", "stop_reason"))
        return [
            AgentEvent(EventKind.USAGE, usage=usage),
            AgentEvent(
                EventKind.RESULT,
                is_error=bool(obj.get("is_error")),
                status_code=as_int(obj.get("api_error_status")) or None,
                text=as_str(text),
                session_id=obj.get("session_id"),
                data=data,
            ),
        ]

    def api_key_source(
        self, request: RunRequest, env: Mapping[str, str], state: ParseState
    ) -> str | None:
        """Its init event's ``apiKeySource``: ``none`` when logged in with a subscription."""
        source = state.data.get("api_key_source")
        return f"apiKeySource: {source}" if isinstance(source, str) and source != "none" else None

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        if any_env(env, self.credential_env):
            return True
        config_dir = env.get("CLAUDE_CONFIG_DIR")
        base = Path(config_dir) if config_dir else home(env) / ".claude"
        return (base / ".credentials.json").is_file()

    def classify(self, summary: RunSummary) -> Outcome:
        outcome = super().classify(summary)
        weekly = any(
            e.data.get("status") == "rejected" and e.data.get("rateLimitType") in _WEEKLY
            for e in summary.rate_limits
        )
        if outcome.kind is OutcomeKind.RATE_LIMITED and weekly:
            outcome.kind = OutcomeKind.QUOTA_EXHAUSTED
        return outcome
