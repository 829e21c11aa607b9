"""The task queue: tasks submitted to a server wait ``queued`` until a worker pool claims them.

A claim is one conditional UPDATE (``... WHERE id = ? AND status = 'queued'``): of two pools
on one database, exactly one sees its row count at 1, so no task ever runs twice. Pools
register themselves under a key-value entry so that ``cancel_task`` can tell a server (asked
through a stored cancel request) from an ``ado run`` (asked with SIGINT).
"""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from typing import Any

from sqlalchemy import delete, select, update
from sqlalchemy.engine import CursorResult
from sqlalchemy.orm import Session

from ado.store import reader
from ado.store.models import KeyValue, Task, utcnow
from ado.store.reader import SqlConnection
from ado.store.views import TaskView
from ado.vocab import TaskStatus

__all__ = ["QueueMethods"]

ACTIVE = (TaskStatus.QUEUED.value, TaskStatus.RUNNING.value)
_POOL_KEY = "worker-pool:{host}:{pid}"
_CANCEL_KEY = "cancel-request:{task_id}"


class QueueMethods:
    """The queue half of ``Store``; it provides the sessions."""

    _read: Callable[[], AbstractContextManager[Session]]
    _write: Callable[[], AbstractContextManager[Session]]
    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    # -- the queue --------------------------------------------------------------------------

    def next_queued(self, limit: int = 16) -> list[int]:
        """Ids of queued tasks, oldest first."""
        query = select(Task.id).where(Task.status == "queued").order_by(Task.id).limit(limit)
        with self._read() as session:
            return list(session.scalars(query))

    def claim_task(self, task_id: int) -> bool:
        """Take a queued task for this process: True when this call, and no other, got it."""
        now = utcnow()
        statement = (
            update(Task)
            .where(Task.id == task_id, Task.status == "queued")
            .values(
                status="running",
                owner_host=socket.gethostname(),
                owner_pid=os.getpid(),
                started_at=now,
                updated_at=now,
            )
        )
        with self._write() as session:
            result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
            return result.rowcount == 1

    def claim_next(self) -> int | None:
        """Claim the oldest queued task nobody else claimed first; None when none is left."""
        while True:
            ids = self.next_queued()
            if not ids:
                return None
            for task_id in ids:
                if self.claim_task(task_id):
                    return task_id

    def cancel_queued(self, task_id: int) -> bool:
        """Cancel a task still waiting in the queue; False when it is no longer queued."""
        now = utcnow()
        statement = (
            update(Task)
            .where(Task.id == task_id, Task.status == "queued")
            .values(
                status="cancelled",
                error="cancelled by the user",
                exit_code=130,
                finished_at=now,
                updated_at=now,
            )
        )
        with self._write() as session:
            result: CursorResult[Any] = session.execute(statement)  # type: ignore[assignment]
            return result.rowcount == 1

    # -- what live views poll ---------------------------------------------------------------

    def active_tasks(self, limit: int = 1000) -> list[TaskView]:
        """Queued and running tasks (the indexed ``status`` column), oldest first."""
        listed = ", ".join(f"'{status}'" for status in ACTIVE)
        with self._sql() as sql:
            return reader.tasks_where(sql, [f"status IN ({listed})"], {}, limit)

    def tasks_by_id(self, ids: Iterable[int]) -> list[TaskView]:
        """These tasks (without attempts), by id; unknown ids are left out."""
        wanted = sorted(set(ids))
        if not wanted:
            return []
        listed = ", ".join(str(int(i)) for i in wanted)
        with self._sql() as sql:
            return reader.tasks_where(sql, [f"id IN ({listed})"], {}, len(wanted))

    # -- worker pools and cancel requests ---------------------------------------------------

    def register_pool(self, host: str, pid: int) -> None:
        """Say that process ``pid`` on ``host`` runs a worker pool (until ``unregister_pool``)."""
        self._set_kv(_POOL_KEY.format(host=host, pid=pid), {"since": utcnow().isoformat()})

    def unregister_pool(self, host: str, pid: int) -> None:
        self._delete_kv(_POOL_KEY.format(host=host, pid=pid))

    def is_pool(self, host: str, pid: int) -> bool:
        key = _POOL_KEY.format(host=host, pid=pid)
        with self._read() as session:
            return session.scalar(select(KeyValue.key).where(KeyValue.key == key)) is not None

    def request_cancel(self, task_id: int) -> None:
        """Ask the worker pool running ``task_id`` (in another process) to cancel it."""
        self._set_kv(_CANCEL_KEY.format(task_id=task_id), {"at": utcnow().isoformat()})

    def take_cancel_requests(self, task_ids: Iterable[int]) -> set[int]:
        """Which of ``task_ids`` someone asked to cancel; those requests are removed."""
        keys = {_CANCEL_KEY.format(task_id=i): i for i in task_ids}
        if not keys:
            return set()
        with self._write() as session:
            found = set(session.scalars(select(KeyValue.key).where(KeyValue.key.in_(keys))))
            if found:
                session.execute(delete(KeyValue).where(KeyValue.key.in_(found)))
        return {keys[k] for k in found}

    def _set_kv(self, key: str, value: dict[str, Any]) -> None:
        with self._write() as session:
            session.execute(delete(KeyValue).where(KeyValue.key == key))
            session.add(KeyValue(key=key, value=value, updated_at=utcnow()))

    def _delete_kv(self, key: str) -> None:
        with self._write() as session:
            session.execute(delete(KeyValue).where(KeyValue.key == key))
