"""The largest request body the API reads: bigger ones get 413 before they are read whole.

The biggest legitimate body is a ``POST /api/tasks`` with the longest prompt
(``ado.text.MAX_ARG_BYTES``, ~128 KiB), JSON-escaped at worst six bytes a byte
(``\\u0001``): under 1 MiB. A declared ``Content-Length`` above ``MAX_REQUEST_BODY`` is
refused at once; a chunked body is counted as it arrives and refused when it passes the
limit (the route, if it was reading, sees the client go away). Pure ASGI: a request with a
small ``Content-Length`` (the fast path's case) costs one header lookup.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ado.api.errors import error_body
from ado.api.responses import dumps, header, send_json

__all__ = ["MAX_REQUEST_BODY", "BodyLimit"]

MAX_REQUEST_BODY = 2 << 20


class BodyLimit:
    def __init__(self, app: ASGIApp, limit: int = MAX_REQUEST_BODY) -> None:
        self.app = app
        self.limit = limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        length = header(scope, b"content-length")
        if length is not None:
            if not length.isdigit() or int(length) > self.limit:
                await self._refuse(send)
                return
            await self.app(scope, receive, send)
            return
        if header(scope, b"transfer-encoding") is None:
            await self.app(scope, receive, send)
            return
        await self._counted(scope, receive, send)

    async def _counted(self, scope: Scope, receive: Receive, send: Send) -> None:
        size = 0
        refused = False

        async def counting() -> Message:
            nonlocal size, refused
            if refused:
                return {"type": "http.disconnect"}
            message = await receive()
            if message["type"] == "http.request":
                size += len(message.get("body", b""))
                if size > self.limit:
                    refused = True
                    await self._refuse(send)
                    return {"type": "http.disconnect"}
            return message

        async def guarded(message: Message) -> None:
            if not refused:
                await send(message)

        await self.app(scope, counting, guarded)

    async def _refuse(self, send: Send) -> None:
        body = error_body(
            "payload_too_large",
            f"the request body is over {self.limit:,} bytes, the most the API reads",
        )
        await send_json(send, 413, dumps(body), [(b"connection", b"close")])
