"""What is sent: a ``Notification`` (event, title, message, level, metadata) and its events.

Every channel renders the same ``Notification``; ``fields()`` gives the metadata as
(label, value) pairs for people, ``payload()`` the JSON a webhook receives.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from ado.host import hostname

__all__ = ["EVENTS", "Level", "Notification", "NotificationEvent", "default_source"]


class Level(StrEnum):
    INFO = "info"
    SUCCESS = "success"
    WARNING = "warning"
    ERROR = "error"

    @property
    def rank(self) -> int:
        return list(Level).index(self)


class NotificationEvent(StrEnum):
    TASK_STARTED = "task.started"
    TASK_COMPLETED = "task.completed"
    TASK_FAILED = "task.failed"
    TASK_CANCELLED = "task.cancelled"
    TASK_PARKED = "task.parked"
    TASK_FAILURES = "task.failures_summary"
    RATE_LIMIT_WARNING = "rate_limit.warning"
    RATE_LIMIT_REACHED = "rate_limit.reached"
    PROVIDERS_EXHAUSTED = "providers.exhausted"
    COST_DAILY_LIMIT = "cost.daily_limit"
    COST_TASK_LIMIT = "cost.task_limit"
    PROVIDER_FAILURE = "provider.failure"
    CUSTOM = "custom"
    TEST = "test"


#: Every event with what it means (docs/notifications.md lists the same).
EVENTS: dict[NotificationEvent, str] = {
    NotificationEvent.TASK_STARTED: "a task started (info)",
    NotificationEvent.TASK_COMPLETED: "a task succeeded (success)",
    NotificationEvent.TASK_FAILED: "a task failed (error)",
    NotificationEvent.TASK_CANCELLED: "a task was cancelled or interrupted (warning)",
    NotificationEvent.TASK_PARKED: "every provider is limited: a task waits for a reset (warning)",
    NotificationEvent.TASK_FAILURES: "a burst of failures, summarised (error)",
    NotificationEvent.RATE_LIMIT_WARNING: "an agent says it is near its limit (warning)",
    NotificationEvent.RATE_LIMIT_REACHED: "an agent hit its limit; reset time, failover (warning)",
    NotificationEvent.PROVIDERS_EXHAUSTED: "no provider can take a task (error)",
    NotificationEvent.COST_DAILY_LIMIT: "the daily API spend limit stopped a task (error)",
    NotificationEvent.COST_TASK_LIMIT: "a task went over its cost limit (error)",
    NotificationEvent.PROVIDER_FAILURE: "an agent is not installed, logged out or crashing (error)",
    NotificationEvent.CUSTOM: "`ado notify send` (any level)",
    NotificationEvent.TEST: "`ado notify test` (info)",
}

_LABELS = {
    "task_id": "Task",
    "provider": "Provider",
    "access_mode": "Access mode",
    "status": "Status",
    "cost_usd": "Cost",
    "api_cost_usd": "API value",
    "duration_s": "Duration",
    "reset_at": "Resets",
    "failed_over_to": "Failed over to",
    "attempts": "Attempts",
    "exit_code": "Exit code",
    "outcome": "Outcome",
    "count": "Count",
    "limit_usd": "Limit",
}


def default_source() -> str:
    return f"ado@{hostname()}"


@dataclass(slots=True)
class Notification:
    event: str
    title: str
    message: str
    level: Level = Level.INFO
    metadata: dict[str, Any] = field(default_factory=dict)
    timestamp: datetime = field(default_factory=lambda: datetime.now(UTC))
    #: A link to the task in the dashboard (``publicUrl/tasks/<id>``), when known.
    url: str | None = None
    #: Notifications with the same key are sent once per throttle window (None: no dedupe).
    dedupe_key: str | None = None
    #: How long (seconds) ``dedupe_key`` suppresses repeats; None: ``throttle.dedupeWindow``.
    dedupe_window: float | None = None

    @property
    def task_id(self) -> int | None:
        value = self.metadata.get("task_id")
        return value if isinstance(value, int) else None

    def fields(self) -> list[tuple[str, str]]:
        """The metadata as (label, value) pairs for people: costs in $, durations in s."""
        out = []
        for key, value in self.metadata.items():
            if value is None or value == "":
                continue
            out.append((_LABELS.get(key, key.replace("_", " ").capitalize()), _fmt(key, value)))
        return out

    def payload(self, source: str) -> dict[str, Any]:
        """The webhook's JSON body."""
        metadata = dict(self.metadata)
        if self.url:
            metadata.setdefault("url", self.url)
        return {
            "event": self.event,
            "title": self.title,
            "message": self.message,
            "level": self.level.value,
            "metadata": {k: _json(v) for k, v in metadata.items()},
            "timestamp": self.timestamp.isoformat(),
            "source": source,
        }


def _json(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def _fmt(key: str, value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
    if isinstance(value, float) and key.endswith("_usd"):
        return f"${value:.4f}" if 0 < value < 0.01 else f"${value:.2f}"
    if isinstance(value, int | float) and key.endswith("_s"):
        return f"{value:.1f}s"
    if isinstance(value, list | tuple):
        return ", ".join(str(v) for v in value)
    return str(value)
