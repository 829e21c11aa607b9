"""What the scripted model server answers: behaviours, and the replies they produce.

A behaviour decides the answer to one model request. ``WriteFile`` spans two requests:
the first gets a tool call that writes the file with whatever write tool the agent
offers; the request that carries the tool's result gets the final text. The wire
modules (``wire_anthropic``, ``wire_openai``, ``wire_gemini``) render a ``Reply`` or a
``Failure`` in their own API's shape, always with the token usage in ``USAGE``.
"""

from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

__all__ = [
    "USAGE",
    "Behaviour",
    "Failure",
    "Hang",
    "QuotaExceeded",
    "RateLimit",
    "Reply",
    "ServerError",
    "Text",
    "ToolCall",
    "Turn",
    "Usage",
    "WriteFile",
    "WriteThenLimit",
]


@dataclass(frozen=True)
class Usage:
    """Tokens every reply reports, in each API's own usage fields."""

    input_tokens: int = 123
    output_tokens: int = 45

    @property
    def total_tokens(self) -> int:
        return self.input_tokens + self.output_tokens


USAGE = Usage()


@dataclass(frozen=True)
class Turn:
    """What the server needs to know about one parsed model request."""

    model: str
    stream: bool
    #: tool name -> names of its parameters, as the request declares them
    tools: dict[str, frozenset[str]]
    #: the id (or, for Gemini without ids, the name) of each tool result in the last message
    tool_results: tuple[str, ...] = ()


@dataclass(frozen=True)
class ToolCall:
    call_id: str
    name: str
    arguments: dict[str, Any]


@dataclass(frozen=True)
class Reply:
    """A successful answer: text, or one tool call."""

    text: str = ""
    tool_call: ToolCall | None = None


@dataclass(frozen=True)
class Failure:
    """An HTTP error answer, rendered per API (body shape, headers)."""

    status: int
    message: str | None = None
    retry_after_s: float | None = None
    rate_limit_headers: bool = False
    #: Google's ``QuotaFailure`` ``quotaId`` (``...PerDay...``, ``...PerMinute...``).
    quota_id: str | None = None
    #: The error ``code`` of OpenAI-shaped bodies (``quota_exceeded``).
    code: str | None = None


class Behaviour:
    """Base class: ``answer`` returns a Reply, a Failure, or None to hang."""

    def answer(self, turn: Turn, call_id: str) -> Reply | Failure | None:
        raise NotImplementedError

    def follow_up(self, turn: Turn) -> Reply | Failure:
        """The answer to the request carrying the result of the tool call we asked for."""
        return Reply(text="DONE")

    @property
    def is_failure(self) -> bool:
        return False


@dataclass(frozen=True)
class Text(Behaviour):
    text: str = "DONE"

    def answer(self, turn: Turn, call_id: str) -> Reply:
        return Reply(text=self.text)

    def follow_up(self, turn: Turn) -> Reply:
        return Reply(text=self.text)


@dataclass(frozen=True)
class WriteFile(Behaviour):
    """Ask the agent to write ``path`` (absolute, so every CLI accepts it) with ``content``."""

    path: str
    content: str = "hi"
    #: final text; default "DONE: wrote <file name>"
    done_text: str | None = None

    def answer(self, turn: Turn, call_id: str) -> Reply:
        name, arguments = write_tool_call(turn.tools, self.path, self.content)
        if name is None:
            return Reply(text=f"No write tool offered; cannot write {self.path}")
        return Reply(tool_call=ToolCall(call_id, name, arguments))

    def follow_up(self, turn: Turn) -> Reply | Failure:
        return Reply(text=self.done_text or f"DONE: wrote {PurePath(self.path).name}")


@dataclass(frozen=True)
class WriteThenLimit(WriteFile):
    """``WriteFile``, then a 429 where the final text would be: an agent stopped mid-task
    by its rate limit, after it changed a file."""

    retry_after_s: float = 1

    def follow_up(self, turn: Turn) -> Failure:
        return Failure(429, None, self.retry_after_s, rate_limit_headers=True)


