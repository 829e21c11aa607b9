"""``/api/alerts``: the notifications sent (or tried), newest first."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from ado.api import wire
from ado.api.deps import StoreDep
from ado.api.responses import json_response
from ado.api.schemas import AlertPage
from ado.errors import ApiError
from ado.store.ids import parse_id

router = APIRouter(prefix="/api/alerts", tags=["alerts"])


@router.get("", operation_id="listAlerts", response_model=AlertPage)
def list_alerts(
    store: StoreDep,
    limit: Annotated[int, Query(ge=1, le=200)] = 50,
    cursor: Annotated[str | None, Query(description="`nextCursor` of the previous page.")] = None,
) -> Response:
    """Alerts recorded by the notifications (one per notification and channel)."""
    lister = getattr(store, "list_alerts", None)
    if lister is None:
        return json_response({"items": [], "nextCursor": None})
    if cursor and parse_id(cursor) is None:
        raise ApiError.invalid("cursor", "not a cursor this API returned")
    items, next_cursor = lister(limit=limit, cursor=cursor or None)
    return json_response({"items": wire.ALERT.many(items), "nextCursor": next_cursor})
