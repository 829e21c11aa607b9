"""``ado worker``: a Celery worker whose messages run through a ``WorkerPool``.

    code = run_worker(loaded, WorkerOptions(concurrency=2, queues=["ado"]))

The pool (``ado.server.workers.WorkerPool`` with ``claims=False``) lives on an event loop of
its own thread: its Runner comes from the composition root as in ``ado serve``, and it polls
the stored cancel requests, so a cancel from the CLI, the API or the dashboard reaches the
agent here. Celery's thread pool runs one message per slot; each blocks until its task ends,
then the message is acknowledged (``acks_late``). A message whose task is no longer waiting
(claimed by another delivery, cancelled, finished) is acknowledged at once.

Shutdown (SIGTERM or Ctrl-C, Celery's warm shutdown): no new message is taken; running tasks
get ``grace`` seconds, then are cancelled (recorded ``cancelled``), as with ``ado serve``.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import warnings
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ado.distributed.settings import require_shared_store
from ado.vocab import WorkerKind

if TYPE_CHECKING:
    from ado.config.loader import LoadedConfig
    from ado.server.workers import WorkerPool

__all__ = ["WorkerOptions", "run_worker"]

log = logging.getLogger("ado.distributed")


@dataclass(frozen=True, slots=True)
class WorkerOptions:
    #: Agents at a time; None: ``orchestration.maxParallelAgents``.
    concurrency: int | None = None
    #: The queues to take messages from; empty: ``orchestration.queue``.
    queues: list[str] = field(default_factory=list)
    #: Celery's node name (``celery@host`` by default).
    hostname: str | None = None
    #: Seconds running tasks get to finish on shutdown before they are cancelled.
    grace: float = 30.0
    loglevel: str = "INFO"


def run_worker(loaded: LoadedConfig, options: WorkerOptions) -> int:
    """Run the worker until it is stopped; the exit code."""
    from celery.exceptions import CPendingDeprecationWarning, Reject
    from celery.signals import worker_shutting_down

    from ado.config.source import ConfigSource
    from ado.distributed.app import make_app
    from ado.orchestrator.compose import Services
    from ado.server.workers import WorkerPool
    from ado.store import Store
    from ado.store.urls import store_url

    require_shared_store(store_url(loaded.config, loaded.base_dir))
    # Celery warns at every broker reconnection that it will cancel the running tasks one
    # day; ADO keeps them running on purpose (ado.distributed.app).
    warnings.filterwarnings(
        "ignore", r"\s*In Celery 5\.1 we introduced", CPendingDeprecationWarning
    )
    make_app(loaded.config)  # a missing or wrong broker: a clear error before anything starts
    store = Store.open(loaded.config, loaded.base_dir)
    loop = asyncio.new_event_loop()
    thread = threading.Thread(target=loop.run_forever, name="ado-worker-pool", daemon=True)
    try:
        source = ConfigSource(loaded, store)
        config = source()
        concurrency = options.concurrency or config.orchestration.max_parallel_agents
        services = Services.for_server(source, store)
        pool = WorkerPool(
            store,
            source,
            concurrency=concurrency,
            services=services,
            claims=False,
            kind=WorkerKind.WORKER,  # in the worker registry (ado workers), beating from its loop
            queues=options.queues or [config.orchestration.queue],
            name=options.hostname,
        )
        thread.start()
        _call(loop, _start(pool))

        def execute(task_id: int) -> None:
            outcome = _call(loop, pool.run_task(task_id))
            if outcome == "stopping":  # back to the queue, for another worker
                raise Reject("the worker is stopping", requeue=True)

        def shutting_down(**_: Any) -> None:
            log.info("stopping: no new tasks; running ones get %g s", options.grace)
            asyncio.run_coroutine_threadsafe(pool.stop(options.grace), loop)

        worker_shutting_down.connect(shutting_down, weak=False)
        app = make_app(config, execute=execute)
        worker = app.Worker(
            pool="threads",
            concurrency=concurrency,
            queues=options.queues or [config.orchestration.queue],
            hostname=options.hostname,
            loglevel=options.loglevel,
            # A task may run for hours: no time limits, no restarts of the pool.
            optimization="fair",
            # No start-up handshake with other workers: ADO's state is in the store.
            without_mingle=True,
            without_gossip=True,
        )
        worker.start()
        _call(loop, pool.stop(options.grace))
        _call(loop, services.aclose(grace=5.0))
        services.shutdown()
        return int(worker.exitcode or 0)
    finally:
        if thread.is_alive():
            loop.call_soon_threadsafe(loop.stop)
            thread.join(10)
        store.close()


async def _start(pool: WorkerPool) -> None:
    pool.start()
    await pool.ready()


def _call(loop: asyncio.AbstractEventLoop, coro: Any) -> Any:
    return asyncio.run_coroutine_threadsafe(coro, loop).result()
