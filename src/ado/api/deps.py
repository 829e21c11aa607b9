"""What routes depend on, as ``Annotated`` dependencies: the store, the effective
configuration (``ado.config.source.ConfigSource``: the file plus what was saved through the
API), the worker pool."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import Depends, Request

from ado.config.loader import LoadedConfig
from ado.config.resolve import Resolved
from ado.config.schema import AdoConfig
from ado.config.source import ConfigSource
from ado.orchestrator.cancel import TaskPool
from ado.store.database import Store

__all__ = [
    "ConfigDep",
    "ConfigSourceDep",
    "LoadedDep",
    "PoolDep",
    "ResolvedDep",
    "StoreDep",
    "quick_read",
]

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


async def _store(request: Request) -> Store:
    store: Store = request.app.state.store
    return store


async def _source(request: Request) -> ConfigSource:
    source: ConfigSource = request.app.state.config_loader
    return source


async def _config(request: Request) -> AdoConfig:
    source: ConfigSource = request.app.state.config_loader
    return await source.aget()


async def _resolved(request: Request) -> Resolved:
    source: ConfigSource = request.app.state.config_loader
    return await source.aresolved()


async def _loaded(request: Request) -> LoadedConfig:
    source: ConfigSource = request.app.state.config_loader
    return source.loaded


async def _pool(request: Request) -> TaskPool | None:
    pool: TaskPool | None = getattr(request.app.state, "pool", None)
    return pool


StoreDep = Annotated[Store, Depends(_store)]
ConfigDep = Annotated[AdoConfig, Depends(_config)]
ConfigSourceDep = Annotated[ConfigSource, Depends(_source)]
ResolvedDep = Annotated[Resolved, Depends(_resolved)]
LoadedDep = Annotated[LoadedConfig, Depends(_loaded)]
PoolDep = Annotated[TaskPool | None, Depends(_pool)]
