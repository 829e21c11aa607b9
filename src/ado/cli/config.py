"""``ado config show|set|validate``."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import click

from ado.cli.context import AppContext, console

MASK = "**********"
#: Names whose string values are secrets wherever they appear (provider ``env``, the free-form
#: sections): ``ANTHROPIC_API_KEY``, ``GH_TOKEN``, ``smtpPassword``...
_SECRET_NAME = re.compile(r"(key|token|secret|password|passwd|credentials?)$", re.IGNORECASE)


def mask_secrets(data: Any, name: str = "") -> Any:
    """``data`` with every string under a secret-looking name replaced by ``MASK``.

    ``SecretStr`` fields (apiKey, connectionString) are masked by pydantic already; this also
    covers secrets written as plain strings, such as an API key in a provider's ``env``.
    """
    if isinstance(data, dict):
        return {k: mask_secrets(v, str(k)) for k, v in data.items()}
    if isinstance(data, list):
        return [mask_secrets(v, name) for v in data]
    if isinstance(data, str) and data and _SECRET_NAME.search(name):
        return MASK
    return data


@click.group()
def config() -> None:
    """Show, validate and edit the configuration."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON instead of YAML.")
@click.pass_obj
def show(app: AppContext, as_json: bool) -> None:
    """The effective configuration (file + defaults); secrets are masked."""
    loaded = app.loaded
    data = mask_secrets(loaded.config.model_dump(mode="json", by_alias=True, exclude_none=True))
    if as_json:
        click.echo(
            json.dumps(
                {"source": str(loaded.path) if loaded.path else None, "config": data}, indent=2
            )
        )
        return
    import io

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    buf = io.StringIO()
    yaml.dump(data, buf)
    source = str(loaded.path) if loaded.path else "built-in defaults (no config file found)"
    click.echo(f"# source: {source}")
    click.echo(buf.getvalue().rstrip())


@config.command()
@click.pass_obj
def validate(app: AppContext) -> None:
    """Check the configuration file; exit 2 with the file, line and fix when it is wrong.

    Keys it reads differently or does not act on (from the TypeScript original) are listed.
    """
    app.print_warnings = False  # listed below, on stdout
    loaded = app.loaded
    out = console()
    if loaded.path is None:
        out.print("[yellow]No configuration file found; the built-in defaults are valid.[/]")
        out.print("Run [bold]ado init[/] to write one.")
        return
    cfg = loaded.config
    enabled = [pid for pid, p in cfg.providers.items() if p.enabled]
    out.print(f"[green]✔ {loaded.path} is valid[/]")
    out.print(f"  providers enabled: {', '.join(enabled) or 'none'}")
    out.print(
        f"  routing: {cfg.routing.strategy}, API fallback "
        f"{'on' if cfg.routing.api_fallback.enabled else 'off'}"
    )
    if not enabled:
        out.print("[yellow]  no provider is enabled: `ado run` will have nothing to route to[/]")
    if loaded.warnings:
        out.print(f"[yellow]  {len(loaded.warnings)} warning(s):[/]")
        for line in loaded.warnings:
            click.echo(f"  warning: {line}")  # unwrapped: one line per key


@config.command(name="set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_(app: AppContext, key: str, value: str) -> None:
    """Set KEY (dotted, e.g. routing.strategy) to VALUE, keeping the file's comments.

    VALUE is read as YAML: true, 3, 1.5, [a, b]. The file is written only when the whole
    configuration still validates.
    """
    from ado.config.editor import set_value
    from ado.config.loader import find_config_file

    path = find_config_file(app.config_path, app.cwd) or Path(app.cwd / "ado.config.yaml")
    new = set_value(path, key, value)
    shown = (
        "***"
        if any(s in key.lower() for s in ("key", "secret", "password", "token"))
        else json.dumps(new)
    )
    console().print(f"[green]✔[/] {key} = {shown}  [dim]({path})[/]")
