"""``ado status``: providers and their limits, cooldowns, recent tasks, today's usage."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, NamedTuple

import click

from ado.cli.context import AppContext, console
from ado.vocab import TaskStatus

if TYPE_CHECKING:
    from collections.abc import Sequence

    from ado.routing.overview import AccessModeView, ProviderView
    from ado.store import ReportRow


def provider_views(
    app: AppContext,
    now: datetime,
    *,
    probe: bool = False,
    origins: bool = True,
    today: Sequence[ReportRow] | None = None,
) -> list[ProviderView]:
    """One view per provider: installed, version, enabled, access modes with limits/cooldowns;
    with ``origins``, the layer of each switch (the JSON's ``origins`` and ``fileValues``);
    ``today``: the usage report since midnight UTC, when read already."""
    from ado.routing.overview import provider_views as views
    from ado.routing.overview import with_origins

    config = app.config  # the file + settings and provider switches saved through the API
    detections: dict[str, Any] = {}
    if probe:
        import asyncio

        from ado.providers import detect_configured

        detections = asyncio.run(detect_configured(config))
    rows = views(config.providers, app.reader, now, detections=detections, today=today)
    return with_origins(rows, app.resolve()) if origins else rows


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=10, show_default=True, help="Recent tasks to show.")
@click.pass_obj
def status(app: AppContext, as_json: bool, limit: int) -> None:
    """Providers (installed, enabled, limits used, cooldowns), recent tasks, today's cost."""
    # The table reads the configuration's values, and of their layers only which were saved
    # through the API: the validated configuration cached for ``ado run`` serves it, without
    # pydantic or the YAML parser. The JSON gives every switch's layer (file or default),
    # which needs the file's data and the models.
    app.config_cache = not as_json
    now = datetime.now(UTC)
    store = app.reader
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    report = store.usage_report(day)
    providers = provider_views(app, now, origins=as_json, today=report)
    recent = store.list_tasks(limit=limit)
    today = StatusToday(
        tasks=store.task_status_counts(day),
        requests=sum(r.requests for r in report),
        input_tokens=sum(r.input_tokens for r in report),
        output_tokens=sum(r.output_tokens for r in report),
        cost_usd=round(sum(r.cost_usd for r in report), 6),
        api_cost_usd=round(sum(r.api_cost_usd for r in report), 6),
    )
    if as_json:
        from ado.api import wire

        body = wire.STATUS(
            StatusView(
                config=str(app.loaded.path) if app.loaded.path else None,
                store=store.url_redacted,
                providers=providers,
                recent_tasks=recent,
                today=today,
            )
        )
        click.echo(wire.dumps(body, indent=2))
        return
    _print(app, providers, recent, today, now)


class StatusToday(NamedTuple):
    tasks: dict[str, int]
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    api_cost_usd: float


class StatusView(NamedTuple):
    config: str | None
    store: str
    providers: list[ProviderView]
    recent_tasks: list[Any]
    today: StatusToday


def _print(
    app: AppContext,
    providers: list[ProviderView],
    recent: list[Any],
    today: StatusToday,
    now: datetime,
) -> None:
    from rich.table import Table

    from ado.cli.render import format_cost, format_duration, format_tokens, safe, status_text
    from ado.store.views import duration_s

    out = console()
    resolved = app.resolve()
    saved_any = False

    def saved(*path: str | int) -> str:
        nonlocal saved_any
        if not resolved.is_saved(("providers", *path)):
            return ""
        saved_any = True
        return " [yellow](saved)[/]"

    table = Table(title="Providers", title_justify="left", expand=False)
    for col in ("provider", "installed", "enabled", "access mode", "limits used", "cooldown"):
        table.add_column(col)
    for p in providers:
        inst = "[green]yes[/]" if p.installed else "[dim]no[/]"
        enabled = ("[green]yes[/]" if p.enabled else "[dim]no[/]") + saved(p.id, "enabled")
        modes: list[AccessModeView | None] = [*p.access_modes] or [None]
        for i, m in enumerate(modes):
            limits = cooldown = ""
            mode = ""
            if m is not None:
                mode = f"{m.mode} (p{m.priority})" + ("" if m.enabled else " off")
                mode += saved(p.id, "accessModes", i, "enabled") or saved(
                    p.id, "accessModes", i, "priority"
                )
                limits = ", ".join(f"{x.used}/{x.limit} {x.name}" for x in m.limits)
                if m.cooldown_until:
                    until = m.cooldown_until
                    cooldown = (
                        f"[magenta]until {until.astimezone():%H:%M} "
                        f"(in {format_duration((until - now).total_seconds())})[/]"
                    )
            table.add_row(
                p.id if i == 0 else "",
                inst if i == 0 else "",
                enabled if i == 0 else "",
                mode,
                limits or "-",
                cooldown or "-",
            )
    out.print(table)
    if saved_any:
        out.print(
            "[dim](saved): switched in the dashboard or the API, over ado.config.yaml; "
            "`ado config reset providers.<id>` returns to the file[/]"
        )
    tasks = Table(title="Recent tasks", title_justify="left")
    for col in ("id", "status", "provider", "duration", "cost", "prompt"):
        tasks.add_column(col, overflow="ellipsis", no_wrap=col == "prompt", max_width=50)
    colours = {
        TaskStatus.SUCCEEDED: "green",
        TaskStatus.FAILED: "red",
        TaskStatus.RUNNING: "cyan",
        TaskStatus.CANCELLED: "yellow",
        TaskStatus.INTERRUPTED: "yellow",
        TaskStatus.PARKED: "yellow",
    }
    for t in recent:
        tasks.add_row(
            str(t.id),
            f"[{colours.get(t.status, 'white')}]{status_text(t)}[/]",
            t.provider or "-",
            format_duration(duration_s(t)),
            format_cost(t.cost_usd),
            safe(t.prompt.replace("\n", " ")),
        )
    if recent:
        out.print(tasks)
    else:
        out.print('[dim]No tasks yet. Try: ado run "describe this repository"[/]')
    done = ", ".join(f"{n} {s}" for s, n in sorted(today.tasks.items())) or "no tasks"
    out.print(
        f"[bold]Today[/]: {done} · {today.requests} requests · "
        f"{format_tokens(today.input_tokens)} in / {format_tokens(today.output_tokens)} "
        f"out · spent {format_cost(today.cost_usd)} "
        f"(API value {format_cost(today.api_cost_usd)})"
    )
