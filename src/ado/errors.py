"""Every error ADO raises on purpose.

Each carries the exit code the CLI uses and the HTTP status the API uses, plus a message
that tells the user what to do next. The CLI catches ``AdoError`` once; the API renders it
with one handler (``ado.api.errors``), in one JSON shape.

    AdoError                      exit 1   HTTP 500
    ├── ConfigError               exit 2   HTTP 400   file, line, key, expected, fix
    ├── UsageError                exit 2   HTTP 400
    │   ├── UnknownProviderError  exit 2   HTTP 404   (422 naming the request field)
    │   └── TaskNotCancellable    exit 2   HTTP 409   the task already finished
    ├── NotFoundError             exit 2   HTTP 404
    │   └── TaskNotFound          exit 2   HTTP 404   task id
    ├── NoProviderAvailable       exit 3   HTTP 503   earliest reset time
    ├── CostLimitError            exit 4   HTTP 402
    ├── TaskFailed                exit 1   HTTP 500
    ├── TaskCancelled             exit 130 HTTP 409
    ├── TaskDisowned              exit 1   HTTP 409   the task is no longer this process's
    ├── StoreError                exit 1   HTTP 503
    │   ├── StoreCorrupt          exit 2   HTTP 503   the SQLite file is not a database
    │   └── StoreUnavailable      exit 1   HTTP 503   PostgreSQL unreachable: a retry may do
    └── ApiError                  exit 1   HTTP any  a refusal of the API: status, code,
                                                      field details, headers

``http_status`` and ``code`` are class attributes that an instance may override (an
``UnknownProviderError`` about a request field is a 422; an ``ApiError`` carries its own).
``details`` are (field, message) pairs, the field a dotted camelCase path.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import ClassVar

__all__ = [
    "AdoError",
    "ApiError",
    "ConfigError",
    "CostLimitError",
    "NoProviderAvailable",
    "NotFoundError",
    "StoreCorrupt",
    "StoreError",
    "StoreUnavailable",
    "TaskCancelled",
    "TaskDisowned",
    "TaskFailed",
    "TaskNotCancellable",
    "TaskNotFound",
    "UnknownProviderError",
    "UsageError",
]


class AdoError(Exception):
    """Root of ADO's errors: a message for the user, an exit code and an HTTP status."""

    exit_code: ClassVar[int] = 1
    http_status: int = 500
    code: str = "error"

    def __init__(self, message: str, *, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint

    @property
    def details(self) -> list[tuple[str | None, str]]:
        """(field, message) pairs for the API's error body: none unless a field is known."""
        return []

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

    @property
    def details(self) -> list[tuple[str | None, str]]:
        return [(self.key, self.message)] if self.key else []

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
    """A provider id that is not registered or not configured; suggests the closest one.

    ``field`` names the request field that held it (``providers.1``): a 422 then, a 404 for
    a path that names no provider."""

    http_status = 404
    code = "not_found"

    def __init__(self, provider: str, known: Iterable[str], *, field: str | None = None) -> None:
        import difflib

        names = sorted(known)
        close = difflib.get_close_matches(provider, names, n=1, cutoff=0.5)
        listed = ", ".join(names) or "none are configured"
        hint = f"Did you mean {close[0]!r}? " if close else ""
        super().__init__(f"Unknown provider {provider!r}.", hint=f"{hint}Known: {listed}.")
        self.provider = provider
        self.suggestion = close[0] if close else None
        self.field = field
        if field is not None:
            self.http_status, self.code = 422, "validation_error"

    @property
    def details(self) -> list[tuple[str | None, str]]:
        return [(self.field, str(self).replace("\n  ", " "))] if self.field else []


class TaskNotCancellable(UsageError):
    """A cancel asked for a task that already finished."""

    http_status = 409
    code = "task_not_cancellable"

    def __init__(self, task_id: int, status: str) -> None:
        super().__init__(
            f"Task {task_id} is {status}; only queued, running or parked tasks can be cancelled."
        )
        self.task_id = task_id
        self.status = status


class NotFoundError(AdoError):
    """Something named by id or name (a setting, a token, an endpoint) does not exist."""

    exit_code = 2
    http_status = 404
    code = "not_found"


class TaskNotFound(NotFoundError):
    """No task has this id."""

    def __init__(self, task_id: int | str, *, option: str | None = None) -> None:
        """``option``: the command-line option that named it (``--resume``)."""
        where = f"{option} {task_id}: t" if option else "T"
        super().__init__(
            f"{where}here is no task {task_id}.", hint="`ado tasks list` shows the ids."
        )
        self.task_id = task_id


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
    """The task's agent failed: its own error, a crash or a timeout, on every pair tried."""

    code = "task_failed"


class TaskCancelled(AdoError):
    """The task was cancelled (Ctrl-C, ``ado tasks cancel``, ``POST .../cancel``)."""

    exit_code = 130
    http_status = 409
    code = "task_cancelled"


class TaskDisowned(AdoError):
    """A write for a task this process no longer runs, refused: its pool was found lost
    (``ado.store.registry``) and the task interrupted, or re-queued for another pool. The
    runner stops its agent and writes nothing more for the task."""

    http_status = 409
    code = "task_disowned"

    def __init__(self, task_id: int) -> None:
        super().__init__(
            f"task {task_id} is no longer this process's: its worker pool was taken as lost"
            " and the task interrupted or re-queued"
        )
        self.task_id = task_id


class StoreError(AdoError):
    """The database could not be opened, migrated or written."""

    http_status = 503
    code = "store_error"


class StoreCorrupt(StoreError):
    """The SQLite file is damaged, not a database, or a directory: the user must move it."""

    exit_code = 2
    code = "store_corrupt"


class StoreUnavailable(StoreError):
    """The database cannot be reached right now (refused, or the connection was lost): the
    same write may succeed once it is back (``ado.orchestrator.recorder`` retries events)."""

    code = "store_unavailable"


class ApiError(AdoError):
    """A refusal of the API that no other error names: its status, code, message and the
    fields at fault (``ApiError.invalid`` for a 422 on one field)."""

    #: The code of each status an ``ApiError`` (or Starlette) answers with.
    CODES: ClassVar[dict[int, str]] = {
        400: "bad_request",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "payload_too_large",
        415: "unsupported_media_type",
        422: "validation_error",
        429: "rate_limited",
        500: "internal_error",
        503: "unavailable",
    }

    def __init__(
        self,
        status: int,
        message: str,
        *,
        code: str | None = None,
        details: Sequence[tuple[str | None, str]] = (),
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.http_status = status
        self.code = code or self.CODES.get(status, "error")
        self._details = list(details)
        self.headers = headers

    @property
    def status(self) -> int:
        return self.http_status

    @property
    def details(self) -> list[tuple[str | None, str]]:
        return self._details

    @classmethod
    def invalid(cls, field: str, message: str) -> ApiError:
        """422 naming ``field``."""
        return cls(422, f"{field}: {message}", details=[(field, message)])
