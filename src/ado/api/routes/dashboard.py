"""``/api/dashboard``: the stat cards and the seven-day charts."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import anyio.to_thread
from fastapi import APIRouter, Request
from pydantic_core import to_json
from starlette.responses import Response

from ado.api.deps import StoreDep
from ado.api.responses import json_response
from ado.api.schemas import DashboardStats, UsageHistory

router = APIRouter(prefix="/api/dashboard", tags=["dashboard"])


#: The stat cards are computed at most once per this many seconds, whoever asks.
STATS_TTL = 1.0


@router.get("/stats", operation_id="getDashboardStats", response_model=DashboardStats)
async def get_dashboard_stats(request: Request, store: StoreDep) -> Response:
    """Active tasks (queued or running), succeeded today (since 00:00 UTC, against yesterday
    over the same hours), money spent on API modes in the last 24 h and the average duration
    of tasks finished in the last 24 h (both against the 24 h before). ``change`` is
    relative (0.25 = +25 %), null when there is nothing to compare with. At most one second
    old: concurrent and repeated requests share one computation."""
    state = request.app.state
    cached = getattr(state, "dashboard_stats", None)
    if cached is None or time.monotonic() - cached[0] >= STATS_TTL:
        async with state.dashboard_stats_lock:
            cached = getattr(state, "dashboard_stats", None)
            if cached is None or time.monotonic() - cached[0] >= STATS_TTL:
                stats = await anyio.to_thread.run_sync(store.dashboard_stats, datetime.now(UTC))
                body = to_json(
                    {
                        name: {"value": value, "change": _change(value, previous)}
                        for name, (value, previous) in stats.items()
                    }
                )
                cached = state.dashboard_stats = (time.monotonic(), body)
    return Response(cached[1], media_type="application/json")


@router.get("/usage-history", operation_id="getUsageHistory", response_model=UsageHistory)
def get_usage_history(store: StoreDep) -> Response:
    """The last 7 days (UTC): tasks created per day, usage per provider, and per day the
    value subscriptions delivered (API-price equivalent) against the money spent on API
    modes."""
    return json_response(store.usage_history(datetime.now(UTC), 7))


def _change(value: float, previous: float | None) -> float | None:
    if previous is None or previous == 0:
        return None
    return round((value - previous) / previous, 4)
