"""``ado quota``: every usage window of every provider id (account), from the quota ledger."""

from __future__ import annotations

from datetime import UTC, datetime

import click

from ado.cli.context import AppContext, console

#: Characters of the bar showing the fraction used.
BAR = 20


@click.command()
@click.option("--json", "as_json", is_flag=True, help="The ledger as JSON (GET /api/quota).")
@click.option(
    "--refresh",
    is_flag=True,
    help="First read what the agents recorded of their windows, without a run and at no cost "
    "in quota (codex's session logs, runs outside ADO included).",
)
@click.pass_obj
def quota(app: AppContext, as_json: bool, refresh: bool) -> None:
    """Each provider's usage windows: % used, reset countdown, source and age of the reading,
    and when at the current pace the window runs out.

    Windows come from what the agents report during normal runs (claude's 5-hour and weekly
    windows, codex's primary and secondary ones) and from the configured rateLimits counted
    against ADO's own usage (docs/routing.md, "The quota ledger").
    """
    from ado.routing.quota import ledger

    if refresh:
        _refresh(app, quiet=as_json)
    now = datetime.now(UTC)
    windows = ledger(app.store, app.config, now)
    if as_json:
        from types import SimpleNamespace

        from ado.api import wire

        click.echo(wire.dumps(wire.QUOTA(SimpleNamespace(now=now, windows=windows)), indent=2))
        return
    if not windows:
        console().print(
            "[dim]No usage windows known yet: they appear after a run of an agent that reports"
            " them (claude with a subscription login, codex), or with rateLimits configured.[/]"
        )
        return
    from rich.table import Table

    from ado.cli.render import format_duration, format_when, safe

    table = Table(title="Quota", title_justify="left")
    for col in ("provider", "window", "used", "status", "resets", "source", "age", "at this pace"):
        table.add_column(col, justify="right" if col in ("age",) else "left")
    for w in windows:
        name = w.window.value + (f" ({w.limit_name})" if w.limit_name else "")
        table.add_row(
            safe(w.provider),
            name,
            _bar(w.used_ratio, w.used, w.limit),
            _status(w.status.value),
            format_when(w.resets_at) if w.resets_at else "-",
            w.source.value,
            format_duration(w.age_s) if w.source.value == "agent" else "now",
            _pace(w.runs_out_at, w.resets_at),
        )
    console().print(table)


def _refresh(app: AppContext, quiet: bool) -> None:
    """``--refresh``: one line per provider id on stderr (stdout keeps the JSON clean)."""
    from ado.cli.render import safe
    from ado.routing.quota import refresh

    err = console(stderr=True)
    for found in refresh(app.store, app.config):
        if quiet:
            continue
        if found.observed_at is None:
            err.print(f"[dim]{safe(found.provider)}: {found.reason}[/]")
        else:
            err.print(
                f"{safe(found.provider)}: {found.windows} window(s) as the agent recorded them "
                f"at {found.observed_at.astimezone():%Y-%m-%d %H:%M %Z}"
            )


def _bar(ratio: float | None, used: int | None, limit: int | None) -> str:
    if ratio is None:
        return "[dim]not reported[/]"
    filled = min(BAR, round(ratio * BAR))
    colour = "red" if ratio >= 0.95 else "yellow" if ratio >= 0.8 else "green"
    counts = f" {used}/{limit}" if used is not None and limit is not None else ""
    return f"[{colour}]{'█' * filled}[/][dim]{'░' * (BAR - filled)}[/] {ratio:.0%}{counts}"


def _status(status: str) -> str:
    return {"rejected": "[red]rejected[/]", "warning": "[yellow]warning[/]"}.get(status, status)


def _pace(runs_out_at: datetime | None, resets_at: datetime | None) -> str:
    if runs_out_at is None:
        return "-"
    text = f"runs out at {runs_out_at.astimezone():%H:%M}"
    if resets_at is not None:
        minutes = int((resets_at - runs_out_at).total_seconds() // 60)
        text += f", {format_minutes(minutes)} before the reset"
    return f"[yellow]{text}[/]"


def format_minutes(minutes: int) -> str:
    hours, minutes = divmod(max(0, minutes), 60)
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
