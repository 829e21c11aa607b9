"""One JSON error shape for every 4xx and 5xx the API answers, and the handlers making it.

    {"error": {"code": "validation_error", "message": "...",
               "details": [{"field": "routing.strategy", "message": "..."}]}}

Foreign errors are translated here and nowhere else: FastAPI's request validation (422,
the field named as a dotted path: ``limit``, ``accessModes.0.mode``), Starlette's HTTP
exceptions (404 for unknown routes, 405...), ADO's own ``AdoError`` — ``ApiError``
included, the one error tree of ``ado.errors`` (its ``http_status``, ``code``, ``details``
and headers) — and anything else (500, without internals).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import Response

from ado.api.responses import dumps
from ado.errors import AdoError, ApiError

__all__ = [
    "ado_error_response",
    "error_body",
    "error_response",
    "field_name",
    "install_error_handlers",
    "validation_details",
]

log = logging.getLogger("ado.api")

#: Where FastAPI says a value came from: not part of the field's name.
_SOURCES = frozenset({"body", "query", "path", "header", "cookie"})


def field_name(loc: Iterable[str | int]) -> str:
    """A dotted path for a pydantic location, without its source: ``accessModes.0.mode``."""
    parts = [str(p) for p in loc]
    if parts and parts[0] in _SOURCES:
        parts = parts[1:]
    return ".".join(parts)


def validation_details(errors: Iterable[Any], prefix: str = "") -> list[tuple[str | None, str]]:
    """(field, message) for each pydantic error dict, fields prefixed with ``prefix``."""
    details: list[tuple[str | None, str]] = []
    for err in errors:
        name = field_name(err.get("loc", ()))
        if prefix:
            name = f"{prefix}.{name}" if name else prefix
        message = str(err.get("msg", "invalid value"))
        if err.get("type") == "extra_forbidden":
            message = "unknown field"
        details.append((name or None, message))
    return details


def error_body(
    code: str, message: str, details: Sequence[tuple[str | None, str]] = ()
) -> dict[str, Any]:
    return {
        "error": {
            "code": code,
            "message": message,
            "details": [{"field": f, "message": m} for f, m in details],
        }
    }


def error_response(
    status: int,
    code: str,
    message: str,
    details: Sequence[tuple[str | None, str]] = (),
    headers: dict[str, str] | None = None,
) -> Response:
    return Response(
        dumps(error_body(code, message, details)),
        status_code=status,
        media_type="application/json",
        headers=headers,
    )


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(AdoError, _ado_error)  # type: ignore[arg-type]
    app.add_exception_handler(Exception, _unexpected)


async def _validation_error(request: Request, exc: RequestValidationError) -> Response:
    from ado.api.protocol import is_unparseable, json_error_message

    if is_unparseable(exc.errors()):  # not JSON at all: a bad request, not a bad field
        return error_response(400, "invalid_json", json_error_message(exc.errors()))
    details = validation_details(exc.errors())
    first = details[0] if details else (None, "invalid request")
    message = f"{first[0]}: {first[1]}" if first[0] else first[1]
    if len(details) > 1:
        message += f" (and {len(details) - 1} more)"
    return error_response(422, "validation_error", message, details)


async def _http_error(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    message = exc.detail if isinstance(exc.detail, str) else "request failed"
    headers = dict(exc.headers or {})
    if status == 404 and message == "Not Found":
        message = f"no such endpoint: {request.method} {request.url.path}"
    elif status == 405:
        from ado.api.protocol import allowed_methods

        allowed = allowed_methods(request.app, request.url.path)
        headers["Allow"] = ", ".join(allowed)
        message = f"{request.method} is not allowed here; allowed: {headers['Allow']}"
    return error_response(
        status, ApiError.CODES.get(status, "error"), message, headers=headers or None
    )


async def _ado_error(request: Request, exc: AdoError) -> Response:
    return ado_error_response(exc, f"{request.method} {request.url.path}")


def ado_error_response(exc: AdoError, where: str) -> Response:
    """The answer to an ``AdoError`` raised while serving ``where`` ("POST /api/tasks")."""
    message = exc.message + (f" {exc.hint}" if exc.hint else "")
    if exc.http_status >= 500:
        log.warning("%s: %s", where, exc)
    headers = exc.headers if isinstance(exc, ApiError) else None
    return error_response(exc.http_status, exc.code, message, exc.details, headers)


async def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unexpected error on %s %s", request.method, request.url.path)
    return error_response(500, "internal_error", "internal server error; see the server log")
