"""Path and query parameters shared by the routes, bounded to what the store holds: an id
beyond 64 bits is a 422 naming the parameter, never an overflow in the database driver."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import Path, Query
from pydantic import AfterValidator, BeforeValidator

from ado.api.schemas import ErrorResponse
from ado.store.ids import MAX_ID

__all__ = ["BODY_ERRORS", "NO_NUL", "AfterId", "IsoTime", "TaskId"]

#: The pattern of a query text compared in SQL: PostgreSQL refuses NUL in any text.
NO_NUL = r"^[^\x00]*$"
TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's id.")]
AfterId = Annotated[int, Query(ge=0, le=MAX_ID, description="Only events with a greater id.")]

#: The answers of an operation that reads a JSON body, for its ``responses=`` (the 400 of a
#: body that is not JSON is added to each by ``ado.api.protocol.document_bad_json``).
BODY_ERRORS: dict[int | str, dict[str, Any]] = {
    413: {"model": ErrorResponse, "description": "The body is over 2 MiB."},
    422: {"model": ErrorResponse, "description": "A field is invalid (named in `details`)."},
}


def _iso_only(value: Any) -> Any:
    """ISO-8601 only: pydantic would read ``0.5`` as seconds since 1970."""
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("expected an ISO-8601 date and time, e.g. 2026-01-31T12:00:00Z")
    return value


def _in_utc(value: datetime) -> datetime:
    """In UTC (a time without a zone is taken as UTC); 9999-12-31T23:00-14:00 is not a time
    UTC can hold."""
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    try:
        return value.astimezone(UTC)
    except OverflowError:
        raise ValueError("out of range once converted to UTC") from None


#: A date and time in a query: ISO-8601 (``2026-01-31``, ``2026-01-31T12:00:00Z``), in UTC.
IsoTime = Annotated[datetime, BeforeValidator(_iso_only), AfterValidator(_in_utc)]
