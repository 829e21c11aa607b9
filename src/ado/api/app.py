"""The FastAPI application: ``create_app(loaded_config=..., store=...)``.

    app = create_app(loaded_config=load_config(), store=Store.open(...), require_auth=True)

Routes live in ``ado.api.routes.<resource>``; one JSON error shape (``ado.api.errors``);
Host and Origin checks, API tokens and rate limiting in one pure-ASGI middleware
(``ado.api.guard``), and behind it
``POST /api/tasks``'s fast path (``ado.api.fastpath``); the built
dashboard served at ``/`` with a fallback to ``index.html`` for the client-side routes.
``app.state`` holds ``config_loader`` (the ``ConfigSource`` of the effective configuration),
``store``, ``pool`` and ``bus`` (set by ``ado serve``), ``started_at`` and the ``task_writer``.
"""

from __future__ import annotations

import importlib
import os
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

import anyio
import anyio.to_thread
from fastapi import FastAPI
from starlette.requests import Request
from starlette.responses import FileResponse, HTMLResponse, Response

from ado import __version__
from ado.api.access import AccessPolicy
from ado.api.auth import TokenChecker
from ado.api.errors import install_error_handlers
from ado.api.fastpath import TaskSubmitFastPath
from ado.api.guard import ApiGuard
from ado.api.limits import BodyLimit
from ado.api.protocol import CATCH_ALL, allowed_methods, document_bad_json
from ado.api.ratelimit import RateLimit, RateLimiter
from ado.api.writer import TaskWriter
from ado.config.loader import LoadedConfig
from ado.config.source import ConfigSource
from ado.errors import ApiError
from ado.store.database import Store

if TYPE_CHECKING:
    from ado.orchestrator.cancel import TaskPool
    from ado.server.live import LiveBus

__all__ = ["DASHBOARD_DIR", "DEFAULT_RATE_LIMIT", "create_app", "operations"]

DASHBOARD_DIR = Path(__file__).resolve().parent.parent / "dashboard" / "dist"
DEFAULT_RATE_LIMIT = RateLimit()
_ROUTE_MODULES = (
    "health",
    "tasks",
    "dashboard",
    "providers",
    "quota",
    "settings",
    "alerts",
    "workers",
    "docs",
)
_NOT_BUILT = """<!doctype html><html><head><meta charset="utf-8"><title>ADO</title></head>
<body style="font-family:sans-serif;max-width:40em;margin:4em auto">
<h1>ADO</h1><p>The dashboard is not built. The API is running: see
<a href="/api/docs">/api/docs</a>. Build the dashboard with
<code>npm --prefix dashboard ci &amp;&amp; npm --prefix dashboard run build</code>.</p>
</body></html>"""

Lifespan = Callable[[FastAPI], AbstractAsyncContextManager[Any]]


