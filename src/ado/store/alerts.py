"""The alert history: every notification and every delivery attempt, per channel.

One row per (notification, channel), written when the notification is queued for the
channel: ``queued``, ``retrying`` while attempts fail and more are due, then ``delivered``
or ``failed``; ``abandoned`` when its process exited first (on exit, or at the next start
after a crash: ``ado.store.alert_orphans``); ``throttled`` when de-duplication or throttling
held it back (channel ``*``). ``queued`` and ``retrying`` rows name their owner (host, pid).
``list_alerts`` pages newest first with an opaque cursor.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Collection
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import ForeignKey, Index, Integer, String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ado.host import hostname
from ado.store.alert_orphans import UNFINISHED, abandoned_error
from ado.store.models import _ID, Base, utcnow, view_of
from ado.store.sql import SqlConnection
from ado.vocab import AlertStatus, values

__all__ = ["ALERT_STATUSES", "Alert", "AlertMethods", "AlertView"]

ALERT_STATUSES = values(AlertStatus)


class Alert(Base):
    __tablename__ = "alerts"
    __table_args__ = (Index("ix_alerts_dedupe_key_created_at", "dedupe_key", "created_at"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    #: task.failed, rate_limit.reached... (``ado.notifications.message.NotificationEvent``)
    event: Mapped[str] = mapped_column(String(64))
    #: slack, email, webhook...; ``*`` for a notification throttled before any channel.
    channel: Mapped[str] = mapped_column(String(64))
    #: queued, retrying, delivered, failed, throttled, abandoned
    status: Mapped[str] = mapped_column(String(16), index=True)
    level: Mapped[str] = mapped_column(String(16))
    title: Mapped[str] = mapped_column(Text)
    message: Mapped[str | None] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(
        ForeignKey("tasks.id", ondelete="SET NULL"), index=True
    )
    error: Mapped[str | None] = mapped_column(Text)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    dedupe_key: Mapped[str | None] = mapped_column(String(255))
    #: The notification's metadata (never secrets).
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)
    delivered_at: Mapped[datetime | None]
    #: The process delivering it (host name and pid), to find the orphans of a crash.
    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None]


class AlertView(NamedTuple):
    id: int
    event: str
    channel: str
    status: str
    level: str
    title: str
    message: str | None
    task_id: int | None
    error: str | None
    attempts: int
    dedupe_key: str | None
    details: dict[str, Any]
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


def _view(row: Alert) -> AlertView:
    return view_of(AlertView, row, details=dict(row.details or {}))


class AlertMethods:
    """The alert half of ``Store``; it provides the sessions."""

    _read: Callable[[], AbstractContextManager[Session]]
    _write: Callable[[], AbstractContextManager[Session]]
    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    def record_alert(
        self,
        *,
        event: str,
        channel: str,
        status: str,
        title: str,
        level: str = "info",
        message: str | None = None,
        task_id: int | None = None,
        error: str | None = None,
        attempts: int = 0,
        dedupe_key: str | None = None,
        details: dict[str, Any] | None = None,
    ) -> int:
        """A new row of the alert history; returns its id."""
        _check_status(status)
        now = utcnow()
        row = Alert(
            event=event,
            channel=channel,
            status=status,
            level=level,
            title=title,
            message=message,
            task_id=task_id,
            error=error,
            attempts=attempts,
            dedupe_key=dedupe_key,
            details=details or {},
            created_at=now,
            updated_at=now,
            delivered_at=now if status == AlertStatus.DELIVERED else None,
            owner_host=hostname(),
            owner_pid=os.getpid(),
        )
        with self._write() as session:
            if task_id is not None and not _task_exists(session, task_id):
                row.task_id = None  # a task of another store (or deleted): keep the alert
            session.add(row)
            session.flush()
            return row.id

    def update_alert(
        self, alert_id: int, *, status: str, attempts: int, error: str | None = None
    ) -> None:
        """After a further delivery attempt: its status, the attempt count, the last error."""
        _check_status(status)
        now = utcnow()
        values: dict[str, Any] = {
            "status": status,
            "attempts": attempts,
            "error": error,
            "updated_at": now,
        }
        if status == AlertStatus.DELIVERED:
            values["delivered_at"] = now
        with self._write() as session:
            session.execute(update(Alert).where(Alert.id == alert_id).values(**values))

    def abandon_alerts(self, alert_ids: Collection[int]) -> int:
        """Mark ``abandoned`` those of ``alert_ids`` still queued or retrying (this process
        gives them up); how many."""
        if not alert_ids:
            return 0
        query = (
            update(Alert)
            .where(Alert.id.in_(list(alert_ids)), Alert.status.in_(UNFINISHED))
            .values(
                status=AlertStatus.ABANDONED.value,
                error=abandoned_error(os.getpid()),
                updated_at=utcnow(),
            )
        )
        with self._write() as session:
            return int(session.execute(query).rowcount or 0)  # type: ignore[attr-defined]

    def abandon_orphaned_alerts(self) -> int:
        """Mark ``abandoned`` the unfinished alerts whose process is gone (this host)."""
        from ado.store.alert_orphans import abandon_orphaned_alerts
        from ado.store.orphans import pid_alive

        with self._sql() as sql:
            return abandon_orphaned_alerts(sql, pid_alive)

    def list_alerts(
        self, limit: int = 50, cursor: str | int | None = None
    ) -> tuple[list[AlertView], str | None]:
        """Newest first, ``limit`` at a time; pass the returned cursor for the next page
        (None when there is none)."""
        limit = max(1, min(int(limit), 500))
        query = select(Alert).order_by(Alert.id.desc()).limit(limit + 1)
        if cursor not in (None, ""):
            try:
                before = int(str(cursor))
            except ValueError:
                raise ValueError(f"invalid alerts cursor {cursor!r}") from None
            query = query.where(Alert.id < before)
        with self._read() as session:
            rows = list(session.scalars(query))
        items = [_view(r) for r in rows[:limit]]
        next_cursor = str(items[-1].id) if len(rows) > limit else None
        return items, next_cursor

    def alert_sent_since(self, dedupe_key: str, since: datetime) -> bool:
        """Whether a notification with this key went out (or was tried) since ``since``."""
        query = (
            select(Alert.id)
            .where(
                Alert.dedupe_key == dedupe_key,
                Alert.created_at >= since,
                Alert.status != AlertStatus.THROTTLED.value,
            )
            .limit(1)
        )
        with self._read() as session:
            return session.scalar(query) is not None


def _check_status(status: str) -> None:
    if status not in ALERT_STATUSES:
        raise ValueError(f"alert status must be one of {', '.join(ALERT_STATUSES)}: {status!r}")


def _task_exists(session: Session, task_id: int) -> bool:
    from ado.store.models import Task

    return session.scalar(select(Task.id).where(Task.id == task_id)) is not None
