"""``ado status``: providers and their limits, cooldowns, recent tasks, today's usage."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import click

from ado.cli.context import AppContext, console


def provider_rows(app: AppContext, now: datetime, *, probe: bool = False) -> list[dict[str, Any]]:
    """One row per provider: installed, version, enabled, access modes with limits/cooldowns."""
    from ado.routing.overview import provider_rows as rows

    config = app.config  # the file + settings and provider switches saved through the API
    detections: dict[str, Any] = {}
    if probe:
        import asyncio

        from ado.providers import detect_configured

        detections = asyncio.run(detect_configured(config))
    return rows(config.providers, app.reader, now, detections=detections)


@click.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--limit", default=10, show_default=True, help="Recent tasks to show.")
@click.pass_obj
def status(app: AppContext, as_json: bool, limit: int) -> None:
    """Providers (installed, enabled, limits used, cooldowns), recent tasks, today's cost."""
    now = datetime.now(UTC)
    store = app.reader
    providers = provider_rows(app, now)
    day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    recent = store.list_tasks(limit=limit)
    report = store.usage_report(day)
    counts = store.task_status_counts(day)
    today = {
        "tasks": counts,
        "requests": sum(r.requests for r in report),
        "input_tokens": sum(r.input_tokens for r in report),
        "output_tokens": sum(r.output_tokens for r in report),
        "cost_usd": round(sum(r.cost_usd for r in report), 6),
        "api_cost_usd": round(sum(r.api_cost_usd for r in report), 6),
    }
    if as_json:
        click.echo(
            json.dumps(
                {
                    "config": str(app.loaded.path) if app.loaded.path else None,
                    "store": store.url_redacted,
                    "providers": providers,
                    "recent_tasks": [_task_json(t) for t in recent],
                    "today": today,
                },
                indent=2,
            )
        )
        return
    _print(app, providers, recent, today, now)


def _task_json(t: Any) -> dict[str, Any]:
    from ado.store.views import prompt_excerpt

    prompt, cut = prompt_excerpt(t.prompt)
    return {
        "id": t.id,
        "status": t.status,
        "provider": t.provider,
        "access_mode": t.access_mode,
        "prompt": prompt,
        "prompt_truncated": cut,
        "created_at": t.created_at.isoformat(),
        "duration_s": _duration(t),
        "cost_usd": t.cost_usd,
        "api_cost_usd": t.api_cost_usd,
        "input_tokens": t.input_tokens,
        "output_tokens": t.output_tokens,
    }


def _duration(t: Any) -> float | None:
    if t.started_at and t.finished_at:
        seconds: float = (t.finished_at - t.started_at).total_seconds()
        return round(seconds, 3)
    return None


def _print(
    app: AppContext,
    providers: list[dict[str, Any]],
    recent: list[Any],
    today: dict[str, Any],
    now: datetime,
) -> None:
    from rich.table import Table

    from ado.cli.render import format_cost, format_duration, format_tokens, safe

    out = console()
    resolved = app.resolve()
    saved_any = False

    def saved(*path: str | int) -> str:
        nonlocal saved_any
        if resolved.origin_of(("providers", *path)) != "saved":
            return ""
        saved_any = True
        return " [yellow](saved)[/]"

    table = Table(title="Providers", title_justify="left", expand=False)
    for col in ("provider", "installed", "enabled", "access mode", "limits used", "cooldown"):
        table.add_column(col)
    for p in providers:
        inst = "[green]yes[/]" if p["installed"] else "[dim]no[/]"
        enabled = ("[green]yes[/]" if p["enabled"] else "[dim]no[/]") + saved(p["id"], "enabled")
        modes = p["access_modes"] or [None]
        for i, m in enumerate(modes):
            limits = cooldown = ""
            mode = ""
            if m is not None:
                mode = f"{m['mode']} (p{m['priority']})" + ("" if m["enabled"] else " off")
                mode += saved(p["id"], "accessModes", i, "enabled") or saved(
                    p["id"], "accessModes", i, "priority"
                )
                limits = ", ".join(f"{x['used']}/{x['limit']} {x['name']}" for x in m["limits"])
                if m["cooldown_until"]:
                    until = datetime.fromisoformat(m["cooldown_until"])
                    cooldown = (
                        f"[magenta]until {until.astimezone():%H:%M} "
                        f"(in {format_duration((until - now).total_seconds())})[/]"
                    )
            table.add_row(
                p["id"] if i == 0 else "",
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
        "succeeded": "green",
        "failed": "red",
        "running": "cyan",
        "cancelled": "yellow",
        "interrupted": "yellow",
    }
    for t in recent:
        tasks.add_row(
            str(t.id),
            f"[{colours.get(t.status, 'white')}]{t.status}[/]",
            t.provider or "-",
            format_duration(_duration(t)),
            format_cost(t.cost_usd),
            safe(t.prompt.replace("\n", " ")),
        )
    if recent:
        out.print(tasks)
    else:
        out.print('[dim]No tasks yet. Try: ado run "describe this repository"[/]')
    counts = today["tasks"]
    done = ", ".join(f"{n} {s}" for s, n in sorted(counts.items())) or "no tasks"
    out.print(
        f"[bold]Today[/]: {done} · {today['requests']} requests · "
        f"{format_tokens(today['input_tokens'])} in / {format_tokens(today['output_tokens'])} "
        f"out · spent {format_cost(today['cost_usd'])} "
        f"(API value {format_cost(today['api_cost_usd'])})"
    )
    _ = timedelta
