"""Codex (``codex``): OpenAI's agent CLI.

Runs as ``codex exec --json PROMPT``. It prints ``thread.started``, ``item.started`` /
``item.completed`` for commands, file changes and messages, ``turn.completed`` with the
turn's tokens (no cost), ``turn.failed`` when it gives up, and ``error`` lines, among them
"Reconnecting... n/5 (…)" while it retries by itself.

Codex only lets a *custom* model provider switch its retries off (the built-in ``openai``
provider cannot be overridden: ``-c model_providers.openai.…`` stops codex at start-up).
So with an API base URL, ADO declares its own provider with ``request_max_retries = 0``;
otherwise the run loop stops codex at its first "Reconnecting… 429".
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ado.providers._common import any_env, as_dict, as_int, as_str, clip, home, status_in_text
from ado.providers.base import AgentAdapter, ParseState, Permission, RunRequest
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.providers.resets import looks_rate_limited

if TYPE_CHECKING:
    from datetime import datetime

__all__ = ["Codex"]

#: The provider id ADO declares when a run names its own base URL.
ADO_PROVIDER = "ado"


class Codex(AgentAdapter):
    id = "codex"
    display_name = "Codex"
    executable = "codex"
    install_hint = "npm install -g @openai/codex"
    context_file = "AGENTS.md"
    supports_resume = True
    env_passthrough = ("OPENAI_*", "CODEX_*", "AZURE_OPENAI_*")
    api_key_env = "OPENAI_API_KEY"
    credential_env = ("OPENAI_API_KEY", "CODEX_API_KEY", "AZURE_OPENAI_API_KEY")
    login_hint = "not logged in: run `codex login`, or set OPENAI_API_KEY"
    #: Codex ignores OPENAI_BASE_URL: a base URL becomes a provider declared in ``build_args``.
    base_url_env = None
    default_model = "gpt-5-codex"
    stderr_noise = (
        "Reading additional input from stdin",
        "WARNING: proceeding, even though we could not create PATH aliases",
    )

    def build_args(self, request: RunRequest) -> list[str]:
        args = ["exec", "--json", "--skip-git-repo-check"]
        if request.model:
            args += ["-m", request.model]
        args += self._permission_args(request.permission)
        if request.base_url:
            args += _provider_overrides(request.base_url, self.api_key_env or "OPENAI_API_KEY")
        if request.resume_session_id:
            args += ["resume", request.resume_session_id]
        return [*args, request.prompt]

    @staticmethod
    def _permission_args(permission: Permission) -> list[str]:
        never = ["-c", 'approval_policy="never"']
        match permission:
            case Permission.BYPASS:
                return ["--dangerously-bypass-approvals-and-sandbox"]
            case Permission.AUTO | Permission.EDITS:
                # Codex edits files through commands: the sandbox keeps both in the workspace.
                return ["-s", "workspace-write", *never]
            case Permission.READ_ONLY:
                return ["-s", "read-only", *never]

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        kind = obj.get("type")
        if kind == "thread.started":
            state.data["thread_id"] = obj.get("thread_id")
            return [AgentEvent(EventKind.SESSION_STARTED, session_id=obj.get("thread_id"))]
        if kind == "item.started":
            return self._item_started(as_dict(obj.get("item")))
        if kind == "item.completed":
            return self._item_completed(as_dict(obj.get("item")), state)
        if kind == "turn.completed":
            return self._turn_completed(as_dict(obj.get("usage")), state)
        if kind == "turn.failed":
            message = as_str(as_dict(obj.get("error")).get("message")) or "turn failed"
            return [
                AgentEvent(
                    EventKind.RESULT,
                    is_error=True,
                    text=message,
                    status_code=status_in_text(message),
                )
            ]
        if kind == "error":
            return [_error_event(str(obj.get("message") or "error"))]
        return ()

    def _item_started(self, item: dict[str, Any]) -> list[AgentEvent]:
        call = _tool_call(item)
        return [call] if call is not None else []

    def _item_completed(self, item: dict[str, Any], state: ParseState) -> list[AgentEvent]:
        item_type = item.get("type")
        if item_type == "agent_message":
            state.data["last_text"] = item.get("text")
            return [AgentEvent(EventKind.TEXT, text=as_str(item.get("text")))]
        if item_type == "error":
            return [AgentEvent(EventKind.ERROR, text=as_str(item.get("message")))]
        events: list[AgentEvent] = []
        if item_type == "file_change" and (call := _tool_call(item)):
            events.append(call)  # reported once, completed: the call and its result together
        if item_type in ("command_execution", "file_change", "mcp_tool_call", "web_search"):
            exit_code = item.get("exit_code")
            failed = item.get("status") == "failed" or (
                isinstance(exit_code, int) and exit_code != 0
            )
            output = item.get("aggregated_output") or item.get("result") or item.get("error")
            if output is not None and not isinstance(output, str):
                output = json.dumps(output)
            events.append(
                AgentEvent(
                    EventKind.TOOL_RESULT,
                    tool_id=item.get("id"),
                    is_error=failed,
                    text=clip(output),
                    data={"exitCode": exit_code} if exit_code is not None else {},
                )
            )
        return events

    def _turn_completed(self, raw: dict[str, Any], state: ParseState) -> list[AgentEvent]:
        # OpenAI counts cached input inside input_tokens: split it out so totals add up.
        cached = as_int(raw.get("cached_input_tokens"))
        cache_write = as_int(raw.get("cache_write_input_tokens"))
        usage = Usage(
            input_tokens=max(0, as_int(raw.get("input_tokens")) - cached - cache_write),
            output_tokens=as_int(raw.get("output_tokens")),
            cache_read_tokens=cached,
            cache_write_tokens=cache_write,
        )
        text = as_str(state.data.get("last_text"))
        return [
            AgentEvent(EventKind.USAGE, usage=usage),
            AgentEvent(EventKind.RESULT, is_error=False, text=text),
        ]

    def closing_events(
        self, request: RunRequest, env: Mapping[str, str], state: ParseState
    ) -> Iterable[AgentEvent]:
        """The usage windows codex wrote to its session log (``ado.providers.quota``)."""
        from ado.providers.quota import codex_session_windows

        thread_id = state.data.get("thread_id")
        if not isinstance(thread_id, str):
            return []
        return codex_session_windows(_codex_home(env), thread_id)

    def quota_snapshot(self, env: Mapping[str, str]) -> tuple[datetime, list[AgentEvent]] | None:
        """The newest snapshot in codex's session logs (any run of this ``CODEX_HOME``)."""
        from ado.providers.quota import codex_latest_windows

        return codex_latest_windows(_codex_home(env))

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        key = _config_env_key(env)
        if key is not None:  # a model provider of its own config: only its key logs it in
            return any_env(env, (key,))
        if any_env(env, self.credential_env):
            return True
        return (_codex_home(env) / "auth.json").is_file()

    def api_key_source(
        self, request: RunRequest, env: Mapping[str, str], state: ParseState
    ) -> str | None:
        """Codex's auth mode: its config's model provider with an ``env_key``, a
        ``CODEX_API_KEY``, or an API-key login in ``auth.json`` all bill by the key."""
        if request.base_url:  # ADO's own provider for an api access mode
            return f"{self.api_key_env} (api access mode)"
        key = _config_env_key(env)
        if key is not None and env.get(key):
            return f"env_key {key} of its config's model provider"
        if env.get("CODEX_API_KEY"):
            return "CODEX_API_KEY"
        try:
            auth = json.loads((_codex_home(env) / "auth.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        auth = as_dict(auth)
        if auth.get("auth_mode") == "apikey" or (
            auth.get("OPENAI_API_KEY") and not auth.get("tokens")
        ):
            return "auth.json: logged in with an API key"
        return None

    def credential_vars(self, env: Mapping[str, str]) -> tuple[str, ...]:
        """Its own variables, and the ``env_key`` of the model provider its config selects
        (``model_provider = "x"`` with ``[model_providers.x] env_key = "MY_KEY"``)."""
        key = _config_env_key(env)
        return (*self.credential_env, key) if key else self.credential_env


def _codex_home(env: Mapping[str, str]) -> Path:
    return Path(env["CODEX_HOME"]) if env.get("CODEX_HOME") else home(env) / ".codex"


def _config_env_key(env: Mapping[str, str]) -> str | None:
    """The ``env_key`` of the model provider ``$CODEX_HOME/config.toml`` selects, if any."""
    try:
        text = (_codex_home(env) / "config.toml").read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return None
    import tomllib  # only for a file to read (ado status asks every adapter)

    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError:
        return None
    provider = config.get("model_provider")
    if not isinstance(provider, str):
        return None
    table = as_dict(as_dict(config.get("model_providers")).get(provider))
    key = table.get("env_key")
    return key if isinstance(key, str) and key else None


def _provider_overrides(base_url: str, key_env: str) -> list[str]:
    table = f"model_providers.{ADO_PROVIDER}"
    settings = {
        "name": ADO_PROVIDER,
        "base_url": base_url,
        "env_key": key_env,
        "wire_api": "responses",
        "request_max_retries": 0,
        "stream_max_retries": 0,
    }
    args = ["-c", f"model_provider={json.dumps(ADO_PROVIDER)}"]
    for key, value in settings.items():
        args += ["-c", f"{table}.{key}={json.dumps(value)}"]
    return args


def _tool_call(item: dict[str, Any]) -> AgentEvent | None:
    item_type = item.get("type")
    item_id = item.get("id")
    if item_type == "command_execution":
        return AgentEvent(
            EventKind.TOOL_CALL,
            tool_id=item_id,
            tool_name="shell",
            tool_input={"command": item.get("command")},
        )
    if item_type == "file_change":
        changes = [as_dict(c) for c in item.get("changes") or []]
        files = [str(c["path"]) for c in changes if c.get("path")]
        return AgentEvent(
            EventKind.TOOL_CALL,
            tool_id=item_id,
            tool_name="apply_patch",
            tool_input={"changes": changes},
            files=files or None,
        )
    if item_type == "mcp_tool_call":
        return AgentEvent(
            EventKind.TOOL_CALL,
            tool_id=item_id,
            tool_name=f"{item.get('server')}.{item.get('tool')}",
            tool_input=as_dict(item.get("arguments")),
        )
    if item_type == "web_search":
        return AgentEvent(
            EventKind.TOOL_CALL,
            tool_id=item_id,
            tool_name="web_search",
            tool_input={"query": item.get("query")},
        )
    return None


def _error_event(message: str) -> AgentEvent:
    status = status_in_text(message)
    if message.startswith("Reconnecting") and (status == 429 or looks_rate_limited(message)):
        return AgentEvent(EventKind.RATE_LIMIT, text=message, retrying=True, status_code=status)
    if message.startswith("Reconnecting"):
        # Network trouble or a 5xx: codex retries on its own; worth showing, not stopping.
        return AgentEvent(EventKind.LOG, text=message, data={"retrying": True})
    return AgentEvent(EventKind.ERROR, text=message, status_code=status)
