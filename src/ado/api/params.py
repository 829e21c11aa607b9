"""Path and query parameters shared by the routes, bounded to what the store holds: an id
beyond 64 bits is a 422 naming the parameter, never an overflow in the database driver."""

from __future__ import annotations

from typing import Annotated

from fastapi import Path, Query

from ado.store.ids import MAX_ID

__all__ = ["AfterId", "TaskId"]

TaskId = Annotated[int, Path(ge=1, le=MAX_ID, description="The task's id.")]
AfterId = Annotated[int, Query(ge=0, le=MAX_ID, description="Only events with a greater id.")]
