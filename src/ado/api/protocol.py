"""HTTP answers FastAPI gets wrong or leaves out of the schema, made true and documented.

- **405 and ``Allow``**: Starlette names the methods of the first route whose path matches,
  so ``DELETE /api/tasks`` said ``Allow: GET`` though ``POST`` works too, and a ``GET`` of a
  POST-only API path fell into the dashboard's catch-all as a 404. ``allowed_methods``
  gives what the OpenAPI schema lists for the path: the routes it is generated from.
- **400 for a body that is not JSON**: a syntax error is not a field's validation error
  (422); ``is_unparseable`` tells them apart, and ``document_bad_json`` adds the 400 to every
  operation with a JSON body in the schema.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Any

from starlette.routing import Route

__all__ = [
    "CATCH_ALL",
    "allowed_methods",
    "document_bad_json",
    "is_unparseable",
    "json_error_message",
]

#: The dashboard's fallback route: not an answer for ``/api`` paths.
CATCH_ALL = "/{path:path}"
_ERROR_REF = {"$ref": "#/components/schemas/ErrorResponse"}
_PARAM = re.compile(r"\{[^}/]+\}")
_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE"})


def allowed_methods(app: Any, path: str) -> list[str]:
    """The methods ``app`` answers at ``path``, sorted: for a path of the OpenAPI schema,
    the methods it lists there; else those of a plain route (``/api/openapi.json``), and
    outside ``/api`` GET (the dashboard's files, ``/metrics``)."""
    table: list[tuple[re.Pattern[str], frozenset[str]]] | None = getattr(
        app.state, "allow_table", None
    )
    if table is None:
        table = app.state.allow_table = [
            (
                re.compile("[^/]+".join(re.escape(part) for part in _PARAM.split(template))),
                frozenset(m.upper() for m in item if m.upper() in _METHODS),
            )
            for template, item in app.openapi().get("paths", {}).items()
        ]
    found: set[str] = set()
    for pattern, methods in table:
        if pattern.fullmatch(path):
            found |= methods
    if not found and (path == "/api" or path.startswith("/api/")):
        for route in app.router.routes:
            if isinstance(route, Route) and route.path == path and route.methods:
                found |= route.methods
    elif not found:
        found.add("GET")
    return sorted(found)


def is_unparseable(errors: Iterable[Any]) -> bool:
    """Whether FastAPI's validation errors say the body is not JSON at all."""
    return any(err.get("type") == "json_invalid" for err in errors)


def json_error_message(errors: Iterable[Any]) -> str:
    """ "the request body is not valid JSON: Expecting value (at character 0)"."""
    for err in errors:
        if err.get("type") == "json_invalid":
            reason = (err.get("ctx") or {}).get("error") or "syntax error"
            loc = err.get("loc") or ()
            where = f" (at character {loc[-1]})" if loc and isinstance(loc[-1], int) else ""
            return f"the request body is not valid JSON: {reason}{where}"
    return "the request body is not valid JSON"


def document_bad_json(generate: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
    """``app.openapi`` that also lists the 400 of every operation with a JSON body."""

    def openapi() -> dict[str, Any]:
        schema = generate()  # FastAPI caches it: this runs again over the same dict
        for item in schema.get("paths", {}).values():
            for operation in item.values():
                body = operation.get("requestBody", {}) if isinstance(operation, dict) else {}
                if "application/json" not in body.get("content", {}):
                    continue
                operation.setdefault("responses", {}).setdefault(
                    "400",
                    {
                        "description": "The body is not valid JSON.",
                        "content": {"application/json": {"schema": _ERROR_REF}},
                    },
                )
        return schema

    return openapi
