"""The server's worker pool: queued tasks run through the same ``Runner`` as ``ado run``.

    pool = WorkerPool(store, load_config, services=services)   # concurrency: maxParallelAgents
    pool.start()           # marks orphans interrupted, resumes the queue
    pool.wake()            # a task was queued
    await pool.cancel(7)   # True when this pool was running task 7
    await pool.stop(30)    # no new tasks; running ones get 30 s, then are cancelled

Tasks wait in the store with status ``queued`` (or ``parked`` until their reset:
``ado.routing.parking``) and their options in ``task.options``; a pool claims them one at a
time with a conditional UPDATE (``Store.claim_task``), so several servers on one PostgreSQL
never run the same task. At most ``concurrency`` run at once; the
rest stay queued. Every pool registers in the store's worker registry
(``ado.store.registry``: ``ado workers``, ``GET /api/workers``) and beats there every third
of ``orchestration.workerTimeout``; at each beat it takes the workers found lost (their
running tasks interrupted or re-queued per ``orchestration.onWorkerLost``). Each task's
start comes from the composition root (``ado.orchestrator.compose.build_start``) with the
configuration ``load_config`` gives at that moment, and runs up to the agent's spawn in one
worker thread (the claim, the task read, the configuration, ``TaskStart.begin``: one hop
between threads, not four), then its Runner (``Runner.from_start``) on the pool's loop;
"cancel this task" is ``ado.orchestrator.cancel.cancel_task``.

With ``claims=False`` (``ado worker``, the celery executor) the pool does not poll the queue:
each Celery message names a task, and ``run_task`` claims and runs it, the claim being the
guard against a message delivered twice (``ado.distributed``). Cancel requests are still
polled.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import os
import threading
import time
from collections.abc import Callable, Coroutine, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

from ado.host import hostname
from ado.server.warmup import warm_up
from ado.vocab import HitlPolicy, TaskStatus, WorkerKind, WorkerLostPolicy

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig, OrchestrationConfig
    from ado.orchestrator import Runner, TaskSpec
    from ado.orchestrator.compose import Services
    from ado.orchestrator.start import Begun, TaskStart
    from ado.store import Store, TaskView
    from ado.store.registry import LostWorker

__all__ = ["WorkerPool", "log_lost", "spec_from_task"]

log = logging.getLogger("ado.server")

#: How often a pool looks for tasks queued by other processes and for cancel requests.
POLL_INTERVAL = 0.5
#: How long ``cancel`` waits for a cancelled task to be recorded before answering.
CANCEL_WAIT = 15.0


#: The registry holds one row per process (the tasks' owner is a process): pools sharing a
#: process (tests run several) share it, registered by the first to start, removed by the
#: last to stop. Pools per (store, host, pid), under the lock.
_MEMBERS: dict[tuple[str, str, int], int] = {}
_MEMBERS_LOCK = threading.Lock()


@dataclass(eq=False)
class _Job:
    task_id: int
    runner: Runner | None = None
    cancelled: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None

    def cancel(self) -> None:
        self.cancelled = True
        if self.runner is not None:
            self.runner.cancel()


class WorkerPool:
    """Runs queued tasks, ``concurrency`` at a time (default ``orchestration.maxParallelAgents``).

    ``config_loader`` (the server's ``ConfigSource``) is resolved for each task through
    ``effective_config``, as ``ado run`` resolves its own, so settings saved meanwhile apply
    to the next task. Every job is owned by the pool's task group and finished by ``stop``.
    """

    def __init__(
        self,
        store: Store,
        config_loader: Callable[[], AdoConfig],
        *,
        concurrency: int | None = None,
        poll_interval: float = POLL_INTERVAL,
        services: Services | None = None,
        claims: bool = True,
        kind: WorkerKind = WorkerKind.SERVE,
        queues: Sequence[str] = (),
        name: str | None = None,
    ) -> None:
        self.store = store
        self.config_loader = config_loader
        #: What every task's Runner reports to: the server's notifier and telemetry.
        self.services = services
        self._concurrency = concurrency
        #: Poll the queue for tasks (False: ``run_task`` is told which, by a Celery message).
        self.claims = claims
        self._group: asyncio.TaskGroup | None = None
        self.poll_interval = poll_interval
        self._jobs: dict[int, _Job] = {}
        self._wake = asyncio.Event()
        self._accepting = False
        self._supervisor: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._host, self._pid = hostname(), os.getpid()
        #: What the worker registry says of this pool: ``ado serve``'s or ``ado worker``,
        #: the queues it takes from, its own name (a Celery node name).
        self.kind, self.queues, self.name = kind, tuple(queues), name
        #: Tasks this pool ran to their end (any status), since it started.
        self.tasks_done = 0
        self._next_beat = 0.0

    # -- control ----------------------------------------------------------------------------

    @property
    def concurrency(self) -> int:
        if self._concurrency is not None:
            return self._concurrency
        return self._orchestration().max_parallel_agents

    @property
    def running(self) -> list[int]:
        """Ids of the tasks this pool is running."""
        return sorted(self._jobs)

    def start(self) -> None:
        """Start taking tasks (in the running event loop)."""
        if self._supervisor is not None:
            return
        self._accepting = True
        self._supervisor = asyncio.create_task(self._supervise(), name="ado-worker-pool")

    async def ready(self) -> None:
        """Wait until orphans are marked and the pool takes tasks."""
        await self._ready.wait()

    def wake(self) -> None:
        """A task was queued: look at the queue now rather than at the next poll."""
        self._wake.set()

    async def cancel(self, task_id: int, *, wait: float = CANCEL_WAIT) -> bool:
        """Cancel task ``task_id`` if this pool runs it (False otherwise); waits up to
        ``wait`` seconds for it to be recorded cancelled."""
        job = self._jobs.get(task_id)
        if job is None:
            return False
        job.cancel()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(job.done.wait(), wait)
        return True

    async def run_task(self, task_id: int) -> Literal["ran", "taken", "stopping"]:
        """Claim task ``task_id`` and run it to its end: ``ran``; ``taken`` when it is no
        longer waiting (claimed or finished already: a message delivered twice starts
        nothing); ``stopping`` when the pool takes no more tasks (it stays queued)."""
        await self._ready.wait()
        if not self._accepting or self._group is None:
            return "stopping"
        if (ending := self._jobs.get(task_id)) is not None:
            task = await asyncio.to_thread(self.store.get_task, task_id)
            if (
                task is not None
                and task.status == TaskStatus.RUNNING
                and task.owner_pid == self._pid
                and task.owner_host == self._host
            ):
                return "taken"  # a message delivered twice: the task runs here
            await ending.done.wait()  # its run here was taken from this pool: it ends first
        job = _Job(task_id)
        self._jobs[task_id] = job  # before the claim: stop() waits for it
        try:
            # One hop to a thread: the claim, and once claimed the start up to the spawn.
            started = await asyncio.to_thread(self._begin, job, claim=True)
        except BaseException:  # the claim failed (the store is down): still waiting
            self._forget(job)
            raise
        if started is None:
            self._forget(job)
            return "taken"
        job.task = self._own(self._run(job, started), task_id)
        await job.done.wait()
        return "ran"

    async def stop(self, grace: float = 30.0) -> None:
        """Take no more tasks; let running ones finish for up to ``grace`` seconds, then
        cancel them (recorded ``cancelled``). Calling it again (a second Ctrl-C) cancels the
        running tasks at once."""
        if not self._accepting:
            self.cancel_all()
        self._accepting = False
        self._wake.set()
        if self._jobs:
            log.info("waiting up to %.0f s for %d running task(s)", grace, len(self._jobs))
            await self._wait_jobs(grace)
        if self._jobs:
            log.info("cancelling %d running task(s)", len(self._jobs))
            self.cancel_all()
            await self._wait_jobs(CANCEL_WAIT)
        for job in list(self._jobs.values()):  # the agent would not stop: interrupt the runner
            if job.task is not None:
                job.task.cancel()
        if self._supervisor is not None:
            with contextlib.suppress(asyncio.CancelledError):
                await self._supervisor
            self._supervisor = None

    def cancel_all(self) -> None:
        for job in list(self._jobs.values()):
            job.cancel()

    async def _wait_jobs(self, seconds: float) -> None:
        waits = [asyncio.create_task(job.done.wait()) for job in self._jobs.values()]
        try:
            await asyncio.wait(waits, timeout=seconds)
        finally:
            for waiter in waits:
                waiter.cancel()

    # -- the loop ---------------------------------------------------------------------------

    async def _supervise(self) -> None:
        await asyncio.to_thread(self.store.mark_orphans_interrupted)
        await warm_up(self.config_loader, self.store, self.services)  # a fast first task
        await asyncio.to_thread(self._register)
        try:
            async with asyncio.TaskGroup() as group:
                self._group = group
                self._ready.set()
                while self._accepting:
                    try:
                        await self._beat()
                        if self.claims:
                            await self._fill(group)
                        await self._take_cancel_requests()
                    except Exception:  # the store is down: keep serving, try again later
                        log.exception("worker pool: cannot read the queue")
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(self._wake.wait(), self.poll_interval)
                    self._wake.clear()
        finally:
            self._group = None
            with contextlib.suppress(Exception):
                await asyncio.to_thread(self._unregister)

    # -- the worker registry ----------------------------------------------------------------

    def _orchestration(self) -> OrchestrationConfig:
        from ado.orchestrator.compose import effective_config

        return effective_config(self.config_loader).orchestration

    def _register(self, *, again: bool = False) -> None:
        """Join the registry (``again``: after another process took this one as lost)."""
        settings = self._orchestration()
        key = (self.store.url_redacted, self._host, self._pid)
        with _MEMBERS_LOCK:
            members = _MEMBERS.get(key, 0)
            if not members or (again and not self.store.is_worker(self._host, self._pid)):
                log_lost(
                    self.store.register_worker(
                        hostname=self._host,
                        pid=self._pid,
                        kind=self.kind,
                        concurrency=self.concurrency,
                        queues=self.queues,
                        on_lost=settings.on_worker_lost,
                        timeout=settings.worker_timeout,
                        name=self.name,
                    )
                )
            if not again:
                _MEMBERS[key] = members + 1
        self._next_beat = time.monotonic() + settings.worker_timeout / 3

    def _unregister(self) -> None:
        key = (self.store.url_redacted, self._host, self._pid)
        with _MEMBERS_LOCK:
            members = _MEMBERS.pop(key, 1) - 1
            if members:
                _MEMBERS[key] = members
            else:
                self.store.unregister_worker(self._host, self._pid)

    async def _beat(self) -> None:
        """Every third of ``workerTimeout``: the heartbeat, then the lost workers taken."""
        if time.monotonic() < self._next_beat:
            return
        settings = await asyncio.to_thread(self._orchestration)
        self._next_beat = time.monotonic() + settings.worker_timeout / 3
        alive = await asyncio.to_thread(
            self.store.beat,
            self._host,
            self._pid,
            concurrency=settings.max_parallel_agents
            if self._concurrency is None
            else self._concurrency,
            tasks_done=self.tasks_done,
            timeout=settings.worker_timeout,
        )
        if not alive:  # another pool found this one lost and released its tasks
            log.error(
                "worker pool %d on %s was taken as lost (no heartbeat for %.0f s): its tasks "
                "went on without it; stopping its agents and registering again",
                self._pid, self._host, settings.worker_timeout,
            )  # fmt: skip
            self.cancel_all()
            await asyncio.to_thread(functools.partial(self._register, again=True))
        log_lost(await asyncio.to_thread(self.store.take_lost_workers))

    # -- claiming and running ---------------------------------------------------------------

    async def _fill(self, group: asyncio.TaskGroup) -> None:
        limit = await asyncio.to_thread(lambda: self.concurrency)
        while self._accepting and len(self._jobs) < limit:
            # Not a task whose run here is still ending, taken from this pool (found lost).
            task_id = await asyncio.to_thread(self.store.claim_next, set(self._jobs))
            if task_id is None:
                return
            job = _Job(task_id)
            self._jobs[task_id] = job
            job.task = group.create_task(self._start(job), name=f"ado-task-{task_id}")

    async def _take_cancel_requests(self) -> None:
        if not self._jobs:
            return
        for task_id in await asyncio.to_thread(self.store.take_cancel_requests, list(self._jobs)):
            if job := self._jobs.get(task_id):
                job.cancel()

    def _begin(self, job: _Job, *, claim: bool = False) -> _Started | None:
        """In a worker thread, a task's start up to its agent's spawn, in one go: the claim
        (``claim``: None when another took it first), the task read, the configuration,
        ``TaskStart.begin``. A failure after the claim is returned, for ``_run`` to record."""
        from ado.orchestrator.compose import build_start, effective_config

        if claim and not self.store.claim_task(job.task_id):
            return None
        try:
            task = self.store.get_task(job.task_id)
            if task is None:
                return _Started()
            config = effective_config(self.config_loader)
            start = build_start(config, self.store, self.services)
            spec = spec_from_task(task)
            # Cancelled meanwhile: stored and routed, no agent started.
            begun = start.begin(
                spec, task_id=job.task_id, resumed=task, open_first=not job.cancelled
            )
            return _Started(start, begun)
        except Exception as exc:
            return _Started(error=exc)

    async def _start(self, job: _Job) -> None:
        """A task claimed from the queue (``_fill``): begun in a thread, then run."""
        try:
            started = await asyncio.to_thread(self._begin, job)
        except BaseException:
            self._forget(job)
            raise
        await self._run(job, started or _Started())  # None only for a claim

    async def _run(self, job: _Job, started: _Started) -> None:
        from ado.orchestrator.runner import Runner

        try:
            if started.error is not None:
                raise started.error
            if started.start is None or started.begun is None:
                return  # the task is gone
            job.runner = Runner.from_start(started.start)
            job.runner.park_in_queue = True  # all limited: parked, resumed at the reset
            if job.cancelled:
                job.runner.cancel()
            log.info("task %d: running", job.task_id)
            result = await job.runner.run(started.begun.spec, begun=started.begun)
            log.info("task %d: %s", job.task_id, result.status)
        except Exception as exc:  # a bad option, a config error: the task fails, the pool lives
            log.exception("task %d failed", job.task_id)
            with contextlib.suppress(Exception):
                await asyncio.to_thread(
                    self.store.finish_task,
                    job.task_id,
                    status=TaskStatus.FAILED,
                    error=str(exc),
                    exit_code=1,
                )
        finally:
            self.tasks_done += 1
            self._forget(job)
            self._wake.set()

    def _forget(self, job: _Job) -> None:
        if self._jobs.get(job.task_id) is job:
            del self._jobs[job.task_id]
        job.done.set()

    def _own(self, coro: Coroutine[Any, Any, None], task_id: int) -> asyncio.Task[None]:
        """``coro`` as a task of the pool's group; of the loop's when the group has closed
        while the task was starting (stopping: its agent runs, its end is recorded)."""
        name = f"ado-task-{task_id}"
        if self._group is not None:
            with contextlib.suppress(RuntimeError):  # the group is closing
                return self._group.create_task(coro, name=name)
        return asyncio.get_running_loop().create_task(coro, name=name)


@dataclass(frozen=True, slots=True)
class _Started:
    """What ``WorkerPool._begin`` did: the start and its ``Begun``, nothing (the task is
    gone), or the error that failed the task."""

    start: TaskStart | None = None
    begun: Begun | None = None
    error: Exception | None = None


def log_lost(lost: Sequence[LostWorker]) -> None:
    """Say which workers were found lost and what became of their tasks."""
    for worker in lost:
        log.warning(
            "worker pool %d on %s lost (%s): %s its task(s) %s",
            worker.pid,
            worker.hostname,
            worker.why,
            "re-queued" if worker.on_lost == WorkerLostPolicy.REQUEUE else "interrupted",
            ", ".join(map(str, worker.task_ids)) or "(none)",
        )


def spec_from_task(task: TaskView) -> TaskSpec:
    """The ``TaskSpec`` a queued task's stored options describe."""
    from ado.options import TaskOptions
    from ado.orchestrator import TaskSpec

    options = TaskOptions.from_stored(task.options)
    if options.hitl_policy is None:
        options.hitl_policy = HitlPolicy(task.hitl_policy)
    # Nobody to ask before a costly API run: the cost limits still apply.
    return TaskSpec(prompt=task.prompt, cwd=Path(task.cwd), options=options, assume_yes=True)
