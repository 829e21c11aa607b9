"""Every event of a task: shown at once, stored in batches."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from ado.orchestrator.task import AttemptInfo, TaskUpdate
from ado.providers.events import AgentEvent

if TYPE_CHECKING:
    from ado.store import Store

__all__ = ["EventRecorder"]

FLUSH_EVERY = 0.1  # seconds between event batches written to the store
FLUSH_SIZE = 64


class EventRecorder:
    """Hands each event to the live view at once; writes them to the store every 100 ms or
    64 events (and at once when asked: attempt boundaries, failovers, the end)."""

    def __init__(self, store: Store, on_update: Callable[[TaskUpdate], None]) -> None:
        self.store = store
        self.on_update = on_update
        self._pending: list[AgentEvent] = []
        self._owner: tuple[int, int | None] = (0, None)
        self._last_flush = 0.0

    async def emit(
        self, task_id: int, attempt: AttemptInfo | None, event: AgentEvent, *, flush: bool = False
    ) -> None:
        self.on_update(TaskUpdate(task_id, attempt, event))
        owner = (task_id, attempt.id if attempt else None)
        if self._pending and owner != self._owner:
            await self.flush()
        self._pending.append(event)
        self._owner = owner
        now = time.monotonic()
        if flush or len(self._pending) >= FLUSH_SIZE or now - self._last_flush >= FLUSH_EVERY:
            await self.flush()

    async def flush(self) -> None:
        if not self._pending:
            return
        batch, self._pending = self._pending, []
        task_id, attempt_id = self._owner
        self._last_flush = time.monotonic()
        await asyncio.to_thread(self.store.add_events, task_id, attempt_id, batch)
