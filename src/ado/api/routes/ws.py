"""``GET /api/ws``: the live WebSocket (events, task and provider changes).

    ws://host:8080/api/ws?after=1234&batch=1&token=ado_...

The server first sends ``{"type": "hello", "lastEventId": N}``, then, with ``after``, every
stored event after that id (resume after a reconnect), then live messages as the
``LiveBus`` publishes them (``ado.server.live``). With ``batch=1``, events waiting together
for this client go out as one ``{"type": "events", "events": [...]}`` message (oldest first,
at most ``BATCH_EVENTS`` events and about ``BATCH_CHARS`` characters; a lone event larger
than that goes alone) rather than one ``event`` message each: one frame and one socket
write for many events. The order of all messages is kept. It sends ``{"type": "ping"}`` after 20 s
without a message, and answers a client's ``{"type": "ping"}`` with ``{"type": "pong"}``.
When the API requires a token (bound to anything but loopback) and ``token`` is missing or
invalid, the socket is accepted and closed at once with code 4401 (a browser sees close
codes, not HTTP statuses); on server shutdown it is closed with 1001 (going away).

Before the handshake reaches this route, ``ado.api.guard`` refuses it with an HTTP answer:
400 for a Host the server does not answer to, 403 for a browser page of another origin
(stored events are replayed from ``?after=0``: no other site's page may read them), 429
when the address has made too many connection attempts.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Query, WebSocket, WebSocketDisconnect

from ado.api.wire import Message, dumps
from ado.store.ids import MAX_ID

if TYPE_CHECKING:
    from ado.server.live import LiveBus, Subscription

__all__ = ["BATCH_CHARS", "BATCH_EVENTS", "KEEPALIVE", "router"]

router = APIRouter()

#: Seconds without a message after which the server sends a ping.
KEEPALIVE = 20.0
#: The most events in one ``events`` message, and the characters of JSON it stops before
#: (below the 1 MiB a client library accepts by default, e.g. Python's ``websockets``).
BATCH_EVENTS = 500
BATCH_CHARS = 256 * 1024
#: Close codes: the application-defined 4401 mirrors HTTP 401.
UNAUTHORIZED, GOING_AWAY, UNAVAILABLE = 4401, 1001, 1013


@router.websocket("/api/ws", name="live")
async def live(
    websocket: WebSocket,
    after: int | None = Query(
        default=None, ge=0, le=MAX_ID, description="Resume after this event id."
    ),
    token: str | None = Query(default=None, description="API token (when auth is required)."),
    batch: bool = Query(
        default=False, description="Send waiting events together, as `events` messages."
    ),
) -> None:
    state = websocket.app.state
    bus: LiveBus | None = getattr(state, "bus", None)
    # Accepted first, then closed: a browser sees a close code, never an HTTP status.
    await websocket.accept()
    if getattr(state, "require_auth", False) and not await _authorized(websocket, token):
        await websocket.close(code=UNAUTHORIZED, reason="a valid API token is required (?token=)")
        return
    if bus is None:
        await websocket.close(code=UNAVAILABLE, reason="live updates are not running")
        return
    subscription = bus.subscribe(after)
    try:
        await _send(websocket, {"type": "hello", "lastEventId": bus.last_id})
        sender = asyncio.create_task(_forward(websocket, subscription, batch=batch))
        receiver = asyncio.create_task(_receive(websocket))
        try:
            done, _ = await asyncio.wait({sender, receiver}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for task in (sender, receiver):
                task.cancel()
            with contextlib.suppress(asyncio.CancelledError, WebSocketDisconnect, RuntimeError):
                await asyncio.gather(sender, receiver, return_exceptions=True)
        if sender in done and sender.exception() is None:  # the bus closed: shutting down
            with contextlib.suppress(RuntimeError, WebSocketDisconnect):
                await websocket.close(code=GOING_AWAY, reason="server shutting down")
    except WebSocketDisconnect:
        pass
    finally:
        subscription.close()


async def _authorized(websocket: WebSocket, token: str | None) -> bool:
    from ado.api.auth import bearer_token, verify_token

    token = token or bearer_token(websocket.headers.get("authorization"))
    if not token:
        return False
    return bool(await asyncio.to_thread(verify_token, websocket.app.state.store, token))


async def _forward(websocket: WebSocket, subscription: Subscription, *, batch: bool) -> None:
    """Bus messages to the client, a ping when idle; returns when the bus closes."""
    iterator = aiter(subscription)
    held: Message | None = None  # taken while filling a batch, not an event: sent next
    while True:
        # What is queued goes out as it is; only an empty queue is waited on (with a timer)
        message, held = held or subscription.take(), None
        if message is None:
            try:
                message = await asyncio.wait_for(anext(iterator), KEEPALIVE)
            except TimeoutError:
                message = Message({"type": "ping"})
            except StopAsyncIteration:
                return
        if batch and message.type == "event":
            text, held = _batch(message, subscription)
        else:
            text = message.json()
        await _send_text(websocket, text)


def _batch(first: Message, subscription: Subscription) -> tuple[str, Message | None]:
    """An ``events`` message of ``first`` and the events queued after it, within the
    bounds; and the message taken that ended it, if it is not an event (sent next)."""
    parts = [first.event_json()]
    size = len(parts[0])
    while len(parts) < BATCH_EVENTS:
        message = subscription.take()
        if message is None:
            break
        if message.type != "event":
            return _events(parts), message
        part = message.event_json()
        if size + len(part) > BATCH_CHARS:
            return _events(parts), message  # an event, sent in the next batch
        parts.append(part)
        size += len(part)
    return _events(parts), None


def _events(parts: list[str]) -> str:
    return '{"type":"events","events":[' + ",".join(parts) + "]}"


async def _receive(websocket: WebSocket) -> None:
    """Client messages: ``ping`` is answered; returns when the client goes away."""
    while True:
        try:
            text = await websocket.receive_text()
        except WebSocketDisconnect:
            return
        with contextlib.suppress(ValueError, AttributeError):
            if json.loads(text).get("type") == "ping":
                await _send_text(websocket, '{"type":"pong"}')


async def _send(websocket: WebSocket, message: dict[str, Any]) -> None:
    await _send_text(websocket, dumps(message).decode())


async def _send_text(websocket: WebSocket, text: str) -> None:
    """Send one message; sender and receiver (pong) never interleave their frames."""
    lock: asyncio.Lock | None = websocket.scope.setdefault("ado.send_lock", asyncio.Lock())
    assert lock is not None
    async with lock:
        await websocket.send_text(text)
