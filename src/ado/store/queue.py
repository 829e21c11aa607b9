"""The task queue: tasks submitted to a server wait ``queued`` until a worker pool claims them.

A claim is one conditional UPDATE (``... WHERE id = ? AND status = 'queued'``): of two pools
on one database, exactly one sees its row count at 1, so no task ever runs twice. Pools
register themselves under a key-value entry so that ``ado.orchestrator.cancel.cancel_task``
can tell a server (asked through a stored cancel request) from an ``ado run`` (asked with
SIGINT). Plain SQL (``ado.store.reader``, ``ado.store.writes``), like the task path.
"""

from __future__ import annotations

from collections.abc import Iterable

from ado.store import reader, writes
from ado.store.codec import utcnow
from ado.store.methods import SqlMethods
from ado.store.sql import query

__all__ = ["POOL_KEY", "QueueMethods"]

#: The key-value row a worker pool registers itself under (``ado db restore`` reads them).
POOL_KEY = "worker-pool:{host}:{pid}"
_CANCEL_KEY = "cancel-request:{task_id}"


class QueueMethods(SqlMethods):
    """The queue, on top of the task path's methods."""

    # -- the queue --------------------------------------------------------------------------

    next_queued = query(reader.next_queued)
    claim_task = query(writes.claim_task)
    cancel_queued = query(writes.cancel_queued)

    def claim_next(self) -> int | None:
        """Claim the oldest waiting task nobody else claimed first; None when none is left."""
        while True:
            ids = self.next_queued()
            if not ids:
                return None
            for task_id in ids:
                if self.claim_task(task_id):
                    return task_id

    # -- what live views poll ---------------------------------------------------------------

    active_tasks = query(reader.active_tasks)
    tasks_by_id = query(reader.tasks_by_id)

    # -- worker pools and cancel requests ---------------------------------------------------

    def register_pool(self, host: str, pid: int) -> None:
        """Say that process ``pid`` on ``host`` runs a worker pool (until ``unregister_pool``)."""
        self.set_value(POOL_KEY.format(host=host, pid=pid), {"since": utcnow().isoformat()})

    def unregister_pool(self, host: str, pid: int) -> None:
        self.delete_value(POOL_KEY.format(host=host, pid=pid))

    def is_pool(self, host: str, pid: int) -> bool:
        return self.get_value(POOL_KEY.format(host=host, pid=pid)) is not None

    def request_cancel(self, task_id: int) -> None:
        """Ask the worker pool running ``task_id`` (in another process) to cancel it."""
        self.set_value(_CANCEL_KEY.format(task_id=task_id), {"at": utcnow().isoformat()})

    def take_cancel_requests(self, task_ids: Iterable[int]) -> set[int]:
        """Which of ``task_ids`` someone asked to cancel; those requests are removed."""
        keys = {_CANCEL_KEY.format(task_id=i): i for i in task_ids}
        with self._sql() as sql:
            found = writes.take_values(sql, keys)
        return {keys[k] for k in found}
