"""Every event of a task: shown at once, stored in batches; a batch the database could not
take while it was unreachable is written again once it is back, never twice; none once the
task is no longer this process's (``TaskDisowned``)."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ado.errors import StoreUnavailable, TaskDisowned
from ado.orchestrator.caps import EventCaps
from ado.orchestrator.task import AttemptInfo, TaskUpdate
from ado.providers.events import AgentEvent
from ado.store.sql import retry_pauses

if TYPE_CHECKING:
    from ado.store.methods import SqlMethods

__all__ = ["EventRecorder"]

FLUSH_EVERY = 0.1  # seconds between event batches written to the store
FLUSH_SIZE = 64


class EventRecorder:
    """Hands each event to the live view at once; writes them to the store every 100 ms or
    64 events (and at once when asked: attempt boundaries, failovers, the end).

    An event left pending is written 100 ms later even when no other event follows, so
    live views reading the store (the server's WebSocket) see it within that time.
    Batches are written one at a time, in order. While the database is unreachable, the
    batch is tried again (``ado.store.sql.retry_pauses``: up to ``RETRY_FOR`` seconds),
    the agent's later events waiting behind it; each batch is written with its own time, and
    a retry first looks for it by that time (``batch_ids``): a write whose commit went
    through before the connection dropped is not stored a second time.

    An event written at once (``flush``: an attempt's end, a failover, the task's end) is
    shown once it is stored. When the store refuses a write because the task is no longer
    this process's (``TaskDisowned``: its pool was taken as lost), that event and every later
    one are neither stored nor shown: ``emit`` raises it, and the Runner stops the agent.
    """

    def __init__(
        self,
        store: SqlMethods,
        on_update: Callable[[TaskUpdate], None],
        caps: EventCaps | None = None,
    ) -> None:
        self.store = store
        self.on_update = on_update
        #: What is kept of a flood (``ado.orchestrator.caps``): dropped events are neither
        #: shown nor stored, so every view sees what the store holds.
        self.caps = caps
        self._pending: list[AgentEvent] = []
        self._owner: tuple[int, int | None] = (0, None)
        self._last_flush = 0.0
        self._lock = asyncio.Lock()
        self._timer: asyncio.TimerHandle | None = None
        self._later: asyncio.Task[None] | None = None
        #: The store's refusal, once met: the task is no longer this process's.
        self.disowned: TaskDisowned | None = None
        #: Called once, at the refusal (the Runner stops its agent).
        self.on_disowned: Callable[[], None] | None = None

    async def emit(
        self, task_id: int, attempt: AttemptInfo | None, event: AgentEvent, *, flush: bool = False
    ) -> None:
        if self.caps is not None:
            keep, notice = self.caps.admit(task_id, attempt, event)
            if notice is not None:
                await self._add(task_id, attempt, notice, flush=True)
            if not keep:
                return
        await self._add(task_id, attempt, event, flush=flush)

    async def _add(
        self, task_id: int, attempt: AttemptInfo | None, event: AgentEvent, *, flush: bool
    ) -> None:
        if self.disowned is not None:
            raise self.disowned
        update = TaskUpdate(task_id, attempt, event)
        if not flush:
            self.on_update(update)
        owner = (task_id, attempt.id if attempt else None)
        if self._pending and owner != self._owner:
            await self.flush()
        self._pending.append(event)
        self._owner = owner
        now = time.monotonic()
        if flush:
            await self.flush()
            self.on_update(update)  # stored: a refused one is never announced
        elif len(self._pending) >= FLUSH_SIZE or now - self._last_flush >= FLUSH_EVERY:
            await self.flush()
        elif self._timer is None:
            self._timer = asyncio.get_running_loop().call_later(FLUSH_EVERY, self._flush_later)

    def _flush_later(self) -> None:
        self._timer = None
        if self._pending and (self._later is None or self._later.done()):
            self._later = asyncio.create_task(self.flush())
            self._later.add_done_callback(_ignore_result)

    async def flush(self) -> None:
        async with self._lock:
            if self.disowned is not None:
                self._pending.clear()
                raise self.disowned
            if not self._pending:
                return
            batch, self._pending = self._pending, []
            task_id, attempt_id = self._owner
            self._last_flush = time.monotonic()
            try:
                await self._write(task_id, attempt_id, batch)
            except TaskDisowned as refused:
                self.disowned = refused
                if self.on_disowned is not None:
                    self.on_disowned()
                raise

    async def _write(self, task_id: int, attempt_id: int | None, batch: list[AgentEvent]) -> None:
        at = datetime.now(UTC)
        pauses: Iterator[float] | None = None
        while True:
            try:
                stored = (
                    await asyncio.to_thread(self.store.batch_ids, task_id, at) if pauses else []
                )
                if not stored:  # the first try, or one whose commit did not go through
                    await asyncio.to_thread(self.store.add_events, task_id, attempt_id, batch, at)
                return
            except StoreUnavailable:
                pauses = pauses or retry_pauses()
                pause = next(pauses, None)
                if pause is None:
                    raise
            await asyncio.sleep(pause)


def _ignore_result(task: asyncio.Task[None]) -> None:
    """A timed flush that failed loses its batch; the run's next write meets the same error
    (a refusal, ``TaskDisowned``, is kept: the next ``emit`` raises it)."""
    if not task.cancelled():
        task.exception()
