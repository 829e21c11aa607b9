"""``ado serve`` with the celery executor: it only queues, and sends each queued task to the
workers as one Celery message.

    dispatcher = Dispatcher(store, source)   # in place of the WorkerPool
    dispatcher.start(); dispatcher.wake()    # a task was queued: send it now

The store is the queue's truth; messages only wake the workers. Each pass reads the waiting
tasks (``queued``, or ``parked`` and due) and sends a message for every one this process has
not sent yet. A message can be lost (Redis restarted without persistence, a send that failed
while it was down): a task still waiting ``LOST_AFTER`` seconds after its message was sent,
while its queue holds no message at all, is sent again; and any task waiting longer than the
visibility timeout is sent again whatever the queue holds. A message too many costs nothing:
the worker finds the task claimed and acknowledges it. Every message is sent from one thread
of the dispatcher's own, warmed up when it starts (``warm_up``), so that the first task after
a start is sent as fast as the next.

At each sweep it also takes the workers found lost, as every pool does at its beats
(``ado.store.registry``): with the last worker of the fleet gone, no pool is left to notice,
and its tasks must not stay ``running``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING

from ado.distributed.settings import TASK_NAME, queue_for

if TYPE_CHECKING:
    from celery import Celery

    from ado.config.schema import AdoConfig
    from ado.store import Store

__all__ = ["Dispatcher"]

log = logging.getLogger("ado.distributed")

#: Seconds between two sweeps when nothing wakes the dispatcher.
SWEEP_INTERVAL = 2.0
#: Seconds after which a task still waiting, its queue empty, is taken for lost.
LOST_AFTER = 5.0
#: Waiting tasks read per pass (the oldest first).
BATCH = 5000


class Dispatcher:
    """Sends queued tasks to the Celery workers; stands where ``ado serve``'s WorkerPool
    would (``wake``, ``cancel``, ``stop``), running nothing itself."""

    def __init__(
        self,
        store: Store,
        config_loader: Callable[[], AdoConfig],
        *,
        app: Celery | None = None,
        sweep_interval: float = SWEEP_INTERVAL,
        lost_after: float = LOST_AFTER,
    ) -> None:
        from ado.distributed.app import make_app

        self.store = store
        self.config_loader = config_loader
        self.app = app or make_app(config_loader())
        self.sweep_interval = sweep_interval
        self.lost_after = lost_after
        #: When the broker's queues were last looked at (at most once per sweep interval).
        self._checked_at = -float("inf")
        #: When the worker registry was last looked at for lost workers: at each sweep, at
        #: most every half sweep interval when submissions wake the dispatcher.
        self._lost_checked_at = -float("inf")
        #: task id → (queue, when its last message was sent, monotonic)
        self._sent: dict[int, tuple[str, float]] = {}
        self._wake = asyncio.Event()
        self._accepting = False
        self._loop_task: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()

    @property
    def running(self) -> list[int]:
        """Nothing runs here: the workers do."""
        return []

    def start(self) -> None:
        if self._loop_task is None:
            self._accepting = True
            self._loop_task = asyncio.create_task(self._run(), name="ado-dispatcher")

    async def ready(self) -> None:
        await self._ready.wait()

    def wake(self) -> None:
        self._wake.set()

    async def cancel(self, task_id: int, *, wait: float = 0.0) -> bool:
        """False: the task runs on a worker, which takes the stored cancel request."""
        return False

    def cancel_all(self) -> None:
        """Nothing to cancel here: the workers' tasks go on."""

    async def stop(self, grace: float = 0.0) -> None:
        self._accepting = False
        self._wake.set()
        if self._loop_task is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._loop_task
            self._loop_task = None

    async def _run(self) -> None:
        await asyncio.to_thread(self.store.mark_orphans_interrupted)
        self._ready.set()
        loop = asyncio.get_running_loop()
        # One thread sends every message: Celery builds its result backend once per thread
        # (~0.1 s of entry-point scanning, even with results ignored), so sending from
        # the loop's pool of threads made the first send from each of them that slow.
        with ThreadPoolExecutor(1, thread_name_prefix="ado-dispatch") as sender:
            try:
                await loop.run_in_executor(sender, self.warm_up)
            except Exception as exc:  # the broker is down: the first send connects
                log.info("cannot connect to the broker yet (%s)", exc)
            while self._accepting:
                try:
                    await loop.run_in_executor(sender, self.dispatch)
                    if time.monotonic() - self._lost_checked_at >= self.sweep_interval / 2:
                        await loop.run_in_executor(sender, self.take_lost_workers)
                except Exception as exc:  # the store or the broker is down: at the next sweep
                    log.warning("cannot send the queued tasks (%s); trying again", exc)
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), self.sweep_interval)
                self._wake.clear()

    def dispatch(self) -> int:
        """One pass: send what needs a message; how many were sent."""
        from ado.options import TaskOptions

        waiting = self.store.next_queued(BATCH)
        now, still = time.monotonic(), set(waiting)
        self._sent = {i: s for i, s in self._sent.items() if i in still}
        fresh = [i for i in waiting if i not in self._sent]
        orchestration = self.config_loader().orchestration
        routes: dict[int, str] = {}
        if fresh and not orchestration.routes:  # one queue: no need to read the tasks
            routes = dict.fromkeys(fresh, orchestration.queue)
        elif fresh:
            for task in self.store.tasks_by_id(fresh):
                routes[task.id] = queue_for(orchestration, TaskOptions.from_stored(task.options))
        stale = [i for i, (_q, at) in self._sent.items() if now - at > self.lost_after]
        if stale and now - self._checked_at >= self.sweep_interval:
            self._checked_at = now
            empty = self._empty_queues({self._sent[i][0] for i in stale})
            for task_id in stale:
                queue, at = self._sent[task_id]
                if queue in empty or now - at > orchestration.visibility_timeout:
                    log.info("task %d: still waiting, its message gone: sent again", task_id)
                    routes[task_id] = queue
        for task_id in sorted(routes):
            self.app.send_task(
                TASK_NAME,
                args=[task_id],
                queue=routes[task_id],
                retry=True,
                retry_policy={"max_retries": 2, "interval_start": 0.2, "interval_step": 0.5},
            )
            self._sent[task_id] = (routes[task_id], time.monotonic())
        return len(routes)

    def take_lost_workers(self) -> None:
        """Take the workers found lost (``ado.store.registry``), as every pool does at its
        beats: when the last worker is gone there is no pool left to notice, and its tasks
        must not stay ``running``. A task re-queued (``onWorkerLost: requeue``) is sent at
        once."""
        from ado.server.workers import log_lost

        self._lost_checked_at = time.monotonic()
        lost = self.store.take_lost_workers()
        log_lost(lost)
        if any(worker.task_ids for worker in lost):
            self.dispatch()

    def warm_up(self) -> None:
        """Load and open what the first message's sending would (Celery's message and
        routing modules, this thread's result backend, a broker connection, the default
        queue declared), so that the first task after a start is sent as fast as the next
        (its first send took 0.15-0.45 s here, the next ones 1-5 ms)."""
        import celery.app.task
        import celery.canvas  # noqa: F401

        self.app.backend  # noqa: B018  (per thread, built at its first use)
        amqp = self.app.amqp
        with self.app.producer_or_acquire() as producer:
            producer.connection.ensure_connection(max_retries=1)
            producer.maybe_declare(amqp.queues[self.config_loader().orchestration.queue])
        amqp.send_task_message  # noqa: B018  (built at its first use)

    def _empty_queues(self, queues: set[str]) -> set[str]:
        """Which of ``queues`` hold no message in the broker."""
        empty = set()
        with self.app.connection_for_read() as conn, conn.channel() as channel:
            for queue in queues:
                if channel.queue_declare(queue=queue).message_count == 0:
                    empty.add(queue)
        return empty
