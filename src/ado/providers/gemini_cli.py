"""Gemini CLI (``gemini``): Google's agent CLI.

Runs as ``gemini -p PROMPT --output-format stream-json``. It prints ``init``, ``message``
(assistant text arrives in ``delta`` chunks), ``tool_use`` / ``tool_result`` and one final
``result`` with token stats (no cost). Its own retries show only on stderr:
"Attempt N failed: … Retrying after …ms". Its quota errors name their window (per day, per
minute): readings for the quota ledger (``ado.providers.quota.gemini_windows``).

Retries are switched off with the setting ``general.maxAttempts: 1``, handed over in a small
system-settings file named by ``GEMINI_CLI_SYSTEM_SETTINGS_PATH`` (see ``settings_file``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
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
from ado.providers.quota import gemini_windows
from ado.providers.resets import looks_rate_limited, parse_reset
from ado.vocab import OutcomeKind

if TYPE_CHECKING:
    from ado.providers.classify import RunSummary

__all__ = ["GeminiCli", "settings_file"]

SETTINGS_ENV = "GEMINI_CLI_SYSTEM_SETTINGS_PATH"
#: Settings ADO imposes on every run: one attempt per request, so a 429 surfaces at once.
NO_RETRY_SETTINGS: dict[str, Any] = {"general": {"maxAttempts": 1}}
_FILE_TOOLS = ("write_file", "replace", "edit")
# Compiled on first use (``re``'s cache), not when the adapter loads (``ado status``).
_ATTEMPT = r"^Attempt \d+ failed"
_RETRYING = r"Retrying after (\d+)\s*ms"
_API_CODE = r'"code"\s*:\s*([45]\d\d)\b'
EXIT_AUTH = 41
EXIT_CONFIG = 52


class GeminiCli(AgentAdapter):
    id = "gemini-cli"
    display_name = "Gemini CLI"
    executable = "gemini"
    install_hint = "npm install -g @google/gemini-cli"
    context_file = "GEMINI.md"
    supports_resume = True
    env_passthrough = ("GEMINI_*", "GOOGLE_*", "CLOUDSDK_*")
    api_key_env = "GEMINI_API_KEY"
    credential_env = ("GEMINI_API_KEY", "GOOGLE_API_KEY", "GOOGLE_APPLICATION_CREDENTIALS")
    login_hint = "not logged in: run `gemini` once and sign in, or set GEMINI_API_KEY"
    base_url_env = "GOOGLE_GEMINI_BASE_URL"
    default_model = "gemini-2.5-pro"
    stderr_noise = (
        "Warning: Basic terminal detected",
        "Warning: 256-color support not detected",
        "Warning: True color (24-bit) support not detected",
        "YOLO mode is enabled",
        "Ripgrep is not available",
        "[STARTUP]",
    )

    def build_args(self, request: RunRequest) -> list[str]:
        args = ["-p", request.prompt, "--output-format", "stream-json", "--skip-trust"]
        if request.model:
            args += ["-m", request.model]
        if request.resume_session_id:
            args += ["--resume", request.resume_session_id]
        mode = {
            Permission.BYPASS: "yolo",
            Permission.AUTO: "yolo",
            Permission.EDITS: "auto_edit",
            Permission.READ_ONLY: "default",  # non-interactive: tools needing approval are off
        }[request.permission]
        return [*args, "--approval-mode", mode]

    def build_env(self, request: RunRequest) -> dict[str, str]:
        if os.environ.get(SETTINGS_ENV) or SETTINGS_ENV in request.extra_env:
            return {}  # the user's own system settings win
        settings: dict[str, Any] = json.loads(json.dumps(NO_RETRY_SETTINGS))
        if request.api_key:  # else gemini exits 41 "Invalid auth method selected"
            settings["security"] = {"auth": {"selectedType": "gemini-api-key"}}
        return {SETTINGS_ENV: str(settings_file(settings))}

    def parse_line(self, obj: dict[str, Any], state: ParseState) -> Iterable[AgentEvent]:
        kind = obj.get("type")
        if kind == "init":
            state.data["model"] = obj.get("model")
            return [
                AgentEvent(
                    EventKind.SESSION_STARTED,
                    session_id=obj.get("session_id"),
                    data={"model": obj.get("model")} if obj.get("model") else {},
                )
            ]
        if kind == "message" and obj.get("role") == "assistant":
            content = str(obj.get("content") or "")
            state.data["text"] = (state.data.get("text", "") if obj.get("delta") else "") + content
            return [AgentEvent(EventKind.TEXT, text=content)] if content else []
        if kind == "tool_use":
            state.data["text"] = ""
            params = as_dict(obj.get("parameters"))
            name = str(obj.get("tool_name") or "")
            path = as_str(params.get("file_path")) if name in _FILE_TOOLS else None
            return [
                AgentEvent(
                    EventKind.TOOL_CALL,
                    tool_id=obj.get("tool_id"),
                    tool_name=name,
                    tool_input=params,
                    files=[path] if path else None,
                )
            ]
        if kind == "tool_result":
            error = as_dict(obj.get("error"))
            return [
                AgentEvent(
                    EventKind.TOOL_RESULT,
                    tool_id=obj.get("tool_id"),
                    is_error=obj.get("status") != "success",
                    text=clip(obj.get("output") or error.get("message")),
                )
            ]
        if kind == "error":
            text = as_str(obj.get("message"))
            if obj.get("severity") == "warning":
                return [AgentEvent(EventKind.LOG, text=text)]
            return [AgentEvent(EventKind.ERROR, text=text), *gemini_windows(text or "", _now())]
        if kind == "result":
            return self._result(obj, state)
        return ()

    def _result(self, obj: dict[str, Any], state: ParseState) -> list[AgentEvent]:
        stats = as_dict(obj.get("stats"))
        models = as_dict(stats.get("models"))
        cached = as_int(stats.get("cached"))
        fresh = stats["input"] if "input" in stats else as_int(stats.get("input_tokens")) - cached
        usage = Usage(
            input_tokens=max(0, as_int(fresh)),
            output_tokens=as_int(stats.get("output_tokens")),
            cache_read_tokens=cached,
            model=next(iter(models)) if len(models) == 1 else state.data.get("model"),
        )
        error = as_dict(obj.get("error"))
        is_error = obj.get("status") != "success"
        text = as_str(error.get("message")) if is_error else as_str(state.data.get("text"))
        data = pick(stats, ("duration_ms", "tool_calls"))
        status = _api_error_status(text) if is_error else None
        # A quota error names its window; an answer that quotes one is work, not a reading.
        readings = gemini_windows(text or "", _now()) if is_error else []
        if readings:  # a quota error (HTTP 429): a limit, until the window's reset
            first = (text or "").strip().splitlines()[0]
            readings.append(
                AgentEvent(
                    EventKind.RATE_LIMIT,
                    text=first,
                    status_code=429,
                    reset_at=readings[0].reset_at,
                    data={"window": readings[0].data["window"]},
                )
            )
        return [
            *readings,
            AgentEvent(EventKind.USAGE, usage=usage),
            AgentEvent(
                EventKind.RESULT, is_error=is_error, text=text, status_code=status, data=data
            ),
        ]

    def parse_stderr_line(self, line: str, state: ParseState) -> Iterable[AgentEvent]:
        # "Attempt 1 failed: <error>" then, maybe on a later line, "… Retrying after 5791ms..."
        if re.match(_ATTEMPT, line, re.IGNORECASE):
            state.data["attempt"] = line
        elif "attempt" in state.data and not line.startswith("["):
            state.data["attempt"] += "\n" + line
        if "Max attempts reached" in line:
            state.data.pop("attempt", None)
        if not (match := re.search(_RETRYING, line, re.IGNORECASE)) or "attempt" not in state.data:
            return ()
        failure = state.data.pop("attempt")
        if not looks_rate_limited(failure):
            return ()  # a transient failure: let gemini retry it
        now = _now()
        return [
            *gemini_windows(failure, now),
            AgentEvent(
                EventKind.RATE_LIMIT,
                text=failure.splitlines()[0],
                retrying=True,
                reset_at=parse_reset(failure, now),
                data={"retryDelayMs": int(match.group(1))},
            ),
        ]

    def login_state(self, env: Mapping[str, str]) -> bool | None:
        if any_env(env, self.credential_env):
            return True
        return (home(env) / ".gemini" / "oauth_creds.json").is_file()

    def classify(self, summary: RunSummary) -> Outcome:
        outcome = super().classify(summary)
        if summary.exit_code == EXIT_AUTH and outcome.kind is not OutcomeKind.CANCELLED:
            message = outcome.message or "gemini is not logged in"
            return Outcome(OutcomeKind.AUTH_MISSING, message, exit_code=summary.exit_code)
        return outcome


def _now() -> datetime:
    return datetime.now(UTC)


def _api_error_status(message: str | None) -> int | None:
    """The HTTP status in gemini's ``[API Error: {"error":{"code":500,...}}]``."""
    match = re.search(_API_CODE, message or "")
    return int(match.group(1)) if match else None