def create_app(
    *,
    loaded_config: LoadedConfig,
    store: Store,
    require_auth: bool = False,
    rate_limit: RateLimit | None = DEFAULT_RATE_LIMIT,
    pool: TaskPool | None = None,
    bus: LiveBus | None = None,
    lifespan: Lifespan | None = None,
    dashboard_dir: Path | None = None,
    threads: int = 4,
    fast_submit: bool = True,
    access: AccessPolicy | None = None,
    config_source: ConfigSource | None = None,
) -> FastAPI:
    """The API (and dashboard) over ``store``.

    ``require_auth``: every ``/api`` request needs a valid API token. ``rate_limit``: per
    client; None turns it off. ``lifespan``: entered inside the app's own (``ado serve``
    starts and stops its worker pool and event bus there). ``dashboard_dir``: the built
    dashboard (default: the one shipped in the package). ``threads``: how many requests
    run blocking store calls at once. ``fast_submit``: answer ``POST /api/tasks`` in
    ``ado.api.fastpath`` (False: through the FastAPI route only; the tests compare both).
    ``access``: the Host, Origin and proxy rules (``ado.api.access``; default: none, as for
    an app embedded behind its own front end; ``ado serve`` passes its own).
    ``config_source``: the effective configuration shared with the rest of the process
    (``ado serve``'s); default: one over ``loaded_config`` and ``store``.
    """

    @asynccontextmanager
    async def app_lifespan(app: FastAPI) -> AsyncIterator[None]:
        # Sync routes run in anyio's thread pool. More threads than the store's connection
        # pool keeps (5) means connections opened and closed per request, and threads that
        # only contend for the GIL: the work is short and mostly Python.
        anyio.to_thread.current_default_thread_limiter().total_tokens = threads
        try:
            if lifespan is None:
                yield
            else:
                async with lifespan(app):
                    yield
        finally:
            app.state.task_writer.close()

    app = FastAPI(
        title="ADO",
        version=__version__,
        description="The Agentic Development Orchestrator's API: tasks, providers, usage, "
        "settings. See docs/api.md.",
        openapi_url="/api/openapi.json",
        docs_url=None,  # ado.api.routes.docs: Swagger UI without a CDN
        redoc_url=None,
        lifespan=app_lifespan,
        # FastAPI's own OpenTelemetry: off. ADO's telemetry (ado.telemetry) traces tasks with
        # its own providers; otherwise this checks the global providers on every request.
        telemetry={"tracing": False, "metrics": False, "logs": False},
    )
    app.state.store = store
    app.state.config_loader = config_source or ConfigSource(loaded_config, store)
    app.state.pool = pool
    app.state.bus = bus
    app.state.started_at = datetime.now(UTC)
    app.state.default_cwd = os.getcwd()
    app.state.task_writer = TaskWriter(store)
    app.state.require_auth = require_auth
    app.state.dashboard_stats_lock = anyio.Lock()
    install_error_handlers(app)
    app.openapi = document_bad_json(app.openapi)  # type: ignore[method-assign]
    for name in _ROUTE_MODULES:
        app.include_router(importlib.import_module(f"ado.api.routes.{name}").router)
    try:
        ws = importlib.import_module("ado.api.routes.ws")
    except ModuleNotFoundError as exc:
        if exc.name != "ado.api.routes.ws":
            raise
    else:
        app.include_router(ws.router)
    app.include_router(importlib.import_module("ado.telemetry.prometheus").router)  # /metrics
    _mount_dashboard(app, dashboard_dir or DASHBOARD_DIR)
    _document_live_messages(app)
    # Middleware added last runs first: ApiGuard, the body limit, the fast path, FastAPI.
    app.add_middleware(TaskSubmitFastPath, state=app.state, enabled=fast_submit)
    app.add_middleware(BodyLimit)
    app.add_middleware(
        ApiGuard,
        tokens=TokenChecker(store) if require_auth else None,
        limiter=RateLimiter(rate_limit) if rate_limit is not None else None,
        access=access,
    )
    return app


def operations(app: FastAPI) -> list[tuple[str, str, str | None]]:
    """(method, path, operation id) of every route the OpenAPI schema lists."""
    return [
        (method.upper(), path, operation.get("operationId"))
        for path, item in app.openapi()["paths"].items()
        for method, operation in item.items()
    ]


def _document_live_messages(app: FastAPI) -> None:
    """Add the WebSocket's message models (``LiveMessage``...) to the OpenAPI components."""
    from ado.api.schemas import live_message_schemas

    build = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            schemas = build().setdefault("components", {}).setdefault("schemas", {})
            for name, schema in live_message_schemas().items():
                schemas.setdefault(name, schema)
        return app.openapi_schema  # type: ignore[return-value]

    app.openapi = openapi  # type: ignore[method-assign]


def _mount_dashboard(app: FastAPI, root: Path) -> None:
    """Serve the built dashboard at ``/``: its files, else ``index.html`` (client routes)."""
    root = root.resolve()

    @app.get(CATCH_ALL, include_in_schema=False)
    def dashboard(path: str, request: Request) -> Response:
        if path == "api" or path.startswith("api/"):
            allowed = allowed_methods(request.app, request.url.path)
            if allowed:  # a path of the API, for other methods
                raise ApiError(
                    405,
                    f"{request.method} is not allowed here; allowed: {', '.join(allowed)}",
                    headers={"Allow": ", ".join(allowed)},
                )
            raise ApiError(404, f"no such endpoint: {request.method} /{path}")
        index = root / "index.html"
        if path:
            candidate = (root / path).resolve()
            if candidate.is_relative_to(root) and candidate.is_file():
                return FileResponse(candidate)
        if index.is_file():
            return FileResponse(index, headers={"Cache-Control": "no-cache"})
        return HTMLResponse(_NOT_BUILT)
