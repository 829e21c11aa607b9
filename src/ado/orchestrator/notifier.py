"""``ado run``'s notification listener, built after the agent's spawn.

Building a notification manager imports the channels and opens a ``Store`` of its own for
the alert history: ~100 ms that the path to the spawn does not pay (docs/performance.md).
``Services.for_run`` (``ado.orchestrator.compose``) makes one when notifications are on.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Coroutine
from typing import TYPE_CHECKING, Any, TypeVar

from ado.orchestrator.hooks import RunnerHooks

if TYPE_CHECKING:
    import asyncio

    from ado.config.loader import StrPath
    from ado.config.schema import AdoConfig
    from ado.notifications.manager import NotificationManager
    from ado.orchestrator.task import AttemptInfo, TaskUpdate

__all__ = ["LateNotifier"]

log = logging.getLogger("ado.notifications")
T = TypeVar("T")


class _ManagedListener(RunnerHooks):
    """A notification manager's listener, and the manager to close (None: nothing)."""

    def __init__(self, manager: NotificationManager | None) -> None:
        self.manager = manager
        self.listener = manager.listener() if manager is not None else None

    def on_update(self, update: TaskUpdate) -> None:
        if self.listener is not None:
            self.listener.on_update(update)

    async def aclose(self, grace: float) -> None:
        if self.manager is not None:
            await self.manager.aclose(grace=grace)


class LateNotifier(RunnerHooks):
    """A notification listener built after the first agent spawns, in a worker thread.

    Until it is ready, updates wait in order; then they are replayed to it, on the event
    loop's thread, and later ones go straight through. A task that ends without spawning an
    agent (no provider available…) builds it at ``aclose``, so nothing is lost.
    """

    def __init__(self, config: AdoConfig, base_dir: StrPath) -> None:
        self._build = lambda: _open_notifier(config, base_dir)
        self._pending: list[TaskUpdate] = []
        self._inner: _ManagedListener | None = None
        self._close_store: Callable[[], None] | None = None
        self._loading: asyncio.Task[None] | None = None

    def on_update(self, update: TaskUpdate) -> None:
        if self._inner is None:
            self._pending.append(update)
        else:
            self._inner.on_update(update)

    def on_spawn(self, task_id: int, attempt: AttemptInfo, pid: int) -> None:
        if self._loading is None:
            self._loading = _in_loop(self._load())

    async def _load(self) -> None:
        try:
            manager, close = await _in_thread(self._build)
        except Exception:  # the store or a channel's set-up: the task goes on without them
            log.warning("notifications are off for this run", exc_info=True)
            self._pending.clear()
            self._inner = _ManagedListener(None)
            return
        self._attach(manager, close)

    def _attach(self, manager: NotificationManager, close: Callable[[], None]) -> None:
        inner = _ManagedListener(manager)
        self._close_store = close
        for update in self._pending:
            inner.on_update(update)
        self._pending.clear()
        self._inner = inner

    async def aclose(self, grace: float) -> None:
        if self._loading is not None:
            await self._loading
        elif self._pending:
            self._loading = _in_loop(self._load())
            await self._loading
        if self._inner is not None:
            await self._inner.aclose(grace)
        if self._close_store is not None:
            with contextlib.suppress(Exception):
                self._close_store()


# asyncio loads with ``ado run``'s event loop, after the spawn: this module is made before.
def _in_loop(coro: Coroutine[Any, Any, None]) -> asyncio.Task[None]:
    import asyncio

    return asyncio.create_task(coro)


async def _in_thread(func: Callable[[], T]) -> T:
    import asyncio

    return await asyncio.to_thread(func)


def _open_notifier(
    config: AdoConfig, base_dir: StrPath
) -> tuple[NotificationManager, Callable[[], None]]:
    """The manager of ``ado run``, recording alerts into a ``Store`` of its own."""
    from ado.config.snapshot import as_model
    from ado.notifications import NotificationManager
    from ado.store import Store

    config = as_model(config)  # the channels validate their settings: the real models
    store = Store.open(config, base_dir)
    return NotificationManager.from_config(config, store), store.close
