"""``/health``: liveness, readiness (the store answers, at the expected schema), process info."""

from __future__ import annotations

import os
from datetime import UTC, datetime

from fastapi import APIRouter, Request
from starlette.responses import Response

from ado import __version__
from ado.api.responses import json_response
from ado.api.schemas import HealthOut, InfoOut, ReadyOut
from ado.errors import AdoError
from ado.store.reader import HEAD

router = APIRouter(prefix="/health", tags=["health"])


@router.get("", operation_id="health", response_model=HealthOut)
async def health() -> Response:
    """The server is up."""
    return json_response({"status": "ok"})


@router.get(
    "/ready",
    operation_id="ready",
    response_model=ReadyOut,
    responses={503: {"model": ReadyOut, "description": "a check failed"}},
)
def ready(request: Request) -> Response:
    """Ready to serve: the store answers and its schema is current. 503 names the failing
    check otherwise."""
    try:
        revision = request.app.state.store.current_revision()
        store = "ok" if revision == HEAD else f"schema at {revision}, expected {HEAD}"
    except AdoError as exc:
        store = exc.message
    ok = store == "ok"
    body = {"status": "ready" if ok else "unavailable", "checks": {"store": store}}
    return json_response(body, 200 if ok else 503)


@router.get("/info", operation_id="info", response_model=InfoOut)
async def info(request: Request) -> Response:
    """Version, uptime, memory (resident set size) and the store, its password hidden."""
    started: datetime = request.app.state.started_at
    return json_response(
        {
            "version": __version__,
            "uptimeSeconds": round((datetime.now(UTC) - started).total_seconds(), 3),
            "memoryMb": round(_rss_bytes() / 2**20, 1),
            "pid": os.getpid(),
            "startedAt": started,
            "store": request.app.state.store.url_redacted,
        }
    )


def _rss_bytes() -> int:
    try:
        with open("/proc/self/statm", encoding="ascii") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