def _secure_settings_dir() -> Path:
    """A directory gemini accepts a system-settings file from.

    gemini ignores the file ("Parent directory ... is insecure") when any parent directory is
    writable by group or others — as /tmp is — so the file lives under the user's cache
    directory unless that path is not secure either, then under ADO's state directory.
    """
    candidates = [
        Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ado" / "gemini",
        Path.home() / ".ado" / "gemini",
        Path(tempfile.gettempdir()) / f"ado-{os.getuid()}" / "gemini",
    ]
    for candidate in candidates:
        if _owner_only_parents(candidate):
            return candidate
    return candidates[0]


def _owner_only_parents(path: Path) -> bool:
    for parent in path.parents:
        try:
            mode = parent.stat().st_mode
        except OSError:
            continue  # not created yet: created 0700 below
        if mode & 0o022:
            return False
    return True


def settings_file(settings: Mapping[str, Any], directory: Path | None = None) -> Path:
    """A system-settings file holding ``settings``, written once per distinct content."""
    text = json.dumps(settings, sort_keys=True, indent=2)
    import hashlib  # here: ado status loads every adapter, and OpenSSL costs ~5 ms

    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    directory = directory or _secure_settings_dir()
    path = directory / f"system-settings-{digest}.json"
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        tmp = path.with_suffix(f".{os.getpid()}.tmp")
        tmp.write_text(text)
        tmp.replace(path)
    return path
