"""``ado tasks list|show|cancel``."""

from __future__ import annotations

from typing import Any

import click

from ado.cli.choices import SuggestingChoice
from ado.cli.context import AppContext, console
from ado.store.ids import MAX_ID, parse_id
from ado.vocab import TaskStatus, values


class TaskIdType(click.ParamType[int]):
    """A task id: ASCII digits, 1 to 2**63 - 1 (what the store holds)."""

    name = "task_id"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> int:
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= MAX_ID:
            return value
        task_id = parse_id(str(value))
        if task_id is None:
            self.fail(
                f"{value!r} is not a task id (a whole number from 1 to {MAX_ID}); "
                "`ado tasks list` shows them",
                param,
                ctx,
            )
        return task_id


TASK_ID = TaskIdType()


@click.group()
def tasks() -> None:
    """List, show and cancel tasks."""


@tasks.command(name="list")
@click.option(
    "--status", type=SuggestingChoice(values(TaskStatus)), help="Only tasks with this status."
)
@click.option("-p", "--provider", help="Only tasks run on this provider.")
@click.option("-n", "--limit", default=20, show_default=True)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(
    app: AppContext, status: str | None, provider: str | None, limit: int, as_json: bool
) -> None:
    """Recent tasks, newest first."""
    from ado.cli.choices import check_providers
    from ado.cli.render import format_cost, format_duration, safe, status_text
    from ado.store.views import duration_s

    check_providers(app, [("-p/--provider", provider)], configured_only=False)
    rows = app.store.list_tasks(limit=limit, status=status, provider=provider)
    if as_json:
        from ado.api import wire

        click.echo(wire.dumps(wire.TASK_SUMMARY.many(rows), indent=2))
        return
    from rich.table import Table

    table = Table()
    for col in ("id", "created", "status", "provider", "duration", "tokens", "cost", "prompt"):
        table.add_column(col, overflow="ellipsis", no_wrap=col == "prompt", max_width=60)
    for t in rows:
        table.add_row(
            str(t.id),
            f"{t.created_at.astimezone():%m-%d %H:%M}",
            status_text(t),
            f"{t.provider}/{t.access_mode}" if t.provider else "-",
            format_duration(duration_s(t)),
            f"{t.input_tokens + t.output_tokens:,}",
            format_cost(t.cost_usd),
            safe(t.prompt.replace("\n", " ")),
        )
    console().print(table if rows else "[dim]No tasks.[/]")


def _get(app: AppContext, task_id: int) -> Any:
    from ado.errors import TaskNotFound

    task = app.store.get_task(task_id)
    if task is None:
        raise TaskNotFound(task_id)
    return task


@tasks.command()
@click.argument("task_id", type=TASK_ID)
@click.option("--json", "as_json", is_flag=True, help="The task, its attempts and events as JSON.")
@click.pass_obj
def show(app: AppContext, task_id: int, as_json: bool) -> None:
    """A task's details, attempts, and its whole event log replayed."""
    from ado.cli.render import event_line, format_cost, format_when, safe, summary_line
    from ado.store.views import duration_s

    task = _get(app, task_id)
    events = []
    after = 0
    while True:
        page = app.store.list_events(task_id, after_id=after, limit=1000)
        events.extend(page)
        if len(page) < 1000:
            break
        after = page[-1].id
    if as_json:  # the task as GET /api/tasks/{id} gives it, with its events
        from ado.api import wire

        body = {**wire.TASK_DETAIL(task), "events": wire.EVENT.many(events)}
        click.echo(wire.dumps(body, indent=2))
        return
    out = console()
    created = task.created_at.astimezone().strftime("%Y-%m-%d %H:%M:%S")
    out.print(f"[bold]Task {task.id}[/] · {task.status} · {created} · {safe(task.cwd)}")
    out.print(f"[dim]prompt:[/] {safe(task.prompt)}")
    if task.routing_reason:
        out.print(f"[dim]routing:[/] {safe(task.routing_reason)}")
    if task.status == "parked" and task.park_reason:
        out.print(
            f"[yellow]parked ({task.parks} times): {safe(task.park_reason)}; looked at again "
            f"{format_when(task.parked_until)}[/]"
        )
    elif task.parks:
        out.print(f"[dim]parked {task.parks} times (last: {safe(task.park_reason or '')})[/]")
    for a in task.attempts:
        out.print(
            f"  attempt {a.number}: {a.provider}/{a.access_mode} → {a.outcome}"
            f"{' (' + safe(a.outcome_message) + ')' if a.outcome_message else ''}"
            f" · {a.input_tokens:,} in / {a.output_tokens:,} out · "
            f"{format_cost(a.cost_usd)} (API value {format_cost(a.api_cost_usd)}"
            + (
                f", the agent's own figure {format_cost(a.agent_cost_usd)})"
                if a.agent_cost_usd is not None
                else ")"
            )
            + (f" · model {safe(a.model)}" if a.model else "")
            + (f" · session {safe(a.session_id)}" if a.session_id else "")
        )
    if task.dropped_events or task.dropped_bytes:
        out.print(
            f"[yellow]output truncated: {task.dropped_events:,} events and "
            f"{task.dropped_bytes:,} bytes of the agent's output were not stored[/] [dim]"
            "(storage.maxEventsPerTask, maxBytesPerTask, maxEventBytes)[/]"
        )
    out.rule("events")
    for e in events:
        line = event_line(e.to_agent_event())
        if line is not None:
            out.print(line)
    out.rule()
    files = [f for a in task.attempts for f in a.files_changed]
    out.print(
        summary_line(
            task.status,
            duration_s(task) or 0.0,
            task.input_tokens + task.cache_read_tokens,
            task.output_tokens,
            task.cost_usd,
            task.api_cost_usd,
            files,
            task.id,
        )
    )
    if task.error:
        out.print(f"[red]{safe(task.error)}[/]")


@tasks.command()
@click.argument("task_id", type=TASK_ID)
@click.pass_obj
def cancel(app: AppContext, task_id: int) -> None:
    """Cancel a queued or running task: the process running it stops the agent and records
    it cancelled (an ``ado run`` is sent SIGINT, a server's worker pool a cancel request)."""
    import asyncio

    from ado.orchestrator.cancel import cancel_task

    task = _get(app, task_id)
    status = asyncio.run(cancel_task(app.store, None, task_id))
    out = console()
    if status == "cancelling":
        out.print(f"[yellow]■ asked ADO process {task.owner_pid} to cancel task {task_id}[/]")
    elif status == "interrupted":
        out.print(f"[yellow]task {task_id}'s ADO process is gone; marked interrupted[/]")
    else:
        out.print(f"[yellow]■ task {task_id} {status}[/]")
