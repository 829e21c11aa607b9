"""``/api/ws?batch=1``: waiting events go out together as ``events`` messages, in order,
within their bounds; resume and resync work across batches; other clients get ``event``.

A real uvicorn server in the test's event loop, the real route and ``LiveBus``, a real
WebSocket client (``websockets``).
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import pytest
import uvicorn
from fastapi import FastAPI
from pydantic import TypeAdapter
from websockets.asyncio.client import ClientConnection, connect

from ado.api.routes import ws
from ado.api.schemas import LiveMessage
from ado.providers.events import AgentEvent, EventKind
from ado.server import live
from ado.server.live import LiveBus
from ado.store import Store
from tests.support import wait_for_async


def _text(n: int, size: int = 10) -> list[AgentEvent]:
    return [AgentEvent(EventKind.TEXT, text=f"{i:05d}".ljust(size, "x")) for i in range(n)]


def _task(store: Store, status: str = "running") -> int:
    return store.create_task(
        prompt="p", cwd="/", hitl_policy="autonomous", options={}, status=status
    )


@asynccontextmanager
async def _served(store: Store) -> AsyncIterator[tuple[str, LiveBus]]:
    """The live route served by uvicorn on a free port: its ``ws://`` URL and its bus."""
    bus = LiveBus(store, poll_interval=0.02)
    bus.start()
    await bus.ready()
    app = FastAPI()
    app.include_router(ws.router)
    app.state.bus = bus
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 (a flag uvicorn sets, no event)
                await asyncio.sleep(0.01)
        yield f"ws://127.0.0.1:{sock.getsockname()[1]}/api/ws", bus
    finally:
        server.should_exit = True
        await serving
        await bus.stop()
        sock.close()


@asynccontextmanager
async def _server(store: Store) -> AsyncIterator[str]:
    async with _served(store) as (url, _):
        yield url


