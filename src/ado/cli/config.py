"""``ado config show|set|reset|validate``."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ado.cli.context import AppContext, console

if TYPE_CHECKING:
    from ado.config.resolve import Resolved

SAVED_HOW = "saved in the dashboard or through the API"


@click.group()
def config() -> None:
    """Show, validate and edit the configuration."""


@config.command()
@click.option("--json", "as_json", is_flag=True, help="Print JSON (with each value's origin).")
@click.option(
    "--origin",
    is_flag=True,
    help="Show where each value comes from: default, file (with its line) or saved "
    "(in the dashboard or through the API).",
)
@click.pass_obj
def show(app: AppContext, as_json: bool, origin: bool) -> None:
    """The effective configuration: defaults, the file, then the settings and provider
    switches saved in the dashboard or through the API. Secrets are masked."""
    from ado.config.loader import dotted
    from ado.config.resolve import leaves
    from ado.config.secrets import as_stars, mask_secrets

    resolved = app.resolve()
    loaded = app.loaded
    dumped = resolved.config.model_dump(by_alias=True, exclude_none=True)
    data = mask_secrets(dumped, masked=as_stars)
    source = str(loaded.path) if loaded.path else None
    if as_json:
        origins = {dotted(p): resolved.origin_of(p) for p, _ in leaves(data)}
        file_values = {
            key: _file_value(resolved, key) for key, where in origins.items() if where == "saved"
        }
        out = {"source": source, "config": data, "origins": origins, "fileValues": file_values}
        click.echo(json.dumps(out, indent=2, default=str))
        return
    if origin:
        _print_origins(resolved, data)
        return
    import io
    from enum import StrEnum

    from ruamel.yaml import YAML

    yaml = YAML()
    yaml.default_flow_style = False
    yaml.representer.add_multi_representer(  # ado.vocab's enums (AccessMode...) as strings
        StrEnum, lambda r, v: r.represent_str(str(v))
    )
    buf = io.StringIO()
    yaml.dump(data, buf)
    click.echo(f"# source: {source or 'built-in defaults (no config file found)'}")
    if resolved.saved:
        click.echo(f"# with values {SAVED_HOW}: `ado config show --origin` names them")
    click.echo(buf.getvalue().rstrip())


def _print_origins(resolved: Resolved, data: dict[str, Any]) -> None:
    from rich.markup import escape

    from ado.config.loader import dotted
    from ado.config.resolve import leaves

    out = console()
    path = resolved.loaded.path if resolved.loaded else None
    colours = {"default": "dim", "file": "cyan", "saved": "yellow"}
    for where, value in leaves(data):
        key = dotted(where)
        origin = resolved.origin_of(where)
        note: str = origin
        if origin == "file" and path is not None:
            line = resolved.line_of(where)
            name = os.path.basename(path)
            note = f"file {name}:{line}" if line else f"file {name}"
        elif origin == "saved":
            note = f"saved (the file gives {json.dumps(_file_value(resolved, key), default=str)})"
        shown = escape(json.dumps(value, default=str))
        out.print(f"{escape(key)} = {shown}  [{colours[origin]}]# {escape(note)}[/]")


def _file_value(resolved: Resolved, key: str) -> Any:
    from ado.config.editor import parse_key
    from ado.config.resolve import MISSING
    from ado.config.secrets import as_stars, mask_secrets

    path = tuple(parse_key(key))
    value = resolved.file_value(path)
    if value is MISSING:
        return None
    name = str(path[-1])
    return mask_secrets({name: value}, masked=as_stars)[name]


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
    for warning in key_conflicts(cfg, loaded.lines):
        out.print(f"[yellow]  ⚠ {warning}[/]", soft_wrap=True)


def key_conflicts(cfg: Any, lines: dict[Any, int]) -> list[str]:
    """Providers whose ``env`` sets the variable an API access mode's ``apiKey`` also sets."""
    from ado.providers import adapter_classes

    warnings = []
    classes = adapter_classes()
    for pid, pconf in cfg.providers.items():
        key_env = classes[pid].api_key_env if pid in classes else None
        if not key_env or key_env not in pconf.env:
            continue
        for i, mode in enumerate(pconf.access_modes):
            if mode.api is None or mode.api.api_key is None:
                continue
            line = lines.get(("providers", pid, "env", key_env))
            where = f" (line {line})" if line else ""
            warnings.append(
                f"providers.{pid}.env.{key_env}{where} and "
                f"providers.{pid}.accessModes[{i}].api.apiKey both set {key_env}: the env "
                f"value wins and the apiKey is not used; remove one of them"
            )
    return warnings


