"""Cancelling a task, wherever it runs: the one implementation (API, ``ado tasks cancel``).

    status = await cancel_task(store, pool, task_id)   # pool: this process's, or None

A queued task is cancelled at once; a running one is stopped by whoever runs it: this
process's worker pool, another server's pool (through a stored cancel request), or an
``ado run`` on this host (SIGINT). Outside ``ado.server`` so that the API and the CLI reach
it without importing the server.
"""

from __future__ import annotations

import asyncio
import os
import signal
from typing import TYPE_CHECKING, Protocol

from ado.errors import TaskNotCancellable, TaskNotFound, UsageError
from ado.host import hostname
from ado.store.orphans import pid_alive
from ado.vocab import TaskStatus

if TYPE_CHECKING:
    from ado.store.queue import QueueMethods

__all__ = ["TaskPool", "cancel_task"]


class TaskPool(Protocol):
    """What the API needs of a worker pool (``ado.server.workers.WorkerPool``)."""

    def wake(self) -> None:
        """A task was queued: look at the queue now."""

    async def cancel(self, task_id: int) -> bool:
        """Cancel ``task_id`` if this pool runs it (False otherwise), waiting for it."""


async def cancel_task(store: QueueMethods, pool: TaskPool | None, task_id: int) -> str:
    """Cancel task ``task_id`` wherever it runs; its status afterwards.

    queued or parked in the queue → ``cancelled`` at once; run by ``pool`` → the agent is
    stopped and the task recorded ``cancelled``; run by another server's pool → a cancel
    request it picks up (``cancelling``); run (or parked) by an ``ado run`` on this host →
    SIGINT to it (``cancelling``), or ``interrupted`` when that process is gone. A finished
    task raises ``TaskNotCancellable``.
    """
    task = await asyncio.to_thread(store.get_task, task_id)
    if task is None:
        raise TaskNotFound(task_id)
    if task.status in (TaskStatus.QUEUED, TaskStatus.PARKED):
        if await asyncio.to_thread(store.cancel_queued, task_id):
            return TaskStatus.CANCELLED
        task = await asyncio.to_thread(store.get_task, task_id)  # claimed meanwhile
        assert task is not None
    if task.status not in (TaskStatus.RUNNING, TaskStatus.PARKED):  # parked by `ado run --wait`
        raise TaskNotCancellable(task_id, task.status)
    if pool is not None and await pool.cancel(task_id):
        return await _status(store, task_id)
    here = task.owner_host == hostname()
    pid = task.owner_pid
    if pid and task.owner_host is not None and (not here or pid_alive(pid)):
        if await asyncio.to_thread(store.is_worker, task.owner_host, pid):
            await asyncio.to_thread(store.request_cancel, task_id)  # that pool picks it up
            return "cancelling"
    if not pid or (here and pid == os.getpid()):
        # Nobody runs it (or this process, without a pool): record it as cancelled.
        await asyncio.to_thread(
            store.finish_task,
            task_id,
            status=TaskStatus.CANCELLED,
            error="cancelled by the user",
            exit_code=130,
        )
        return TaskStatus.CANCELLED
    if here and not pid_alive(pid):
        await asyncio.to_thread(store.mark_orphans_interrupted)
        return await _status(store, task_id)
    if not here:
        raise UsageError(f"Task {task_id} runs on host {task.owner_host}; cancel it there.")
    try:
        os.kill(pid, signal.SIGINT)  # `ado run` stops its agent and records the task cancelled
    except ProcessLookupError:
        await asyncio.to_thread(store.mark_orphans_interrupted)
        return await _status(store, task_id)
    return "cancelling"


async def _status(store: QueueMethods, task_id: int) -> str:
    task = await asyncio.to_thread(store.get_task, task_id)
    if task is None:
        return TaskStatus.CANCELLED
    return "cancelling" if task.status in (TaskStatus.RUNNING, TaskStatus.PARKED) else task.status
