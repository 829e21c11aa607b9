"""The live bus: the one source of live data for WebSocket clients.

    bus = LiveBus(store)            # started with bus.start() in the server's event loop
    async for message in bus.subscribe(after_id=1234):   # replay after 1234, then live
        ...

It polls the store (events every 25 ms while someone subscribes, else every 250 ms; tasks
and cooldowns every 250 ms) rather than
listening to the in-process runner, so tasks run by ``ado run`` in another terminal, or by
another server on the same PostgreSQL, show up exactly like the server's own. Messages are
built by ``ado.api.wire`` (serialised like the REST API's, with ``pydantic_core.to_json``);
their models are ``ado.api.schemas.LiveMessage``, in the OpenAPI document's components:

- ``{"type": "event", "event": {id, taskId, attemptId, kind, createdAt, data}}`` (a client
  that asks for batches gets consecutive ones as ``{"type": "events", "events": [...]}``,
  ``ado.api.routes.ws``)
- ``{"type": "task", "task": {...}}`` when a task appears or its status or totals change
  (the keys of ``GET /api/tasks`` items)
- ``{"type": "provider", "provider": ID, "cooldowns": [...]}`` when its cooldowns change
- ``{"type": "resync", "afterId": N}`` to a subscriber that fell behind: its queue was
  dropped and it is replayed from the store after event ``N``; task states may have been
  missed, so clients re-fetch them.

Each message is a ``wire.Message``: read like a dict (``message["event"]``), its JSON text
written once (``json()``) however many subscribers send it; an event's stored data goes
into that text as stored, never decoded (``wire.event_message_text``).

PostgreSQL assigns event ids when rows are inserted, not when they commit: a batch may
become visible after a later id already was. The bus remembers the ids it skipped (gaps) for
``GAP_TIMEOUT`` seconds and reads again from the oldest one until they appear.

Replicas (several servers on one PostgreSQL) each run a bus; ids are the store's, so a client
resumes on any replica after the last id it saw. A replica whose bus is behind that id (it
polls on its own clock) does not send the client the events up to it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict, deque
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ado.api import wire
from ado.api.wire import Message
from ado.vocab import TaskStatus

if TYPE_CHECKING:
    from ado.store import CooldownView, EventText, Store, TaskView

__all__ = ["GAP_TIMEOUT", "LiveBus", "Message", "Subscription"]

log = logging.getLogger("ado.server")


#: How long a skipped event id is waited for (a transaction committing late).
GAP_TIMEOUT = 3.0
#: Seconds between two reads of the store while someone subscribes: the bulk of the latency
#: to a client (docs/performance.md). With nobody subscribed, FULL_POLL_INTERVAL.
POLL_INTERVAL = 0.025
#: Seconds between two reads of the queued/running tasks and the cooldowns when no event
#: came (a task queued, claimed or cancelled without events; a cooldown expiring).
FULL_POLL_INTERVAL = 0.25
PAGE = 1000
#: Messages a subscriber may have pending before it is dropped and resynced.
QUEUE_SIZE = 2000
_FINISHED_KEPT = 2000


@dataclass(slots=True)
class _Gap:
    low: int
    high: int
    deadline: float


class LiveBus:
    def __init__(self, store: Store, poll_interval: float = POLL_INTERVAL) -> None:
        self.store = store
        self.poll_interval = poll_interval
        self.last_id = 0
        self._gaps: list[_Gap] = []
        self._subscribers: set[Subscription] = set()
        self._tasks: OrderedDict[int, tuple[Any, ...]] = OrderedDict()
        self._active: set[int] = set()
        self._cooldowns: dict[str, list[dict[str, Any]]] = {}
        self._poller: asyncio.Task[None] | None = None
        self._started = asyncio.Event()
        self._subscribed = asyncio.Event()
        self._closed = False

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> None:
        if self._poller is None:
            self._poller = asyncio.create_task(self._run(), name="ado-live-bus")

    async def ready(self) -> None:
        await self._started.wait()

    async def stop(self) -> None:
        """Stop polling; every subscription ends (WebSockets close)."""
        self._closed = True
        if self._poller is not None:
            self._poller.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._poller
            self._poller = None
        for sub in list(self._subscribers):
            sub.close()

    # -- subscribers ------------------------------------------------------------------------

    def subscribe(self, after_id: int | None = None) -> Subscription:
        """Live messages from now on; with ``after_id``, stored events after it first."""
        sub = Subscription(self, after_id)
        if self._closed:
            sub.close()
        else:
            self._subscribers.add(sub)
            self._subscribed.set()
        return sub

    def publish(self, *messages: dict[str, Any]) -> None:
        """Send ``messages`` to every subscriber, in order (the bus's own, and changes the
        store does not show); each is written as JSON once, for all of them."""
        self._publish(*(m if isinstance(m, Message) else Message(m) for m in messages))

    def _publish(self, *messages: Message) -> None:
        for sub in list(self._subscribers):
            sub.offer(*messages)

    def floor(self) -> int:
        """Every event with an id at or below this was already published."""
        return min([self.last_id, *(g.low - 1 for g in self._gaps)])

    # -- polling ----------------------------------------------------------------------------

    async def _run(self) -> None:
        while True:
            try:
                await self._init()
                break
            except Exception:
                log.exception("live bus: cannot read the store; retrying")
                await asyncio.sleep(1)
        self._started.set()
        last_full = time.monotonic()
        while True:
            if self._subscribers:
                await asyncio.sleep(self.poll_interval)
            else:  # nobody listens: keep up with the store slowly, wake for a subscriber
                self._subscribed.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._subscribed.wait(), FULL_POLL_INTERVAL)
            full = time.monotonic() - last_full >= FULL_POLL_INTERVAL
            if full:
                last_full = time.monotonic()
            try:
                await self.poll(full=full)
            except Exception:  # the store is down for a moment: keep the subscribers
                log.exception("live bus: cannot read the store")
                await asyncio.sleep(1)

    async def _init(self) -> None:
        def read() -> tuple[int, list[TaskView], list[CooldownView]]:
            return (
                self.store.last_event_id(),
                self.store.active_tasks(),
                self.store.cooldowns(datetime.now(UTC)),
            )

        self.last_id, active, cooldowns = await asyncio.to_thread(read)
        for task in active:
            self._remember(task)
        self._active = {t.id for t in active}
        self._cooldowns = _by_provider(cooldowns)

    async def poll(self, *, full: bool = True) -> None:
        """One round: changed tasks, new events, changed cooldowns. Without ``full`` only
        events are read (and the tasks, when there are some; not the cooldowns)."""
        floor = self.floor()
        known_active = set(self._active)

        def read() -> tuple[list[EventText], list[TaskView] | None, list[CooldownView] | None]:
            events: list[EventText] = []
            after = floor
            while len(events) < 10 * PAGE:
                page = self.store.events_since(after, limit=PAGE)
                events.extend(page)
                if len(page) < PAGE:
                    break
                after = page[-1].id
            if not (full or events):
                return events, None, None
            active = self.store.active_tasks()
            ids = {t.id for t in active}
            others = (known_active - ids) | {e.task_id for e in events if e.task_id not in ids}
            tasks = active + self.store.tasks_by_id(others)
            # Cooldowns on the full round only: a poll that found events need not wait
            # for them (a cooldown shows within FULL_POLL_INTERVAL).
            return events, tasks, self.store.cooldowns(datetime.now(UTC)) if full else None

        events, tasks, cooldowns = await asyncio.to_thread(read)
        if tasks is None:
            return
        self._active = {t.id for t in tasks if TaskStatus(t.status).is_active}
        changed = [t for t in tasks if self._remember(t)]
        # A task before its events; a finished task's last events before its final state.
        self._publish(
            *(wire.task_message(t) for t in changed if t.id in self._active),
            *(wire.event_message_text(e) for e in self._new_events(events)),
            *(wire.task_message(t) for t in changed if t.id not in self._active),
        )
        if cooldowns is None:
            return
        current = _by_provider(cooldowns)
        for provider in sorted(set(current) | set(self._cooldowns)):
            if current.get(provider) != self._cooldowns.get(provider):
                self.publish(
                    {
                        "type": "provider",
                        "provider": provider,
                        "cooldowns": current.get(provider, []),
                    }
                )
        self._cooldowns = current

    def _new_events(self, events: list[EventText]) -> list[EventText]:
        """The events not published yet; remembers the ids skipped on the way."""
        fresh = []
        now = time.monotonic()
        for event in events:
            if event.id > self.last_id:
                if event.id > self.last_id + 1:
                    self._gaps.append(_Gap(self.last_id + 1, event.id - 1, now + GAP_TIMEOUT))
                self.last_id = event.id
                fresh.append(event)
            elif self._fill_gap(event.id):
                fresh.append(event)
        self._gaps = [g for g in self._gaps if g.deadline > now and g.low <= g.high]
        return fresh

    def _fill_gap(self, event_id: int) -> bool:
        for gap in self._gaps:
            if gap.low <= event_id <= gap.high:
                self._gaps.remove(gap)
                if gap.low < event_id:
                    self._gaps.append(_Gap(gap.low, event_id - 1, gap.deadline))
                if event_id < gap.high:
                    self._gaps.append(_Gap(event_id + 1, gap.high, gap.deadline))
                return True
        return False

    def _remember(self, task: TaskView) -> bool:
        """Store the task's signature; True when it is new or changed."""
        signature = _signature(task)
        if self._tasks.get(task.id) == signature:
            return False
        self._tasks[task.id] = signature
        self._tasks.move_to_end(task.id)
        while len(self._tasks) > _FINISHED_KEPT + len(self._active):
            self._tasks.popitem(last=False)
        return True

    def _drop(self, sub: Subscription) -> None:
        self._subscribers.discard(sub)


