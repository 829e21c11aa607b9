"""``ado worker``: run the tasks ``ado serve`` queues with the celery executor."""

from __future__ import annotations

import sys

import click

from ado.cli.context import AppContext
from ado.cli.serve import grace_option


@click.command()
@click.option(
    "-c",
    "--concurrency",
    type=click.IntRange(min=1),
    help="Agents at a time (default: orchestration.maxParallelAgents).",
)
@click.option(
    "-Q",
    "--queues",
    help="Comma-separated Celery queues to take tasks from (default: orchestration.queue).",
)
@click.option(
    "-n",
    "--hostname",
    help="The worker's Celery node name, %h standing for the host name (default: celery@HOST).",
)
@grace_option
@click.pass_obj
def worker(
    app: AppContext, concurrency: int | None, queues: str | None, hostname: str | None, grace: float
) -> None:
    """Run tasks queued by `ado serve` with the celery executor.

    A Celery worker on the broker of ``orchestration.broker`` (or ``ADO_BROKER_URL``) and the
    store of ``ado serve`` (PostgreSQL): each task runs on the same runner as ``ado run``,
    claimed in the store first, so a message delivered twice never starts a second agent.
    SIGTERM or Ctrl-C stops taking tasks and gives running ones ``--grace`` seconds before
    cancelling them. See docs/scaling.md.
    """
    from ado.distributed.worker import WorkerOptions, run_worker

    options = WorkerOptions(
        concurrency=concurrency,
        queues=[q.strip() for q in (queues or "").split(",") if q.strip()],
        hostname=hostname,
        grace=grace,
    )
    try:
        code = run_worker(app.loaded, options)
    finally:
        app.close()
    sys.exit(code)
