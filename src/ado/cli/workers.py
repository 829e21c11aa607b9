"""``ado workers``: the live worker pools (``ado serve``'s, ``ado worker``) from the registry."""

from __future__ import annotations

import click

from ado.cli.context import AppContext, console


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The workers as JSON (GET /api/workers).")
@click.pass_obj
def workers(app: AppContext, as_json: bool) -> None:
    """The live worker pools: host and pid, kind, concurrency, heartbeat age, the tasks each
    runs and has finished.

    Every pool beats every third of orchestration.workerTimeout; one silent for longer is
    lost: its running tasks are interrupted or re-queued (orchestration.onWorkerLost) by the
    first pool, or command like this one, that sees it (docs/workers.md).
    """
    from ado.api import wire

    found = wire.WORKER.many(app.store.list_workers())
    if as_json:
        click.echo(wire.dumps(found, indent=2))
        return
    if not found:
        console().print("[dim]No worker pool is running: start one with `ado serve`.[/]")
        return
    from rich.table import Table

    from ado.cli.render import format_duration, safe

    table = Table(title="Workers", title_justify="left")
    for col in ("host", "pid", "kind", "queues", "running", "done", "heartbeat"):
        table.add_column(col, justify="right" if col in ("pid", "done", "heartbeat") else "left")
    for w in found:
        host = safe(w["hostname"]) + (f" ({safe(w['name'])})" if w["name"] else "")
        running = f"{len(w['running'])}/{w['concurrency']}"
        if w["running"]:
            running += " " + ", ".join(f"#{i}" for i in w["running"])
        table.add_row(
            host,
            str(w["pid"]),
            str(w["kind"]),
            safe(", ".join(w["queues"])) or "-",
            running,
            str(w["tasksDone"]),
            f"{format_duration(w['heartbeatAgeS'])} ago",
        )
    console().print(table)