class Subscription(AsyncIterator[Message]):
    """One subscriber's messages: a replay of stored events, then live ones (bounded)."""

    def __init__(self, bus: LiveBus, after_id: int | None) -> None:
        self.bus = bus
        self._queue: deque[Message | None] = deque()
        self._ready = asyncio.Event()
        self._replay_after = after_id
        self._replayed: set[int] = set()
        self._page: deque[EventText] = deque()
        self._floor = bus.floor()
        self._overflowed = False
        self._closed = False
        self.last_event_id = after_id if after_id is not None else bus.last_id
        #: Resumed after an id this bus has not reached yet (the client read it from another
        #: replica): the events up to it that the bus publishes later, the client has. Capped
        #: at the store's last id by the first replay read (an id beyond it was never seen).
        self._had: tuple[int, int] | None = None
        self._behind = bus.last_id if after_id is not None and after_id > bus.last_id else None

    def offer(self, *messages: Message) -> None:
        """Queue ``messages`` without blocking: a full queue is dropped and resynced."""
        queue = self._queue
        for message in messages:
            if self._closed or self._overflowed:
                break
            if len(queue) >= QUEUE_SIZE:
                self._overflowed = True
                queue.clear()
            else:
                queue.append(message)
        if messages:
            self._ready.set()

    def close(self) -> None:
        """End the subscription: the iterator stops after what is queued."""
        if not self._closed:
            self._closed = True
            self._queue.append(None)
            self._ready.set()
            self.bus._drop(self)

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> Message:
        while True:
            message = self.take()
            if message is not None:
                return message
            if self._replay_after is not None:
                await self._read_replay()
                continue
            if not self._queue:
                self._ready.clear()
                await self._ready.wait()
                continue
            raise StopAsyncIteration  # ended (the queue holds its end mark)

    def take(self) -> Message | None:
        """The next message when it is ready without waiting or reading the store, else
        None (then ``anext`` waits for it): a sender drains what is queued with no task
        or timer per message."""
        while True:
            if self._overflowed:
                self._overflowed = False
                self._replay_after = self.last_event_id
                self._replayed.clear()
                self._page.clear()
                self._floor = self.bus.floor()
                return Message({"type": "resync", "afterId": self.last_event_id})
            if self._replay_after is not None:
                return self._replayed_one() if self._page else None
            if not self._queue or self._queue[0] is None:
                return None
            message = self._queue.popleft()
            assert message is not None
            event_id = message.event_id
            if event_id is not None:
                if event_id in self._replayed:
                    self._replayed.discard(event_id)
                    continue
                if self._had is not None and self._had[0] < event_id <= self._had[1]:
                    continue
                self.last_event_id = max(self.last_event_id, event_id)
            return message

    async def _read_replay(self) -> None:
        """The next page of stored events after ``_replay_after``; at the end, the replay
        is over (live messages follow)."""
        after = self._replay_after
        assert after is not None
        if self._behind is not None:
            top = await asyncio.to_thread(self.bus.store.last_event_id)
            self._had, self._behind = (self._behind, min(after, top)), None
        page = await asyncio.to_thread(self.bus.store.events_since, after, limit=500)
        if page:
            self._page.extend(page)
        else:
            self._replay_after = None

    def _replayed_one(self) -> Message:
        event = self._page.popleft()
        self._replay_after = event.id
        if event.id >= self._floor:
            self._replayed.add(event.id)
        self.last_event_id = max(self.last_event_id, event.id)
        return wire.event_message_text(event)


def _signature(task: TaskView) -> tuple[Any, ...]:
    return (
        task.status,
        task.provider,
        task.access_mode,
        task.attempt_count,
        task.input_tokens,
        task.output_tokens,
        task.cost_usd,
        task.api_cost_usd,
        task.started_at,
        task.finished_at,
        task.error,
    )


def _by_provider(cooldowns: list[CooldownView]) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for c in sorted(cooldowns, key=lambda c: (c.provider, c.access_mode)):
        out.setdefault(c.provider, []).append(wire.COOLDOWN(c))
    return out
