"""``ado providers list|check``."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

import click
from rich.markup import escape

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

    from ado.cli.choices import check_providers
    from ado.providers import adapter_classes, detect_configured, get_configured_adapter

    config = app.config  # the file + provider switches saved through the API
    check_providers(app, [("PROVIDER_IDS", pid) for pid in provider_ids], configured_only=False)
    ids = list(provider_ids) or sorted({*adapter_classes(), *config.providers})
    adapters = {pid: get_configured_adapter(config, pid) for pid in ids}
    commands = {pid: p.command for pid, p in config.providers.items()}
    pass_envs = {pid: tuple(p.pass_env) for pid, p in config.providers.items()}
    results = asyncio.run(detect_configured(config, ids))
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
                "logged_in": det.logged_in,
                "detail": det.detail,
                **_pass_env(pass_envs.get(pid, ()), adapters[pid].credential_env),
            }
        )
    if as_json:
        from ado.api.keys import keyed

        click.echo(json.dumps([keyed("ProviderCheck", **r) for r in rows], indent=2))
    else:
        for r in rows:
            if not r["installed"]:
                why = adapters[r["id"]].install_hint
                if commands.get(r["id"]):
                    why = f"{r['detail']} (install: {why})"
                out.print(f"[red]✘[/] {r['id']:<13} not installed — {escape(why)}", soft_wrap=True)
                continue
            login = {
                True: "[green]logged in[/]",
                False: "[red]not logged in[/]",
                None: "[dim]login state unknown[/]",
            }[r["logged_in"]]
            flag = "" if r["enabled"] else " [dim](not enabled)[/]"
            out.print(
                f"[green]✔[/] {r['id']:<13} {r['version'] or '?':<10} {login}{flag} "
                f"[dim]{r['path']}[/]"
            )
            if r["detail"]:
                out.print(f"  {'':<13} [yellow]{escape(r['detail'])}[/]", soft_wrap=True)
            if r["pass_env"]:
                passed = ", ".join(r["pass_env_passed"]) or "nothing set"
                out.print(f"  {'':<13} passEnv {', '.join(r['pass_env'])}: passes {passed}")
                if r["pass_env_withheld"]:
                    out.print(
                        f"  {'':<13} [yellow]held back from the globs (secret-looking or ADO_*; "
                        f"name them exactly to pass them): "
                        f"{', '.join(r['pass_env_withheld'])}[/]"
                    )
    if problems:
        raise SystemExit(1)


def _pass_env(patterns: tuple[str, ...], own: tuple[str, ...]) -> dict[str, Any]:
    """What ``passEnv`` hands the agent: variable names only, never their values
    (``ProviderCheck``'s ``pass_env*`` fields)."""
    import os

    from ado.providers.environment import select

    chosen = select(patterns, os.environ, own)
    return {
        "pass_env": list(patterns),
        "pass_env_passed": sorted(chosen.passed),
        "pass_env_withheld": chosen.withheld,
    }


@providers.command()
@click.option("--json", "as_json", is_flag=True, help="JSON instead of a table.")
@click.pass_obj
def cooldowns(app: AppContext, as_json: bool) -> None:
    """The active cooldowns: which provider and access mode, until when, and why."""
    now = datetime.now(UTC)
    rows = sorted(app.reader.cooldowns(now), key=lambda c: (c.until, c.provider))
    if as_json:
        from ado.api import wire

        click.echo(wire.dumps(wire.COOLDOWN_ROW.many(rows), indent=2))
        return
    out = console()
    if not rows:
        out.print("[dim]No active cooldowns.[/]")
        return
    for r in rows:
        until = r.until.astimezone()
        guess = "" if r.reset_known else " (default length: the agent gave no reset time)"
        task = f", task {r.task_id}" if r.task_id else ""
        out.print(
            f"[yellow]⏸[/] {r.provider}/{r.access_mode} {r.kind.replace('_', ' ')} "
            f"until {until:%Y-%m-%d %H:%M %Z}{guess}{task}"
        )
        if r.reason:
            out.print(f"    {escape(r.reason)}")
    out.print("[dim]`ado providers clear-cooldown ID` lets a provider take tasks again.[/]")


@providers.command(name="clear-cooldown")
@click.argument("provider_id")
@click.option(
    "--access-mode",
    type=click.Choice(("subscription", "api", "free")),
    help="Only this access mode's cooldown (default: all of the provider's).",
)
@click.pass_obj
def clear_cooldown(app: AppContext, provider_id: str, access_mode: str | None) -> None:
    """Remove PROVIDER_ID's active cooldowns: routing may choose it again at once."""
    from ado.cli.choices import check_providers

    check_providers(app, [("PROVIDER_ID", provider_id)], configured_only=False)
    removed = app.store.clear_cooldowns(provider_id, access_mode)
    which = f"{provider_id}/{access_mode}" if access_mode else provider_id
    if removed:
        console().print(f"[green]✔[/] cleared {removed} cooldown(s) of {which}")
    else:
        console().print(f"[dim]{which} had no active cooldown.[/]")
