"""The live bus: events, task and provider changes from the store, replay, gaps, overflow."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import insert

from ado.api import wire
from ado.providers.events import AgentEvent, EventKind
from ado.server import live
from ado.server.live import LiveBus, Message, Subscription
from ado.store import Store
from ado.store.models import Event, utcnow


def _text(n: int) -> list[AgentEvent]:
    return [AgentEvent(EventKind.TEXT, text=f"line {i}") for i in range(n)]


async def _next(sub: Subscription) -> Message:
    return await asyncio.wait_for(anext(sub), 5)


async def _events(sub: Subscription, n: int) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    while len(out) < n:
        message = await _next(sub)
        if message["type"] == "event":
            out.append(message["event"])
    return out


def _task(store: Store, status: str = "running") -> int:
    return store.create_task(
        prompt="p", cwd="/", hitl_policy="autonomous", options={}, status=status
    )


async def test_task_changes_and_events_are_published(store: Store) -> None:
    bus = LiveBus(store, poll_interval=0.02)
    bus.start()
    await bus.ready()
    sub = bus.subscribe()
    try:
        task_id = await asyncio.to_thread(_task, store)
        first = await _next(sub)
        assert first["type"] == "task" and first["task"]["id"] == task_id
        assert first["task"]["status"] == "running"
        ids = await asyncio.to_thread(store.add_events, task_id, None, _text(3))
        events = await _events(sub, 3)
        assert [e["id"] for e in events] == ids
        assert events[0]["taskId"] == task_id and events[0]["kind"] == "text"
        assert events[0]["data"]["text"] == "line 0" and events[0]["createdAt"]
        await asyncio.to_thread(store.finish_task, task_id, status="succeeded", exit_code=0)
        message = await _next(sub)
        assert message["type"] == "task" and message["task"]["status"] == "succeeded"
        assert message["task"]["finishedAt"] is not None
    finally:
        await bus.stop()
    with pytest.raises(StopAsyncIteration):
        await _next(sub)


async def test_a_subscriber_resumes_after_an_event_id(store: Store) -> None:
    task_id = _task(store)
    ids = store.add_events(task_id, None, _text(5))
    bus = LiveBus(store, poll_interval=0.02)
    bus.start()
    await bus.ready()
    try:
        sub = bus.subscribe(after_id=ids[1])
        assert [e["id"] for e in await _events(sub, 3)] == ids[2:]
        more = await asyncio.to_thread(store.add_events, task_id, None, _text(2))
        assert [e["id"] for e in await _events(sub, 2)] == more  # live, no duplicates
        assert sub.last_event_id == more[-1]
    finally:
        await bus.stop()


async def test_a_resume_on_a_replica_behind_the_client_repeats_nothing(store: Store) -> None:
    """The client read up to an id from another replica; this one has not polled that far
    yet: it replays what follows the id, and the events up to it are not sent again."""
    task_id = _task(store)
    store.add_events(task_id, None, _text(3))
    bus = LiveBus(store)  # polled by hand: it stays behind until the test says
    await bus._init()
    ids = store.add_events(task_id, None, _text(4))
    sub = bus.subscribe(after_id=ids[1])
    try:
        assert [e["id"] for e in await _events(sub, 2)] == ids[2:]  # the replay
        await bus.poll()  # the bus catches up: publishes all four
        bus.publish({"type": "marker"})
        assert (await _next(sub))["type"] == "marker"  # none of the four again before it
        more = await asyncio.to_thread(store.add_events, task_id, None, _text(2))
        await bus.poll()
        assert [e["id"] for e in await _events(sub, 2)] == more
    finally:
        await bus.stop()


async def test_a_resume_after_an_id_the_store_never_had_still_gets_new_events(
    store: Store,
) -> None:
    """A client holding an id from a store since replaced (restored from a backup) is sent
    the events written from now on."""
    task_id = _task(store)
    store.add_events(task_id, None, _text(2))
    bus = LiveBus(store)
    await bus._init()
    sub = bus.subscribe(after_id=1_000_000)
    try:
        bus.publish({"type": "marker"})
        assert (await _next(sub))["type"] == "marker"  # the replay read found nothing
        ids = await asyncio.to_thread(store.add_events, task_id, None, _text(2))
        await bus.poll()
        assert [e["id"] for e in await _events(sub, 2)] == ids
    finally:
        await bus.stop()


async def test_a_late_committed_event_behind_the_last_id_is_not_missed(store: Store) -> None:
    """On PostgreSQL an id is taken at insert and seen at commit: emulate the late one."""
    task_id = _task(store)
    (first,) = store.add_events(task_id, None, _text(1))
    bus = LiveBus(store)
    await bus._init()
    sub = bus.subscribe()

    def insert_at(event_id: int) -> None:
        row = {"id": event_id, "task_id": task_id, "kind": "text", "data": {"text": str(event_id)}}
        with store.session() as session:
            session.execute(insert(Event), [{**row, "created_at": utcnow()}])

    insert_at(first + 2)
    await bus.poll()
    insert_at(first + 1)  # committed after first + 2 was seen
    await bus.poll()
    assert [e["id"] for e in await _events(sub, 2)] == [first + 2, first + 1]
    assert bus.floor() == first + 2


@pytest.mark.postgres
async def test_late_commit_on_postgresql(postgres_url: str) -> None:
    store = Store(postgres_url)
    store.migrate()
    try:
        task_id = _task(store)
        bus = LiveBus(store)
        await bus._init()
        sub = bus.subscribe()
        with store.session() as late:  # takes its id first, commits last
            late.add(
                Event(task_id=task_id, kind="text", data={"text": "late"}, created_at=utcnow())
            )
            late.flush()
            (early,) = await asyncio.to_thread(store.add_events, task_id, None, _text(1))
            await bus.poll()
            assert [e["id"] for e in await _events(sub, 1)] == [early]
        await bus.poll()
        (event,) = await _events(sub, 1)
        assert event["data"]["text"] == "late" and event["id"] < early
    finally:
        store.close()


async def test_a_slow_subscriber_is_resynced_without_blocking_others(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 5)
    task_id = _task(store)
    bus = LiveBus(store)
    await bus._init()
    slow, fast = bus.subscribe(), bus.subscribe()
    ids = store.add_events(task_id, None, _text(3))
    await bus.poll()
    assert [e["id"] for e in await _events(slow, 1)] == ids[:1]  # then it stops reading
    more = store.add_events(task_id, None, _text(10))
    await bus.poll()
    assert [e["id"] for e in await _events(fast, 13)] == ids + more[:10]
    message = await _next(slow)
    assert message == {"type": "resync", "afterId": ids[0]}
    assert [e["id"] for e in await _events(slow, 12)] == ids[1:] + more  # from the store


async def test_cooldowns_are_published_per_provider(store: Store) -> None:
    bus = LiveBus(store)
    await bus._init()
    sub = bus.subscribe()
    until = datetime.now(UTC) + timedelta(hours=1)
    store.set_cooldown(
        "codex", "subscription", until=until, kind="rate_limited", reason="429",
        reset_known=True, task_id=None,
    )  # fmt: skip
    await bus.poll()
    message = await _next(sub)
    assert message["type"] == "provider" and message["provider"] == "codex"
    assert message["cooldowns"][0]["accessMode"] == "subscription"
    assert message["cooldowns"][0]["kind"] == "rate_limited"
    store.clear_cooldown("codex", "subscription")
    await bus.poll()
    assert await _next(sub) == {"type": "provider", "provider": "codex", "cooldowns": []}


def test_task_summary_matches_the_api_schema(store: Store) -> None:
    schemas = pytest.importorskip("ado.api.schemas")
    task = store.get_task(_task(store))
    assert task is not None
    summary = wire.TASK_SUMMARY(task)
    model = schemas.TaskSummary.model_validate(summary)
    assert set(summary) == set(model.model_dump(by_alias=True))
