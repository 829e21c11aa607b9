"""Every error ADO raises on purpose.

Each carries the exit code the CLI uses and the HTTP status the API uses, plus a message
that tells the user what to do next. The CLI catches ``AdoError`` once; the API renders it
with one handler.

    AdoError                      exit 1   HTTP 500
    ├── ConfigError               exit 2   HTTP 400   file, line, key, expected, fix
    ├── UsageError                exit 2   HTTP 400
    │   ├── UnknownProviderError  exit 2   HTTP 404
    │   └── TaskNotCancellable    exit 2   HTTP 409   the task already finished
    ├── NotFoundError             exit 2   HTTP 404
    ├── NoProviderAvailable       exit 3   HTTP 503   earliest reset time
    ├── CostLimitError            exit 4   HTTP 402
    ├── TaskFailed                exit 1   HTTP 500
    ├── TaskCancelled             exit 130 HTTP 409
    └── StoreError                exit 1   HTTP 503
        └── StoreCorrupt          exit 2   HTTP 503   the SQLite file is not a database
"""

from __future__ import annotations

from datetime import datetime
from typing import ClassVar

__all__ = [
    "AdoError",
    "ConfigError",
    "CostLimitError",
    "NoProviderAvailable",
    "NotFoundError",
    "StoreCorrupt",
    "StoreError",
    "TaskCancelled",
    "TaskFailed",
    "TaskNotCancellable",
    "UnknownProviderError",
    "UsageError",
]


class AdoError(Exception):
    """Root of ADO's errors: a message for the user, an exit code and an HTTP status."""

    exit_code: ClassVar[int] = 1
    http_status: ClassVar[int] = 500
    code: ClassVar[str] = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    def __str__(self) -> str:
        if self.hint:
            return f"{self.message}\n  {self.hint}"
        return self.message


class ConfigError(AdoError):
    """The configuration file is missing, unreadable or invalid."""

    exit_code = 2
    http_status = 400
    code = "config_error"

    def __init__(
        self,
        message: str,
        *,
        file: str | None = None,
        line: int | None = None,
        key: str | None = None,
        expected: str | None = None,
        fix: str | None = None,
    ) -> None:
        super().__init__(message, hint=None)
        self.file = file
        self.line = line
        self.key = key
        self.expected = expected
        self.fix = fix

    def __str__(self) -> str:
        where = self.file or "configuration"
        if self.line:
            where = f"{where}:{self.line}"
        parts = [f"{where}: {self.key + ': ' if self.key else ''}{self.message}"]
        if self.expected:
            parts.append(f"  expected: {self.expected}")
        if self.fix:
            parts.append(f"  fix: {self.fix}")
        return "\n".join(parts)


class UsageError(AdoError):
    """The command or request itself is wrong (bad flag combination, bad value)."""

    exit_code = 2
    http_status = 400
    code = "usage_error"


class UnknownProviderError(UsageError):
    http_status = 404
    code = "unknown_provider"

    def __init__(self, provider: str, known: list[str]) -> None:
        super().__init__(
            f"Unknown provider {provider!r}.",
            hint=f"Known providers: {', '.join(sorted(known))}.",
        )
        self.provider = provider


class TaskNotCancellable(UsageError):
    """A cancel asked for a task that already finished."""

    http_status = 409
    code = "task_not_cancellable"

    def __init__(self, task_id: int, status: str) -> None:
        super().__init__(
            f"Task {task_id} is {status}; only running or queued tasks can be cancelled."
        )
        self.task_id = task_id
        self.status = status


class NotFoundError(AdoError):
    exit_code = 2
    http_status = 404
    code = "not_found"


class NoProviderAvailable(AdoError):
    """No (provider, access mode) pair can take the task right now."""

    exit_code = 3
    http_status = 503
    code = "no_provider_available"

    def __init__(
        self, message: str, *, earliest_reset: datetime | None = None, hint: str | None = None
    ) -> None:
        super().__init__(message, hint=hint)
        self.earliest_reset = earliest_reset


class CostLimitError(AdoError):
    """A cost limit (daily, per task, or a refused confirmation) stops the task."""

    exit_code = 4
    http_status = 402
    code = "cost_limit"


class TaskFailed(AdoError):
    code = "task_failed"


class TaskCancelled(AdoError):
    exit_code = 130
    http_status = 409
    code = "task_cancelled"


class StoreError(AdoError):
    """The database could not be opened, migrated or written."""

    http_status = 503
    code = "store_error"


class StoreCorrupt(StoreError):
    """The SQLite file is damaged, not a database, or a directory: the user must move it."""

    exit_code = 2
    code = "store_corrupt"
