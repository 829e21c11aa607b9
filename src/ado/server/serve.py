"""``ado serve``: one process running the API and dashboard (uvicorn), the worker pool and
the live bus.

Shutdown, on SIGTERM or SIGINT: the pool takes no new task (queued ones stay queued for the
next start) while the API keeps answering; running tasks get ``grace`` seconds to finish,
then are cancelled and recorded ``cancelled``; then WebSockets are closed (1001) and the
HTTP server stops. A second signal cancels the running tasks at once; a third exits
without waiting.

The configuration is one ``ConfigSource`` (``ado.config.source``) shared by the API, the
worker pool, the notifier and telemetry; ``ado.config.yaml`` is reloaded when it changes and
on SIGHUP (``ado.server.reload``).

With the celery executor (``orchestration.executor`` or ``--executor celery``) the server runs
no task itself: a ``Dispatcher`` (``ado.distributed``) stands in the pool's place and sends
each queued task to the ``ado worker`` processes.
"""

from __future__ import annotations

import asyncio
import dataclasses
import logging
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Callable, Generator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click
import uvicorn

from ado.api.access import is_loopback
from ado.errors import UsageError
from ado.server.live import LiveBus
from ado.server.reload import ConfigWatcher
from ado.server.workers import WorkerPool
from ado.vocab import Executor

if TYPE_CHECKING:
    from ado.config.loader import LoadedConfig
    from ado.config.source import ConfigSource
    from ado.distributed.dispatch import Dispatcher
    from ado.store import Store

__all__ = ["ServeOptions", "is_loopback", "serve"]

log = logging.getLogger("ado.server")


@dataclass(frozen=True, slots=True)
class ServeOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    open_browser: bool = True
    #: Seconds running tasks get to finish on shutdown before they are cancelled.
    grace: float = 30.0
    #: Agents at a time; None: ``orchestration.maxParallelAgents``.
    concurrency: int | None = None
    #: Reads the configuration file again (None: never reloaded) ...
    reload: Callable[[], LoadedConfig] | None = None
    #: ... when one of these files changes (or on SIGHUP).
    watch: list[Path] = field(default_factory=list)
    #: Who runs the tasks; None: ``orchestration.executor``.
    executor: Executor | None = None


def tune_gc() -> None:
    """Fewer, cheaper garbage collections for a long-running server.

    What is alive after start-up (modules, the app, the configuration) is frozen out of the
    collector, and the youngest generation is collected every 50,000 allocations instead
    of 700. With the defaults, at 3,000+ requests/s full collections came often enough to
    put 40+ ms pauses into 1-2 % of requests (`POST /api/tasks` p99 42-47 ms → 7.5 ms,
    docs/performance.md). Memory stays bounded: the collector still runs, just less often.
    """
    import gc

    gc.collect()
    gc.freeze()
    gc.set_threshold(50_000, 20, 100)


def serve(loaded: LoadedConfig, options: ServeOptions) -> int:
    """Run the server until a signal stops it; the exit code."""
    from ado.store import Store

    executor = options.executor or loaded.config.orchestration.executor
    if executor == Executor.CELERY:
        from ado.distributed.settings import require_shared_store
        from ado.store.urls import store_url

        require_shared_store(store_url(loaded.config, loaded.base_dir))
    options = dataclasses.replace(options, executor=executor)
    store = Store.open(loaded.config, loaded.base_dir)
    try:
        require_auth = not is_loopback(options.host)
        if require_auth and not any(t.revoked_at is None for t in store.list_tokens()):
            raise UsageError(
                f"Refusing to listen on {options.host}: bound to anything but loopback, the "
                "API requires a token and none exists yet.",
                hint="run `ado tokens create NAME` first (or serve on 127.0.0.1)",
            )
        sock = _bind(options)
        # --port 0: the port the system picked (the Host check and the banner need it)
        options = dataclasses.replace(options, port=sock.getsockname()[1])
        source = _config_source(loaded, store, options)
        app, pool, bus = _build(source, store, options, require_auth)
        watcher = ConfigWatcher(source, options.watch, say=_say)
        config = uvicorn.Config(
            app,
            host=options.host,
            port=options.port,
            log_level="warning",
            access_log=False,
            lifespan="on",
            ws_ping_interval=20,
            ws_ping_timeout=20,
            # X-Forwarded-For is believed only from server.trustedProxies (ado.api.access),
            # not from uvicorn's default of any loopback peer.
            proxy_headers=False,
        )  # loop, http, ws "auto": uvloop, httptools and websockets when installed
        tune_gc()
        with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
            runner.run(_main(_Server(config), sock, pool, bus, options, require_auth, watcher))
        return 0
    finally:
        store.close()


