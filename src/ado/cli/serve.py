"""``ado serve`` (alias ``ado dashboard``): the API, the dashboard and the worker pool."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from ado.cli.context import AppContext
from ado.config.loader import config_search_paths, load_config
from ado.vocab import Executor, values

#: ``--grace``, of ``ado serve`` and ``ado worker``.
grace_option = click.option(
    "--grace",
    default=30.0,
    show_default=True,
    type=click.FloatRange(min=0),
    help="On shutdown, seconds running tasks get to finish before they are cancelled.",
)


@click.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Address to listen on.")
@click.option("--port", default=8080, show_default=True, type=click.IntRange(0, 65535))
@click.option("--no-open", is_flag=True, help="Do not open the dashboard in a browser.")
@grace_option
@click.option(
    "--executor",
    type=click.Choice(values(Executor)),
    help="Who runs the tasks: this process (local) or `ado worker`s (celery); default: "
    "orchestration.executor.",
)
@click.pass_obj
def serve(
    app: AppContext, host: str, port: int, no_open: bool, grace: float, executor: str | None
) -> None:
    """Serve the dashboard and the REST/WebSocket API, and run submitted tasks.

    Tasks queued through the API run on the same runner as ``ado run``,
    ``orchestration.maxParallelAgents`` at a time. Bound to anything but loopback, every
    API request needs a token (``ado tokens create NAME``). SIGTERM or Ctrl-C stops taking
    tasks and gives running ones ``--grace`` seconds before cancelling them; a second
    signal cancels them at once. With ``--executor celery`` it only queues: ``ado worker``
    processes run the tasks (docs/scaling.md).

    The configuration file is read again when it changes and on SIGHUP; an invalid edit is
    refused (logged with its file and line) and the last good configuration stays.
    """
    from ado.server.serve import ServeOptions
    from ado.server.serve import serve as run_server

    options = ServeOptions(
        host=host,
        port=port,
        open_browser=not no_open,
        grace=grace,
        reload=lambda: load_config(app.config_path, app.cwd),
        watch=_watched(app),
        executor=Executor(executor) if executor else None,
    )
    try:
        code = run_server(app.loaded, options)
    finally:
        app.close()
    sys.exit(code)


def _watched(app: AppContext) -> list[Path]:
    """The files whose change reloads the configuration: the one named by ``--config`` or
    ``ADO_CONFIG``, else every place the search looks (a file created later counts too)."""
    explicit = app.config_path or os.environ.get("ADO_CONFIG")
    if explicit:
        return [Path(explicit).expanduser()]
    return [Path(p) for p in config_search_paths(app.cwd)]
