"""De-duplication and throttling, decided before a notification reaches any channel.

- A notification with a ``dedupe_key`` is sent once per its window (``dedupe_window``, or
  ``throttle.dedupeWindow``), across processes when there is a store: one "rate limit
  reached" per provider and reset, however many tasks run into it.
- Identical notifications (event, title, message) within ``dedupeWindow`` are sent once.
- The first ``failureBurst`` ``task.failed`` within ``failureWindow`` go out one by one; the
  rest are held and summarised in one ``task.failures_summary``.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ado.notifications.message import Level, Notification, NotificationEvent

if TYPE_CHECKING:
    from ado.notifications.config import ThrottleConfig
    from ado.store import Store

__all__ = ["Throttle"]

log = logging.getLogger("ado.notifications")


@dataclass(slots=True)
class _Burst:
    """Failures within the current window: the first few are sent, the rest summarised."""

    started: float = 0.0
    sent: int = 0
    held: list[Notification] = field(default_factory=list)


class Throttle:
    """Owned by the manager's dispatcher: one consumer, so no locking."""

    def __init__(self, settings: ThrottleConfig, store: Store | None) -> None:
        self.settings = settings
        self.store = store
        self._sent: dict[str, float] = {}
        self._burst = _Burst()

    @property
    def held(self) -> bool:
        """Whether failures wait to be summarised."""
        return bool(self._burst.held)

    async def check(self, notification: Notification) -> str | None:
        """Why this notification is held back, or None to send it."""
        throttle = self.settings
        now = time.monotonic()
        if notification.event == NotificationEvent.TASK_FAILED:
            burst = self._burst
            if now - burst.started >= throttle.failure_window:
                burst.started, burst.sent = now, 0
            if burst.sent >= throttle.failure_burst:
                burst.held.append(notification)
                return f"more than {throttle.failure_burst} failures: summarised later"
            burst.sent += 1
        key = notification.dedupe_key or _content_key(notification)
        window = (
            notification.dedupe_window
            if notification.dedupe_window is not None
            else throttle.dedupe_window
        )
        if window <= 0:
            return None
        last = self._sent.get(key)
        if last is not None and now - last < window:
            return f"already sent within {window:.0f}s"
        if self.store is not None and notification.dedupe_key is not None:
            since = datetime.now(UTC) - timedelta(seconds=window)
            if await self._sent_before(key, since):
                self._sent[key] = now
                return f"already sent within {window:.0f}s"
        self._sent[key] = now
        notification.dedupe_key = key
        return None

    def summary_due_in(self) -> float | None:
        if not self._burst.held:
            return None
        end = self._burst.started + self.settings.failure_window
        return max(0.0, end - time.monotonic())

    def summary(self) -> Notification:
        held, self._burst.held = self._burst.held, []
        self._burst.started, self._burst.sent = time.monotonic(), 0
        lines = [f"• {n.title}: {n.message}"[:200] for n in held[:10]]
        if len(held) > 10:
            lines.append(f"… and {len(held) - 10} more")
        ids = [n.task_id for n in held if n.task_id is not None]
        return Notification(
            event=NotificationEvent.TASK_FAILURES,
            title=f"{len(held)} more task{'s' if len(held) > 1 else ''} failed",
            message="\n".join(lines),
            level=Level.ERROR,
            metadata={"count": len(held), "task_ids": ids},
            dedupe_window=0,
        )

    async def _sent_before(self, key: str, since: datetime) -> bool:
        assert self.store is not None
        try:
            return await asyncio.to_thread(self.store.alert_sent_since, key, since)
        except Exception as exc:  # no history: send rather than lose the notification
            log.warning("could not read the alert history: %s", exc)
            return False


def _content_key(notification: Notification) -> str:
    text = f"{notification.event}\0{notification.title}\0{notification.message}"
    return "content:" + hashlib.sha256(text.encode()).hexdigest()[:32]
