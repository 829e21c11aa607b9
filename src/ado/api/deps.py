"""What routes depend on, as ``Annotated`` dependencies: the store, the effective
configuration (the file plus settings saved through the API), the worker pool."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request

from ado.config.loader import LoadedConfig
from ado.config.overrides import effective_config
from ado.config.schema import AdoConfig
from ado.orchestrator.cancel import TaskPool
from ado.store.database import Store

__all__ = ["ConfigDep", "ConfigLoader", "LoadedDep", "PoolDep", "StoreDep", "quick_read"]

T = TypeVar("T")


async def quick_read(store: Store, read: Callable[..., T], *args: Any) -> T:
    """A short indexed read from an ``async def`` route.

    On SQLite it runs inline: a keyset page is a local read of ~0.5 ms, and the hop to a
    worker thread and back cost twice that under load (GET /api/tasks: 2.4 → 1.0 ms of
    server CPU per request, docs/performance.md). On PostgreSQL it is network I/O, so it
    runs in a worker thread and never blocks the event loop.
    """
    if store.dialect == "sqlite":
        return read(*args)
    return await anyio.to_thread.run_sync(read, *args)


class ConfigLoader:
    """The effective configuration, cached for ``ttl`` seconds (settings saved through this
    server invalidate it at once; another server's within ``ttl``). Calling it blocks
    (a store read when stale); ``aget`` refreshes in a worker thread."""

    def __init__(self, loaded: LoadedConfig, store: Store, ttl: float = 2.0) -> None:
        self.loaded = loaded
        self.store = store
        self.ttl = ttl
        self._cached: AdoConfig | None = None
        self._at = 0.0
        self._lock = threading.Lock()

    def __call__(self) -> AdoConfig:
        cached = self._fresh()
        if cached is not None:
            return cached
        config = effective_config(self.loaded.config, self.store)
        with self._lock:
            self._cached, self._at = config, time.monotonic()
        return config

    async def aget(self) -> AdoConfig:
        cached = self._fresh()
        if cached is not None:
            return cached
        return await anyio.to_thread.run_sync(self)

    def invalidate(self) -> None:
        with self._lock:
            self._cached = None

    def _fresh(self) -> AdoConfig | None:
        cached = self._cached
        if cached is not None and time.monotonic() - self._at < self.ttl:
            return cached
        return None


async def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _config(request: Request) -> AdoConfig:
    loader: ConfigLoader = request.app.state.config_loader
    return await loader.aget()


async def _loaded(request: Request) -> LoadedConfig:
    loader: ConfigLoader = request.app.state.config_loader
    return loader.loaded


async def _pool(request: Request) -> TaskPool | None:
    pool: TaskPool | None = getattr(request.app.state, "pool", None)
    return pool


StoreDep = Annotated[Store, Depends(_store)]
ConfigDep = Annotated[AdoConfig, Depends(_config)]
LoadedDep = Annotated[LoadedConfig, Depends(_loaded)]
PoolDep = Annotated[TaskPool | None, Depends(_pool)]
