"""``ado notify test|send``: try the notification channels, send a message of your own."""

from __future__ import annotations

import asyncio
import sys
from typing import TYPE_CHECKING

import click

from ado.cli.context import AppContext, console

if TYPE_CHECKING:
    from ado.notifications import DeliveryResult, Notification

LEVELS = ("info", "success", "warning", "error")
CHANNELS = ("slack", "email", "webhook", "all")
_REASONS = {
    "not_configured": "not configured",
    "dns": "DNS lookup failed",
    "refused": "connection refused",
    "tls": "TLS error",
    "auth": "authentication failed",
    "timeout": "timed out",
    "connection": "connection error",
    "rejected": "rejected by the server",
}


@click.group()
def notify() -> None:
    """Test the notification channels and send messages (Slack, email, webhook)."""


@notify.command()
@click.option(
    "--channel",
    "channel",
    type=click.Choice(CHANNELS),
    default="all",
    show_default=True,
    help="The channel to test.",
)
@click.pass_obj
def test(app: AppContext, channel: str) -> None:
    """Send a test message and print, per channel, delivered or why not.

    Exits 1 when a channel did not deliver.
    """
    from ado.notifications import Level, Notification, NotificationEvent

    names = ["slack", "email", "webhook"] if channel == "all" else [channel]
    notification = Notification(
        event=NotificationEvent.TEST,
        title="ADO test notification",
        message="If you can read this, ADO's notifications reach you here.",
        level=Level.INFO,
        metadata={"channel": channel},
    )
    _deliver(app, notification, names, retries=0)


@notify.command()
@click.argument("title")
@click.argument("message")
@click.option(
    "--level", type=click.Choice(LEVELS), default="info", show_default=True, help="Severity."
)
@click.option(
    "--channel",
    "channels",
    multiple=True,
    type=click.Choice(CHANNELS),
    help="Send only to this channel (repeatable); default: every enabled channel.",
)
@click.pass_obj
def send(app: AppContext, title: str, message: str, level: str, channels: tuple[str, ...]) -> None:
    """Send TITLE and MESSAGE to the enabled channels (or the ones named)."""
    from ado.notifications import Level, Notification, NotificationEvent

    names = None if not channels or "all" in channels else list(dict.fromkeys(channels))
    notification = Notification(
        event=NotificationEvent.CUSTOM, title=title, message=message, level=Level(level)
    )
    _deliver(app, notification, names, retries=None)


def _deliver(
    app: AppContext, notification: Notification, names: list[str] | None, retries: int | None
) -> None:
    from ado.notifications import NotificationManager

    try:
        store = app.store
    except Exception:  # the history is a bonus: a broken store must not stop a test
        store = None
    # the file with the settings saved through the API (the dashboard's channels too)
    config = app.resolve(decrypt=True).config if store is not None else app.loaded.config
    manager = NotificationManager.from_config(config, store)
    if names is None:
        names = manager.targets(notification)
        if not names:
            app.close()
            raise click.ClickException(
                "no notification channel is enabled: configure notifications.channels in "
                "ado.config.yaml (see docs/notifications.md), then try `ado notify test`"
            )
    try:
        results = asyncio.run(manager.deliver(notification, names, retries=retries))
    finally:
        app.close()
    out = console()
    for name, result in results.items():
        out.print(_line(name, result), soft_wrap=True)
    if not all(r.delivered for r in results.values()):
        sys.exit(1)


def _line(name: str, result: DeliveryResult) -> str:
    from rich.markup import escape

    if result.delivered:
        return f"[green]✔[/] {name}: delivered"
    error = result.error
    assert error is not None
    if error.reason.value == "http":
        label = f"HTTP {error.status_code}"
    else:
        label = _REASONS.get(error.reason.value, error.reason.value)
    detail = "" if error.message == label else f" — {error.message}"
    hint = f"\n    fix: {error.hint}" if error.hint else ""
    return f"[red]✘[/] {name}: {escape(label + detail + hint)}"
