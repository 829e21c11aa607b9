"""JSON responses serialized by pydantic-core (datetimes as ISO-8601 UTC), bypassing
FastAPI's response-model re-validation on hot paths; the route still declares its model
for the OpenAPI schema, and the tests check the bodies against those models.

The pure-ASGI layers in front of the routes (``guard``, ``fastpath``) answer with
``send_json`` and read request headers with ``header``.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from starlette.responses import Response
from starlette.types import Scope, Send

from ado.api.wire import dumps

__all__ = ["dumps", "header", "json_response", "send_json"]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(dumps(body), status_code=status, media_type="application/json")


async def send_json(
    send: Send, status: int, body: bytes, headers: Iterable[tuple[bytes, bytes]] = ()
) -> None:
    """Send ``body`` (JSON already encoded) as a whole response."""
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


def header(scope: Scope, name: bytes) -> str | None:
    """The request's first ``name`` header (lower-case bytes), decoded."""
    for key, value in scope["headers"]:
        if key == name:
            decoded: str = value.decode("latin-1")
            return decoded
    return None
