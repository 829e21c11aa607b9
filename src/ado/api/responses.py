"""JSON responses serialized by pydantic-core (datetimes as ISO-8601 UTC), bypassing
FastAPI's response-model re-validation on hot paths; the route still declares its model
for the OpenAPI schema, and the tests check the bodies against those models."""

from __future__ import annotations

from typing import Any

from pydantic_core import to_json
from starlette.responses import Response

__all__ = ["json_response"]


def json_response(body: Any, status: int = 200) -> Response:
    return Response(to_json(body), status_code=status, media_type="application/json")
