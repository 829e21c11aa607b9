"""Building notification settings and managers for the tests."""

from __future__ import annotations

from typing import Any

from ado.notifications import Level, Notification, NotificationManager
from ado.notifications.config import NotificationsConfig
from ado.store import Store

#: Fast retries: the tests wait on conditions, not on wall-clock back-off.
FAST = {"timeout": 2, "retries": 2, "backoff": 0.05, "maxBackoff": 5}


def settings(delivery: dict[str, Any] | None = None, **sections: Any) -> NotificationsConfig:
    data: dict[str, Any] = {"delivery": {**FAST, **(delivery or {})}, **sections}
    return NotificationsConfig.model_validate(data)


def manager(store: Store | None = None, **kwargs: Any) -> NotificationManager:
    return NotificationManager(settings(**kwargs), store=store)


def note(
    event: str = "custom", title: str = "Hello", level: Level = Level.INFO, **meta: Any
) -> Notification:
    return Notification(event=event, title=title, message="a message", level=level, metadata=meta)
