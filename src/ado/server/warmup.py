"""A worker pool's first task starts as fast as its next.

    await warm_up(config_loader, store, services)   # before the pool takes tasks

A long-running process (``ado serve``'s pool, an ``ado worker``) used to load what a task's
start needs at its first task: the Runner and the routing modules, the configured agents'
adapters, the notifier of the current settings, the price table, a database connection for
the routing's reads. That made the first task after a start 0.3-1.4 s slower to reach its
agent than the next ones (docs/performance.md, "Load simulation"). ``warm_up`` does it
before the pool reports ready: it builds what a task's start builds and plans a route for
a task without filters, which only reads the store. Nothing is written, nothing is spawned;
a failure (the store down at start-up) is logged and left to the first task to meet.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.orchestrator.compose import Services
    from ado.store.methods import SqlMethods

__all__ = ["warm_up"]

log = logging.getLogger("ado.server")


async def warm_up(
    config_loader: Callable[[], AdoConfig], store: SqlMethods, services: Services | None
) -> None:
    """Load and open what a task's start would, in a worker thread; the notifier of the
    current settings too, kept for the tasks."""
    from ado.orchestrator.compose import effective_config

    try:
        config = await asyncio.to_thread(effective_config, config_loader)
        await asyncio.to_thread(_load, config, store)
        if services is not None:
            services.hooks()  # the notifier of the current settings, kept for the tasks
    except Exception as exc:
        log.info("warming up the worker pool failed (%s); the first task loads it", exc)


def _load(config: AdoConfig, store: SqlMethods) -> None:
    from ado import pricing
    from ado.orchestrator import attempt, runner  # noqa: F401  (what a Runner imports)
    from ado.orchestrator.compose import build_start
    from ado.routing import limits, outcomes, quota, reserve  # noqa: F401  (imported lazily)
    from ado.routing.router import RouteFilters, Router

    start = build_start(config, store)
    Router(config, store, installed=start.installed()).plan(RouteFilters())
    for provider, settings in config.providers.items():
        if settings.enabled:
            start.adapters(provider)
    pricing.warm()
