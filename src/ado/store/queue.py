"""The task queue: tasks submitted to a server wait ``queued`` until a worker pool claims them.

A claim is one conditional UPDATE (``... WHERE id = ? AND status = 'queued'``): of two pools
on one database, exactly one sees its row count at 1, so no task ever runs twice. Pools
register themselves under a key-value entry so that ``ado.orchestrator.cancel.cancel_task``
can tell a server (asked through a stored cancel request) from an ``ado run`` (asked with
SIGINT). Plain SQL (``ado.store.writes``), like the task path.
"""

from __future__ import annotations

from collections.abc import Iterable

from ado.store import reader, writes
from ado.store.codec import utcnow
from ado.store.methods import SqlMethods
from ado.store.views import TaskView
from ado.vocab import TaskStatus

__all__ = ["QueueMethods"]

ACTIVE = tuple(status.value for status in TaskStatus if status.is_active)
_POOL_KEY = "worker-pool:{host}:{pid}"
_CANCEL_KEY = "cancel-request:{task_id}"


class QueueMethods(SqlMethods):
    """The queue, on top of the task path's methods."""

    # -- the queue --------------------------------------------------------------------------

    def next_queued(self, limit: int = 16) -> list[int]:
        """Ids of queued tasks, oldest first."""
        with self._sql() as sql:
            return reader.next_queued(sql, limit)

    def claim_task(self, task_id: int) -> bool:
        """Take a waiting task (queued, or parked and due) for this process: True when this
        call, and no other, got it."""
        with self._sql() as sql:
            return writes.claim_task(sql, task_id)

    def claim_next(self) -> int | None:
        """Claim the oldest waiting task nobody else claimed first; None when none is left."""
        while True:
            ids = self.next_queued()
            if not ids:
                return None
            for task_id in ids:
                if self.claim_task(task_id):
                    return task_id

    def cancel_queued(self, task_id: int) -> bool:
        """Cancel a task queued or parked in the queue; False when it no longer is."""
        with self._sql() as sql:
            return writes.cancel_queued(sql, task_id)

    # -- what live views poll ---------------------------------------------------------------

    def active_tasks(self, limit: int = 1000) -> list[TaskView]:
        """Queued, running and parked tasks (the indexed ``status`` column), oldest first."""
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
        self.set_value(_POOL_KEY.format(host=host, pid=pid), {"since": utcnow().isoformat()})

    def unregister_pool(self, host: str, pid: int) -> None:
        with self._sql() as sql:
            writes.delete_values(sql, [_POOL_KEY.format(host=host, pid=pid)])

    def is_pool(self, host: str, pid: int) -> bool:
        return self.get_value(_POOL_KEY.format(host=host, pid=pid)) is not None

    def request_cancel(self, task_id: int) -> None:
        """Ask the worker pool running ``task_id`` (in another process) to cancel it."""
        self.set_value(_CANCEL_KEY.format(task_id=task_id), {"at": utcnow().isoformat()})

    def take_cancel_requests(self, task_ids: Iterable[int]) -> set[int]:
        """Which of ``task_ids`` someone asked to cancel; those requests are removed."""
        keys = {_CANCEL_KEY.format(task_id=i): i for i in task_ids}
        with self._sql() as sql:
            found = writes.take_values(sql, keys)
        return {keys[k] for k in found}