@config.command(name="set")
@click.argument("key")
@click.argument("value")
@click.pass_obj
def set_(app: AppContext, key: str, value: str) -> None:
    """Set KEY (dotted, e.g. routing.strategy) to VALUE, keeping the file's comments.

    VALUE is read as YAML: true, 3, 1.5, [a, b]. The file is written only when the whole
    configuration still validates. When a value saved in the dashboard or through the API
    overrides KEY, it says so: `ado config reset KEY` makes the file's value apply.
    """
    from ado.config.editor import parse_key, set_value
    from ado.config.loader import find_config_file
    from ado.config.secrets import MASK, is_secret_name

    path = Path(find_config_file(app.config_path, app.cwd) or Path(app.cwd, "ado.config.yaml"))
    new = set_value(path, key, value)
    parts = parse_key(key)
    secret = any(is_secret_name(str(p)) for p in parts)
    shown = MASK if secret else json.dumps(new)
    out = console()
    out.print(f"[green]✔[/] {key} = {shown}  [dim]({path})[/]")
    app.forget_config()  # read the file just written
    resolved = app.resolve()
    shadows = resolved.shadowed(tuple(parts))
    if not shadows:
        return
    from ado.config.loader import dotted

    saved = ", ".join(
        f"{dotted(p)} = {MASK if secret else json.dumps(v, default=str)}"
        for p, v in shadows.items()
    )
    reset_key = key if len(shadows) > 1 or tuple(parts) in shadows else dotted(next(iter(shadows)))
    out.print(
        f"[yellow]⚠ but a value {SAVED_HOW} overrides it ({saved}), so this change does not "
        f"take effect.[/]\n  To use the file's value: [bold]ado config reset {reset_key}[/]",
        soft_wrap=True,
    )


@config.command()
@click.argument("key", required=False)
@click.option("--all", "reset_all", is_flag=True, help="Remove every saved setting and switch.")
@click.pass_obj
def reset(app: AppContext, key: str | None, reset_all: bool) -> None:
    """Remove what was saved in the dashboard or through the API at KEY (a dotted key such as
    routing.strategy, a section such as routing, or a provider's switches such as
    providers.codex), or everything with --all: the file's values apply again."""
    from ado.config.overrides import reset_saved
    from ado.config.resolve import is_saveable
    from ado.errors import UsageError

    if bool(key) == reset_all:
        raise click.UsageError("give a KEY or --all (not both)")
    resolved = app.resolve()
    if key is not None and not is_saveable(resolved, key):
        raise UsageError(
            f"{key} is not something the dashboard or the API saves (they save routing, hitl, "
            "notifications and provider switches)",
            hint=f"its value comes from the file or the defaults: `ado config set {key} VALUE`",
        )
    if app.saved_layer() is None:  # no database yet
        console().print(f"Nothing is {SAVED_HOW}; the file's values apply.")
        return
    removed = reset_saved(app.store, app.loaded.config, key)
    out = console()
    if not removed:
        out.print(f"Nothing {SAVED_HOW} at {key}; it already follows the file.")
        return
    from ado.config.resolve import resolve

    now = resolve(app.loaded, app.store, decrypt=False)
    out.print(f"[green]✔[/] removed what was {SAVED_HOW}: {', '.join(removed)}")
    if key is not None:
        from ado.config.editor import parse_key
        from ado.config.resolve import MISSING

        value = now.file_value(tuple(parse_key(key)))
        if value is not MISSING and not isinstance(value, dict | list):
            out.print(f"  {key} = {_file_value(now, key)!r} ({now.origin(key)})")
