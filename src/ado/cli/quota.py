"""``ado quota``: every usage window of every provider id (account), from the quota ledger."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

import click

from ado.cli.context import AppContext, console
from ado.vocab import QuotaSource, QuotaStatus

if TYPE_CHECKING:
    from ado.routing.quota import QuotaEntry, QuotaLedger

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
    """Each provider's usage windows: % used (against routing.quota's warnAt and stopAt),
    reset countdown, source and age of the reading, and when at the current pace the window
    runs out.

    Windows come from what the agents report during normal runs (claude's 5-hour and weekly
    windows, codex's primary and secondary ones) and from the configured rateLimits counted
    against ADO's own usage (docs/routing.md, "The quota ledger").
    """
    from ado.routing.quota import snapshot

    if refresh:
        _refresh(app, quiet=as_json)
    body = snapshot(app.store, app.config, datetime.now(UTC))
    if as_json:
        from ado.api import wire

        click.echo(wire.dumps(wire.QUOTA(body), indent=2))
        return
    if not body.windows:
        console().print(
            "[dim]No usage windows known yet: they appear after a run of an agent that reports"
            " them (claude with a subscription login, codex), or with rateLimits configured.[/]"
        )
        return
    from rich.table import Table

    from ado.cli.render import format_duration, safe

    table = Table(
        title=f"Quota (warn at {body.warn_at:.0%}, stop at {body.stop_at:.0%})",
        title_justify="left",
    )
    for col in ("provider", "window", "used", "status", "resets", "source", "age", "at this pace"):
        table.add_column(col, justify="right" if col in ("age",) else "left")
    for w in body.windows:
        name = w.label + (f" ({w.limit_name})" if w.limit_name else "")
        table.add_row(
            safe(w.provider),
            name,
            _bar(w, body),
            _status(w),
            _resets(w, body.now),
            w.source.value,
            format_duration(w.age_s) if w.source is QuotaSource.AGENT else "now",
            _pace(w, body.now),
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


def _bar(w: QuotaEntry, body: QuotaLedger) -> str:
    ratio = w.used_ratio
    if ratio is None:
        return "[dim]not reported[/]"
    filled = min(BAR, round(ratio * BAR))
    colour = "red" if ratio >= body.stop_at else "yellow" if ratio >= body.warn_at else "green"
    if not w.current:
        colour = "dim"
    counts = f" {w.used}/{w.limit}" if w.used is not None and w.limit is not None else ""
    return f"[{colour}]{'█' * filled}[/][dim]{'░' * (BAR - filled)}[/] {ratio:.0%}{counts}"


def _status(w: QuotaEntry) -> str:
    if not w.current:
        ended = w.resets_at is not None or w.window_minutes
        return "[dim]reset since[/]" if ended else "[dim]end unknown[/]"
    text = {
        QuotaStatus.REJECTED: "[red]rejected[/]",
        QuotaStatus.WARNING: "[yellow]warning[/]",
    }.get(w.status, w.status.value)
    return text + (", [red]stops new tasks[/]" if w.stops else "")


def _resets(w: QuotaEntry, now: datetime) -> str:
    if w.resets_at is None:
        return "[dim]not reported[/]"
    when = _clock(w.resets_at, now)
    if not w.current or w.reset_in_s is None or w.reset_in_s <= 0:
        return f"{when} (passed)"
    return f"in {format_minutes(int(w.reset_in_s // 60))} ({when})"


def _clock(when: datetime, now: datetime) -> str:
    """``14:05`` today, ``Thu 14:05`` another day (local time)."""
    local = when.astimezone()
    return f"{local:%H:%M}" if local.date() == now.astimezone().date() else f"{local:%a %H:%M}"


def _pace(w: QuotaEntry, now: datetime) -> str:
    if not w.current:
        return "-"
    if w.status is QuotaStatus.REJECTED or (w.used_ratio is not None and w.used_ratio >= 1):
        return "[red]used up[/]"
    if w.runs_out_at is None:
        return "-"
    text = f"runs out at {_clock(w.runs_out_at, now)}"
    if w.resets_at is not None:
        minutes = int((w.resets_at - w.runs_out_at).total_seconds() // 60)
        text += f", {format_minutes(minutes)} before the reset"
    return f"[yellow]{text}[/]"


def format_minutes(minutes: int) -> str:
    hours, minutes = divmod(max(0, minutes), 60)
    if hours >= 48:
        days, hours = divmod(hours, 24)
        return f"{days} d {hours} h"
    return f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