async def _recv(client: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(await asyncio.wait_for(client.recv(), 10))
    TypeAdapter(LiveMessage).validate_python(message)  # every message is a documented one
    return message


async def _gather(
    client: ClientConnection, n: int, seen: list[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The next ``n`` events, whichever messages carry them; every message into ``seen``."""
    events: list[dict[str, Any]] = []
    while len(events) < n:
        message = await _recv(client)
        if seen is not None:
            seen.append(message)
        if message["type"] == "events":
            events.extend(message["events"])
        elif message["type"] == "event":
            events.append(message["event"])
    return events


async def test_waiting_events_go_out_together_in_order(store: Store) -> None:
    task_id = _task(store)
    ids = store.add_events(task_id, None, _text(300))
    async with _server(store) as url:
        async with connect(f"{url}?after=0&batch=1") as client:
            assert (await _recv(client))["type"] == "hello"
            seen: list[dict[str, Any]] = []
            events = await _gather(client, 300, seen)
            assert [e["id"] for e in events] == ids
            assert {m["type"] for m in seen} == {"events"}
            assert len(seen) < 300 / 10  # together, not one message each
            assert events[0]["data"]["text"].startswith("00000")
        async with connect(f"{url}?after=0") as plain:  # a client that does not ask
            await _recv(plain)
            first = await _recv(plain)
            assert first["type"] == "event" and first["event"]["id"] == ids[0]


async def test_a_batch_is_bounded_in_events_and_characters(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    task_id = _task(store)
    ids = store.add_events(task_id, None, _text(40, size=1000))
    monkeypatch.setattr(ws, "BATCH_EVENTS", 7)
    async with _server(store) as url, connect(f"{url}?after=0&batch=1") as client:
        await _recv(client)
        seen: list[dict[str, Any]] = []
        assert [e["id"] for e in await _gather(client, 40, seen)] == ids
        assert max(len(m["events"]) for m in seen) == 7
    monkeypatch.setattr(ws, "BATCH_EVENTS", 500)
    monkeypatch.setattr(ws, "BATCH_CHARS", 3500)  # three events of ~1,100 characters
    async with _server(store) as url, connect(f"{url}?after=0&batch=1") as client:
        await _recv(client)
        seen = []
        raw: list[int] = []
        while sum(len(m["events"]) for m in seen) < 40:
            text = await asyncio.wait_for(client.recv(), 10)
            raw.append(len(text))
            seen.append(json.loads(text))
        assert [e["id"] for m in seen for e in m["events"]] == ids
        assert max(len(m["events"]) for m in seen) == 3
        assert max(raw) < 3500 + 100  # the events' characters and the message's own
    monkeypatch.setattr(ws, "BATCH_CHARS", 500)  # smaller than one event: it goes alone
    async with _server(store) as url, connect(f"{url}?after=0&batch=1") as client:
        await _recv(client)
        seen = []
        assert [e["id"] for e in await _gather(client, 40, seen)] == ids
        assert {len(m["events"]) for m in seen} == {1}


async def test_other_messages_keep_their_place_between_batches(store: Store) -> None:
    async with _server(store) as url, connect(f"{url}?batch=1") as client:
        await _recv(client)
        task_id = await asyncio.to_thread(_task, store)
        message = await _recv(client)
        assert message["type"] == "task" and message["task"]["status"] == "running"

        # Its events and its end, read by the bus together: the events go first, batched,
        # and the final state after them, never folded into or ahead of a batch.
        def events_and_end() -> list[int]:
            ids = store.add_events(task_id, None, _text(50))
            store.finish_task(task_id, status="succeeded", exit_code=0)
            return ids

        ids = await asyncio.to_thread(events_and_end)
        seen: list[dict[str, Any]] = []
        while not seen or seen[-1].get("task", {}).get("status") != "succeeded":
            seen.append(await _recv(client))
        assert {m["type"] for m in seen[:-1]} == {"events"}
        assert [e["id"] for m in seen[:-1] for e in m["events"]] == ids


async def test_a_client_resumes_after_an_event_inside_a_batch(store: Store) -> None:
    task_id = _task(store)
    ids = store.add_events(task_id, None, _text(100))
    async with _server(store) as url:
        async with connect(f"{url}?after=0&batch=1") as client:
            await _recv(client)
            message = await _recv(client)
            assert message["type"] == "events" and len(message["events"]) > 2
            middle = message["events"][len(message["events"]) // 2]["id"]
        # Gone after reading part of a batch: it resumes after the last event it used.
        async with connect(f"{url}?after={middle}&batch=1") as client:
            await _recv(client)
            rest = await _gather(client, len(ids) - ids.index(middle) - 1)
            assert [e["id"] for e in rest] == ids[ids.index(middle) + 1 :]
            more = await asyncio.to_thread(store.add_events, task_id, None, _text(5))
            assert [e["id"] for e in await _gather(client, 5)] == more  # then live, once


async def test_a_slow_batched_client_is_resynced_and_misses_nothing(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(live, "QUEUE_SIZE", 20)
    monkeypatch.setattr(ws, "BATCH_EVENTS", 8)
    # The client's side of the socket stops taking frames: the sender waits at its next
    # send until the gate opens, while the bus goes on queueing for it.
    gate = asyncio.Event()
    blocked = asyncio.Event()
    send_text = ws._send_text

    async def slow(websocket: Any, text: str) -> None:
        if '"events"' in text and not gate.is_set():
            blocked.set()
            await gate.wait()
        await send_text(websocket, text)

    monkeypatch.setattr(ws, "_send_text", slow)
    task_id = _task(store)
    async with _served(store) as (url, bus), connect(f"{url}?batch=1") as client:
        await _recv(client)
        first = await asyncio.to_thread(store.add_events, task_id, None, _text(5))
        await asyncio.wait_for(blocked.wait(), 10)
        rest = await asyncio.to_thread(store.add_events, task_id, None, _text(100))
        # The bus overflows this client's queue of 20 within a poll or two.
        await wait_for_async(
            lambda: any(s._overflowed for s in list(bus._subscribers)),
            10,
            what="the blocked client's queue to overflow",
        )
        gate.set()
        seen: list[dict[str, Any]] = []
        events = await _gather(client, len(first) + len(rest), seen)
        assert [e["id"] for e in events] == first + rest  # in order, none twice, none lost
        assert "resync" in [m["type"] for m in seen]
        assert max(len(m.get("events", ())) for m in seen) <= 8
