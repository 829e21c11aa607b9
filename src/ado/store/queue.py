"""The task queue: tasks submitted to a server wait ``queued`` until a worker pool claims them.

A claim is one conditional UPDATE (``... WHERE id = ? AND status = 'queued'``): of two pools
on one database, exactly one sees its row count at 1, so no task ever runs twice. Pools
register themselves in the worker registry (``ado.store.registry``), so that
``ado.orchestrator.cancel.cancel_task`` can tell a pool (asked through a stored cancel
request) from an ``ado run`` (asked with SIGINT). Plain SQL (``ado.store.reader``,
``ado.store.writes``), like the task path.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

from ado.store import reader, registry, writes
from ado.store.codec import utcnow
from ado.store.methods import SqlMethods
from ado.store.sql import query

__all__ = ["QueueMethods"]

_CANCEL_KEY = "cancel-request:{task_id}"


class QueueMethods(SqlMethods):
    """The queue, on top of the task path's methods."""

    # -- the queue --------------------------------------------------------------------------

    next_queued = query(reader.next_queued)
    claim_task = query(writes.claim_task)
    cancel_queued = query(writes.cancel_queued)

    def claim_next(self, skip: Collection[int] = ()) -> int | None:
        """Claim the oldest waiting task nobody else claimed first, none of ``skip`` (a
        pool's runs of them still ending: ``TaskDisowned``); None when none is left."""
        while True:
            ids = [task_id for task_id in self.next_queued() if task_id not in skip]
            if not ids:
                return None
            for task_id in ids:
                if self.claim_task(task_id):
                    return task_id

    # -- what live views poll ---------------------------------------------------------------

    active_tasks = query(reader.active_tasks)
    tasks_by_id = query(reader.tasks_by_id)

    # -- the worker registry and cancel requests ---------------------------------------------------

    register_worker = query(registry.register_worker)
    beat = query(registry.beat)
    unregister_worker = query(registry.unregister_worker)
    is_worker = query(registry.is_worker)
    take_lost_workers = query(registry.take_lost_workers)
    list_workers = query(registry.list_workers)

    def request_cancel(self, task_id: int) -> None:
        """Ask the worker pool running ``task_id`` (in another process) to cancel it."""
        self.set_value(_CANCEL_KEY.format(task_id=task_id), {"at": utcnow().isoformat()})

    def take_cancel_requests(self, task_ids: Iterable[int]) -> set[int]:
        """Which of ``task_ids`` someone asked to cancel; those requests are removed."""
        keys = {_CANCEL_KEY.format(task_id=i): i for i in task_ids}
        with self._sql() as sql:
            found = writes.take_values(sql, keys)
        return {keys[k] for k in found}
