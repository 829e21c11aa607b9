"""``ado report``: usage and cost per provider and access mode over a period."""

from __future__ import annotations

import csv
import sys
from datetime import UTC, datetime, timedelta

import click

from ado.cli.context import AppContext, console

PERIODS = ("today", "week", "month", "all")


def period_start(period: str, now: datetime) -> datetime | None:
    day = now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)
    return {
        "today": day,
        "week": day - timedelta(days=6),
        "month": day - timedelta(days=29),
        "all": None,
    }[period]


@click.command()
@click.option(
    "--period",
    type=click.Choice(PERIODS),
    default="today",
    show_default=True,
    help="today, the last 7 days, the last 30 days, or everything.",
)
@click.option("-p", "--provider", help="Only this provider.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(("table", "json", "csv")),
    default="table",
    show_default=True,
)
@click.pass_obj
def report(app: AppContext, period: str, provider: str | None, fmt: str) -> None:
    """Tasks, requests, tokens, money spent and API-equivalent value per provider.

    "API value" is what the same tokens would have cost at API prices: what your
    subscriptions delivered.
    """
    from ado.cli.choices import check_providers

    check_providers(app, [("-p/--provider", provider)], configured_only=False)
    now = datetime.now(UTC)
    since = period_start(period, now)
    rows = app.store.usage_report(since, provider)
    if fmt == "json":
        from types import SimpleNamespace

        from ado.api import wire

        body = SimpleNamespace(
            period=period,
            since=since,
            rows=rows,
            total_cost_usd=round(sum(r.cost_usd for r in rows), 6),
            total_api_cost_usd=round(sum(r.api_cost_usd for r in rows), 6),
        )
        click.echo(wire.dumps(wire.REPORT(body), indent=2))
        return
    if fmt == "csv":  # the columns of the JSON rows, in snake_case
        from ado.api.schemas import UsageReportRow

        fields = list(UsageReportRow.model_fields)
        writer = csv.DictWriter(sys.stdout, fieldnames=fields, lineterminator="\n")
        writer.writeheader()
        writer.writerows({f: getattr(r, f) for f in fields} for r in rows)
        return
    from rich.table import Table

    from ado.cli.render import format_cost, format_tokens

    title = f"Usage — {period}" + (f" since {since:%Y-%m-%d}" if since else "")
    table = Table(title=title, title_justify="left", show_footer=bool(rows))
    cols = (
        "provider",
        "mode",
        "tasks",
        "requests",
        "input",
        "output",
        "cache",
        "spent",
        "API value",
    )
    totals = [
        "total",
        "",
        str(sum(r.tasks for r in rows)),
        str(sum(r.requests for r in rows)),
        format_tokens(sum(r.input_tokens for r in rows)),
        format_tokens(sum(r.output_tokens for r in rows)),
        format_tokens(sum(r.cache_read_tokens + r.cache_write_tokens for r in rows)),
        format_cost(sum(r.cost_usd for r in rows)),
        format_cost(sum(r.api_cost_usd for r in rows)),
    ]
    for col, foot in zip(cols, totals, strict=True):
        table.add_column(
            col, footer=foot, justify="left" if col in ("provider", "mode") else "right"
        )
    for r in rows:
        table.add_row(
            r.provider,
            r.access_mode,
            str(r.tasks),
            str(r.requests),
            format_tokens(r.input_tokens),
            format_tokens(r.output_tokens),
            format_tokens(r.cache_read_tokens + r.cache_write_tokens),
            format_cost(r.cost_usd),
            format_cost(r.api_cost_usd),
        )
    console().print(table if rows else f"[dim]No usage {period}.[/]")
