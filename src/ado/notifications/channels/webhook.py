"""Any HTTP endpoint: ``{event, title, message, level, metadata, timestamp, source}`` as JSON,
signed with ``X-ADO-Signature: sha256=<hex HMAC-SHA256 of the raw body>`` when a secret is set.
"""

from __future__ import annotations

import hashlib
import hmac
import json

from ado import __version__
from ado.notifications.channels.base import Channel, check_response, translate_errors
from ado.notifications.config import WebhookConfig
from ado.notifications.message import Notification

__all__ = ["SIGNATURE_HEADER", "WebhookChannel", "sign"]

SIGNATURE_HEADER = "X-ADO-Signature"


def sign(secret: str, body: bytes) -> str:
    """The signature header's value for ``body``."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class WebhookChannel(Channel):
    name = "webhook"
    config_model = WebhookConfig
    required = ("url",)
    config: WebhookConfig

    async def send(self, notification: Notification) -> None:
        import httpx

        assert self.config.url is not None
        body = json.dumps(
            notification.payload(self.source), ensure_ascii=False, separators=(",", ":")
        ).encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": f"ado/{__version__}",
            "X-ADO-Event": notification.event,
            **self.config.headers,
        }
        if self.config.secret is not None:
            headers[SIGNATURE_HEADER] = sign(self.config.secret.get_secret_value(), body)
        with translate_errors(f"the webhook {_host(self.config.url)}"):
            async with httpx.AsyncClient(timeout=self.timeout) as client:
                response = await client.request(
                    self.config.method, self.config.url, content=body, headers=headers
                )
        check_response(response, "the webhook")


def _host(url: str) -> str:
    from urllib.parse import urlsplit

    return urlsplit(url).netloc or url