@dataclass(frozen=True)
class RateLimit(Behaviour):
    """HTTP 429 with ``retry-after`` and ``x-ratelimit-*`` headers."""

    retry_after_s: float = 1
    message: str | None = None

    def answer(self, turn: Turn, call_id: str) -> Failure:
        return Failure(429, self.message, self.retry_after_s, rate_limit_headers=True)

    @property
    def is_failure(self) -> bool:
        return True


@dataclass(frozen=True)
class QuotaExceeded(Behaviour):
    """A quota error as each API states it (what gemini and copilot report as quota):

    - Google's API: 429 ``RESOURCE_EXHAUSTED`` with a ``QuotaFailure`` naming ``quota_id``
      (``GenerateRequestsPerDayPerProjectPerModel-FreeTier`` for a day's quota,
      ``GenerateRequestsPerMinutePerProjectPerModel-FreeTier`` for a minute's) and, with
      ``retry_after_s``, a ``RetryInfo``;
    - OpenAI-shaped APIs: ``status`` (402 for copilot's premium requests) with the error
      ``code`` (``quota_exceeded``).
    """

    quota_id: str | None = None
    status: int = 429
    code: str | None = None
    retry_after_s: float | None = None
    message: str | None = None

    def answer(self, turn: Turn, call_id: str) -> Failure:
        return Failure(
            self.status,
            self.message,
            self.retry_after_s,
            rate_limit_headers=self.status == 429,
            quota_id=self.quota_id,
            code=self.code,
        )

    @property
    def is_failure(self) -> bool:
        return True


@dataclass(frozen=True)
class ServerError(Behaviour):
    status: int = 500
    message: str | None = None

    def answer(self, turn: Turn, call_id: str) -> Failure:
        return Failure(self.status, self.message)

    @property
    def is_failure(self) -> bool:
        return True


@dataclass(frozen=True)
class Hang(Behaviour):
    """Never answer; the connection is dropped when the server stops."""

    _: None = field(default=None, repr=False)

    def answer(self, turn: Turn, call_id: str) -> None:
        return None

    @property
    def is_failure(self) -> bool:
        return True


def _shell_write(path: str, content: str) -> str:
    return f"printf '%s' {shlex.quote(content)} > {shlex.quote(path)}"


_PATH_KEYS = ("file_path", "filePath", "path", "absolute_path")
_CONTENT_KEYS = ("content", "file_text", "text", "contents")


def write_tool_call(
    tools: dict[str, frozenset[str]], path: str, content: str
) -> tuple[str | None, dict[str, Any]]:
    """Pick the request's file-writing tool and build its arguments.

    Known tools first (claude ``Write``, gemini ``write_file``, opencode ``write``, copilot
    ``create``), then any tool with a path and a content parameter, then a shell tool
    (codex ``exec_command``/``shell``/``shell_command``).
    """
    known = {
        "Write": {"file_path": path, "content": content},
        "write_file": {"file_path": path, "content": content},
        "write": {"filePath": path, "content": content},
        "create": {"path": path, "file_text": content},
    }
    for name, arguments in known.items():
        if name in tools:
            return name, arguments
    for name, params in tools.items():
        path_key = next((k for k in _PATH_KEYS if k in params), None)
        content_key = next((k for k in _CONTENT_KEYS if k in params), None)
        if path_key and content_key:
            return name, {path_key: path, content_key: content}
    command = _shell_write(path, content)
    if "exec_command" in tools:
        return "exec_command", {"cmd": command}
    if "shell_command" in tools:
        return "shell_command", {"command": command}
    if "shell" in tools:
        return "shell", {"command": ["bash", "-lc", command]}
    for name in ("run_shell_command", "bash", "Bash"):
        if name in tools:
            return name, {"command": command}
    return None, {}
