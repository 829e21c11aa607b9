"""``POST /api/tasks`` answered without FastAPI's per-request machinery.

Queueing tasks is the API's busiest write (a dashboard, CI jobs, scripts submitting work in
bursts). Through FastAPI, routing, dependency solving and body handling cost ~90 µs of CPU
per request here, the work itself (parse and validate the JSON, hand the task to the group
commit) ~10. This pure-ASGI layer sits just inside ``ApiGuard`` (API tokens and rate limits
apply as to any request) and answers the common case itself: a JSON body of at most
``MAX_BODY`` bytes that validates as ``TaskCreate`` goes through ``queue_task``, the very
function the route calls, and gets the route's 201.

Everything else is passed on, with the body read so far replayed, to the FastAPI route:
another content type, a bigger body, a field that does not validate, a check
``queue_task`` refuses (all raised before anything is stored). So error answers come from
one place, and the route stays the documented operation (``createTask`` in the OpenAPI
schema). The tests run every ``POST /api/tasks`` case both ways and compare.
"""

from __future__ import annotations

from pydantic import ValidationError
from pydantic_core import to_json
from starlette.datastructures import State
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ado.api.errors import ado_error_response
from ado.api.responses import header, send_json
from ado.api.routes.tasks import queue_task
from ado.api.schemas import TASK_CREATE
from ado.errors import AdoError, ApiError

__all__ = ["MAX_BODY", "TaskSubmitFastPath"]

#: Bodies above this go to the FastAPI route (which reads them whole as well).
MAX_BODY = 1 << 20
_PATH = "/api/tasks"


class TaskSubmitFastPath:
    def __init__(self, app: ASGIApp, *, state: State, enabled: bool = True) -> None:
        self.app = app
        self.state = state
        self.enabled = enabled

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if not (
            self.enabled
            and scope["type"] == "http"
            and scope["path"] == _PATH
            and scope["method"] == "POST"
            and _is_json(scope)
        ):
            await self.app(scope, receive, send)
            return
        chunks: list[bytes] = []
        size, more = 0, True
        while more:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk: bytes = message.get("body", b"")
            chunks.append(chunk)
            size += len(chunk)
            more = message.get("more_body", False)
            if size > MAX_BODY:
                break
        body = b"".join(chunks)
        if not more:
            try:
                task = TASK_CREATE.validate_json(body)
                summary = await queue_task(self.state, task)
            except (ValidationError, ApiError):
                pass  # the route answers: the same 422 as without this layer
            except AdoError as exc:
                response = ado_error_response(exc, f"POST {_PATH}")
                await response(scope, receive, send)
                return
            else:
                await send_json(send, 201, to_json(summary))
                return
        await self.app(scope, _replay(body, more, receive), send)


def _is_json(scope: Scope) -> bool:
    media = (header(scope, b"content-type") or "").split(";", 1)[0].strip().lower()
    return media == "application/json"


def _replay(body: bytes, more: bool, receive: Receive) -> Receive:
    """``receive`` giving back ``body`` first (and what is still unread after it)."""
    pending = True

    async def replayed() -> Message:
        nonlocal pending
        if pending:
            pending = False
            return {"type": "http.request", "body": body, "more_body": more}
        return await receive()

    return replayed