def _bind(options: ServeOptions) -> socket.socket:
    family = socket.AF_INET6 if ":" in options.host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((options.host.strip("[]"), options.port))
    except OSError as exc:
        sock.close()
        raise UsageError(
            f"Cannot listen on {options.host}:{options.port}: {exc.strerror}.",
            hint="pick another port with --port, or stop what uses this one",
        ) from exc
    sock.set_inheritable(True)
    return sock


def _config_source(loaded: LoadedConfig, store: Store, options: ServeOptions) -> ConfigSource:
    from ado.config.source import ConfigSource

    source = ConfigSource(loaded, store, reload=options.reload)
    source.resolved()  # a saved setting that does not apply is an error now, not per request
    return source


def _build(
    source: ConfigSource, store: Store, options: ServeOptions, require_auth: bool
) -> tuple[Any, WorkerPool | Dispatcher, LiveBus]:
    from ado.api.access import AccessPolicy
    from ado.api.app import create_app
    from ado.api.ratelimit import RateLimit
    from ado.orchestrator.compose import Services

    # Every task's Runner reports to telemetry (/metrics, and OTLP when enabled) and to the
    # notification channels of the settings current when it starts (FollowingNotifier).
    services = Services.for_server(source, store)
    pool: WorkerPool | Dispatcher
    if options.executor == Executor.CELERY:
        from ado.distributed.dispatch import Dispatcher

        pool = Dispatcher(store, source)
    else:
        pool = WorkerPool(
            store,
            source,
            concurrency=options.concurrency,
            services=services,
        )
    bus = LiveBus(store)

    @asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        pool.start()
        bus.start()
        try:
            yield
        finally:  # already done by ``_main`` on a signal; here when uvicorn stops by itself
            await pool.stop(options.grace)
            await bus.stop()
            await services.aclose(grace=5.0)
            services.shutdown()  # flushes spans and metrics

    server = source.loaded.config.server
    app = create_app(
        loaded_config=source.loaded,
        config_source=source,
        store=store,
        require_auth=require_auth,
        rate_limit=RateLimit.for_server(server, require_auth=require_auth),
        access=AccessPolicy.for_server(
            server, options.host, options.port, require_auth=require_auth
        ),
        pool=pool,
        bus=bus,
        lifespan=lifespan,
    )
    return app, pool, bus


class _Server(uvicorn.Server):
    """uvicorn's server, with ADO's own signal handling (see the module docstring)."""

    @contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        yield  # ``_main`` handles the signals


async def _main(
    uv: _Server,
    sock: socket.socket,
    pool: WorkerPool | Dispatcher,
    bus: LiveBus,
    options: ServeOptions,
    require_auth: bool,
    watcher: ConfigWatcher,
) -> None:
    loop = asyncio.get_running_loop()
    stopping = asyncio.Event()
    signals = 0

    def on_signal() -> None:
        nonlocal signals
        signals += 1
        if signals == 1:
            running = len(pool.running)
            _say(
                f"stopping: no new tasks; {running} running, up to {options.grace:g} s to finish "
                "(again to cancel them now)"
            )
            stopping.set()
        elif signals == 2:
            _say("cancelling the running tasks (again to exit at once)")
            pool.cancel_all()
        else:
            os._exit(130)

    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, on_signal)
    loop.add_signal_handler(signal.SIGHUP, watcher.hangup)

    async def run_http() -> None:
        try:
            await uv.serve(sockets=[sock])
        finally:
            stopping.set()

    async def lifecycle() -> None:
        await stopping.wait()
        watcher.stop()
        await pool.stop(options.grace)
        await bus.stop()
        uv.should_exit = True

    try:
        async with asyncio.TaskGroup() as group:
            group.create_task(run_http())
            group.create_task(lifecycle())
            group.create_task(_announce(uv, options, require_auth))
            if options.reload is not None:
                group.create_task(watcher.run())
    finally:
        for sig in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
            loop.remove_signal_handler(sig)
    _say("stopped")


async def _announce(uv: uvicorn.Server, options: ServeOptions, require_auth: bool) -> None:
    while not uv.started:
        if uv.should_exit:
            return
        await asyncio.sleep(0.05)
    host = options.host
    if not is_loopback(host) and host in ("0.0.0.0", "::", ""):
        shown = "127.0.0.1"
    else:
        shown = f"[{host}]" if ":" in host else host
    url = f"http://{shown}:{options.port}/"
    auth = " (API token required)" if require_auth else ""
    reload = " · config reloads on change or SIGHUP" if options.reload is not None else ""
    _say(f"ADO serving on {url}{auth} · API docs {url}api/docs{reload} · Ctrl-C to stop")
    if options.open_browser and sys.stdout.isatty():
        import webbrowser

        await asyncio.to_thread(webbrowser.open, url)


def _say(text: str) -> None:
    click.echo(f"ado serve: {text}", err=False)
    sys.stdout.flush()
