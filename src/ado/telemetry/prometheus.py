"""``/metrics`` in Prometheus text format, for ``ado serve``.

Either mount the ASGI app (``app.mount("/metrics", metrics_asgi_app())``) or include the
router (``app.include_router(router)``). Both render the registry of the telemetry this
process started (``ado.telemetry.setup.start(..., prometheus=True)``); with none started
they answer 503 with a line saying how to turn metrics on.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, MutableMapping
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter
from fastapi.responses import PlainTextResponse, Response

from ado.telemetry import _state

if TYPE_CHECKING:
    from prometheus_client import CollectorRegistry

__all__ = ["metrics_asgi_app", "render", "router"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
OFF = "# ADO metrics are off: set observability.telemetry.prometheus: true\n"

Scope = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]

router = APIRouter()


def _registry() -> CollectorRegistry | None:
    telemetry = _state.current
    return telemetry.registry if telemetry is not None else None


def render() -> bytes | None:
    """The current metrics as Prometheus text, or None when no registry is running."""
    registry = _registry()
    if registry is None:
        return None
    from prometheus_client import generate_latest

    return generate_latest(registry)


@router.get("/metrics", include_in_schema=False, response_class=PlainTextResponse)
def metrics() -> Response:
    body = render()
    if body is None:
        return PlainTextResponse(OFF, status_code=503)
    return Response(body, media_type=CONTENT_TYPE)


def metrics_asgi_app() -> Callable[[Scope, Receive, Send], Awaitable[None]]:
    """A bare ASGI app answering every GET with the metrics."""

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            return
        body = render()
        status = 200 if body is not None else 503
        payload = body if body is not None else OFF.encode()
        await send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [(b"content-type", CONTENT_TYPE.encode())],
            }
        )
        await send({"type": "http.response.body", "body": payload})

    return app
