"""``ado providers list|check``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click

from ado.cli.context import AppContext, console


@click.group()
def providers() -> None:
    """The agents ADO knows, and whether they work here."""


@providers.command(name="list")
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def list_(app: AppContext, as_json: bool) -> None:
    """Every registered agent adapter with its state in the configuration."""
    from ado.cli.status import provider_views

    rows = provider_views(app, datetime.now(UTC))
    if as_json:
        from ado.api import wire

        click.echo(wire.dumps(wire.PROVIDER.many(rows), indent=2))
        return
    from rich.table import Table

    table = Table()
    for col in ("provider", "name", "installed", "enabled", "access modes", "path"):
        table.add_column(col)
    for r in rows:
        modes = ", ".join(f"{m.mode}(p{m.priority})" for m in r.access_modes) or "-"
        table.add_row(
            r.id,
            r.name,
            "[green]yes[/]" if r.installed else "[dim]no[/]",
            "[green]yes[/]" if r.enabled else "[dim]no[/]",
            modes,
            r.path or "-",
        )
    console().print(table)


@providers.command()
@click.argument("provider_ids", nargs=-1)
@click.option("--json", "as_json", is_flag=True)
@click.pass_obj
def check(app: AppContext, provider_ids: tuple[str, ...], as_json: bool) -> None:
    """Run each agent's --version (bounded time) and report installation and login state.

    Exits 1 when an enabled provider is missing or not logged in.
    """
    import asyncio

    from ado.providers import adapter_classes, configured_env, detect_all, get_adapter

    config = app.loaded.config
    ids = list(provider_ids) or sorted(adapter_classes())
    adapters = {pid: get_adapter(pid) for pid in ids}
    commands = {pid: p.command for pid, p in config.providers.items()}
    envs = {pid: configured_env(pid, p) for pid, p in config.providers.items()}
    results = asyncio.run(detect_all(commands, ids, envs))
    problems = 0
    rows: list[dict[str, Any]] = []
    out = console()
    for pid, det in results.items():
        enabled = bool(config.providers.get(pid) and config.providers[pid].enabled)
        ok = det.installed and det.logged_in is not False
        if enabled and not ok:
            problems += 1
        rows.append(
            {
                "id": pid,
                "enabled": enabled,
                "installed": det.installed,
                "version": det.version,
                "path": det.path,
                "loggedIn": det.logged_in,
                "detail": det.detail,
            }
        )
    if as_json:
        click.echo(json.dumps(rows, indent=2))
    else:
        for r in rows:
            if not r["installed"]:
                out.print(
                    f"[red]✘[/] {r['id']:<13} not installed — {adapters[r['id']].install_hint}"
                )
                continue
            login = {
                True: "[green]logged in[/]",
                False: "[red]not logged in[/]",
                None: "[dim]login state unknown[/]",
            }[r["loggedIn"]]
            flag = "" if r["enabled"] else " [dim](not enabled)[/]"
            out.print(
                f"[green]✔[/] {r['id']:<13} {r['version'] or '?':<10} {login}{flag} "
                f"[dim]{r['path']}{' — ' + r['detail'] if r['detail'] else ''}[/]"
            )
    if problems:
        raise SystemExit(1)
