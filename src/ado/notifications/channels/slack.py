"""Slack through an incoming webhook: a coloured attachment with the metadata as fields."""

from __future__ import annotations

from typing import Any

from ado.notifications.channels.base import Channel, check_response, translate_errors
from ado.notifications.config import SlackConfig
from ado.notifications.message import Level, Notification

__all__ = ["COLORS", "EMOJI", "SlackChannel", "slack_payload"]

COLORS = {
    Level.INFO: "#1E88E5",  # blue
    Level.SUCCESS: "#2EB67D",  # green
    Level.WARNING: "#ECB22E",  # amber
    Level.ERROR: "#E01E5A",  # red
}
EMOJI = {
    Level.INFO: ":information_source:",
    Level.SUCCESS: ":white_check_mark:",
    Level.WARNING: ":warning:",
    Level.ERROR: ":rotating_light:",
}


class SlackChannel(Channel):
    name = "slack"
    config_model = SlackConfig
    required = ("webhook_url",)
    config: SlackConfig

    async def send(self, notification: Notification) -> None:
        import httpx

        assert self.config.webhook_url is not None
        url = self.config.webhook_url.get_secret_value()
        body = slack_payload(notification, self.config, self.source)
        with translate_errors("Slack"):
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.post(url, json=body)
        check_response(response, "Slack")


def slack_payload(notification: Notification, config: SlackConfig, source: str) -> dict[str, Any]:
    """The incoming-webhook body: fallback text plus one attachment (colour, fields, link)."""
    n = notification
    emoji = EMOJI[n.level]
    attachment: dict[str, Any] = {
        "fallback": f"{emoji} {n.title}: {n.message}",
        "color": COLORS[n.level],
        "title": f"{emoji} {n.title}",
        "text": n.message,
        "fields": [{"title": label, "value": value, "short": True} for label, value in n.fields()],
        "footer": f"{source} · {n.event}",
        "ts": int(n.timestamp.timestamp()),
        "mrkdwn_in": ["text"],
    }
    if n.url:
        attachment["title_link"] = n.url
        attachment["actions"] = [{"type": "button", "text": "Open in ADO", "url": n.url}]
    body: dict[str, Any] = {"text": f"{emoji} *{n.title}*", "attachments": [attachment]}
    if config.channel:
        body["channel"] = config.channel
    if config.username:
        body["username"] = config.username
    if config.icon_emoji:
        body["icon_emoji"] = config.icon_emoji
    return body
