"""The ``ado`` command line.

Each command group lives in its own module and is imported only when it runs, so
``ado --help`` never pays for SQLAlchemy, pydantic or the agent adapters.
"""

from __future__ import annotations

import importlib
import os
import sys
from typing import Any

import click

from ado import __version__

__all__ = ["main"]

#: name → (module:attribute, one-line help shown by ``ado --help``)
COMMANDS: dict[str, tuple[str, str]] = {
    "run": ("ado.cli.run:run", "Run a task on the best available agent, failing over on limits."),
    "status": (
        "ado.cli.status:status",
        "Providers, limits, cooldowns, recent tasks, today's cost.",
    ),
    "tasks": ("ado.cli.tasks:tasks", "List, show (replay) and cancel tasks."),
    "providers": ("ado.cli.providers:providers", "List the agents and check they work."),
    "report": ("ado.cli.report:report", "Usage and cost report per provider and access mode."),
    "quota": (
        "ado.cli.quota:quota",
        "Each provider's usage windows: % used, resets, projection.",
    ),
    "config": ("ado.cli.config:config", "Show, validate and edit ado.config.yaml."),
    "init": ("ado.cli.init:init", "Detect installed agents and write ado.config.yaml."),
    "tokens": ("ado.cli.tokens:tokens", "Create, list and revoke API tokens for ado serve."),
    "notify": ("ado.cli.notify:notify", "Test notification channels; send a message."),
    "db": ("ado.cli.db:db", "Back up, restore, migrate and check the store."),
    "serve": ("ado.cli.serve:serve", "Serve the dashboard and API, and run submitted tasks."),
    "dashboard": ("ado.cli.serve:serve", "Alias of `ado serve`."),
    "worker": (
        "ado.cli.worker:worker",
        "Run queued tasks as a Celery worker (the celery executor).",
    ),
    "workers": ("ado.cli.workers:workers", "The live worker pools: heartbeat, running tasks."),
}


class LazyGroup(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        return sorted({*super().list_commands(ctx), *COMMANDS})

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in COMMANDS:
            target, _ = COMMANDS[cmd_name]
            module, attr = target.split(":")
            command: click.Command = getattr(importlib.import_module(module), attr)
            return command
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = [(name, COMMANDS[name][1]) for name in sorted(COMMANDS)]
        with formatter.section("Commands"):
            formatter.write_dl(rows)


@click.group(cls=LazyGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="ado")
@click.option(
    "--config",
    "config_path",
    type=click.Path(dir_okay=False),
    envvar="ADO_CONFIG",
    help="Configuration file (default: ado.config.yaml, .ado/config.yaml, "
    "~/.config/ado/config.yaml).",
)
@click.option("--debug", is_flag=True, envvar="ADO_DEBUG", help="Show tracebacks on errors.")
@click.pass_context
def cli(ctx: click.Context, config_path: str | None, debug: bool) -> None:
    """ADO, the Agentic Development Orchestrator: one command for every AI coding agent.

    Routes each task to your agents subscription-first, fails over when one hits its
    limit, and records every event, token and dollar.
    """
    from ado.cli.context import AppContext

    ctx.obj = AppContext(config_path=config_path, debug=debug)
    if ctx.invoked_subcommand != "run":  # which resumes it once its agent has spawned
        from ado.startup import resume

        resume()  # the collector paused while ADO loaded (ado.startup)


def main(argv: list[str] | None = None) -> Any:
    from ado.errors import AdoError

    # pydantic looks for plugins in every installed distribution's entry points when it
    # builds its first model (~80 ms of every command that reads the configuration); ADO
    # uses none. Set the variable to "" to have pydantic load them anyway.
    os.environ.setdefault("PYDANTIC_DISABLE_PLUGINS", "__all__")

    try:
        return cli.main(args=argv, prog_name="ado", standalone_mode=False)
    except click.exceptions.Abort:
        click.echo("Aborted.", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(2 if isinstance(exc, click.UsageError) else exc.exit_code)
    except click.exceptions.Exit as exc:
        sys.exit(exc.exit_code)
    except AdoError as exc:
        if "--debug" in (argv or sys.argv) or _debug():
            raise
        click.secho(f"Error: {exc}", fg="red", err=True)
        sys.exit(exc.exit_code)
    except KeyboardInterrupt:
        click.echo("Interrupted.", err=True)
        sys.exit(130)


def _debug() -> bool:
    import os

    return os.environ.get("ADO_DEBUG", "") not in ("", "0", "false")
