"""Email over SMTP: ``[LEVEL] title``, multipart plain text + HTML rendered from templates."""

from __future__ import annotations

import ssl
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from functools import cache
from typing import TYPE_CHECKING

from ado.notifications.channels.base import Channel, translate_errors
from ado.notifications.config import EmailConfig
from ado.notifications.message import Notification

if TYPE_CHECKING:
    from jinja2 import Environment

__all__ = ["EmailChannel", "build_message"]

COLORS = {"info": "#1E88E5", "success": "#2EB67D", "warning": "#B7791F", "error": "#E01E5A"}


class EmailChannel(Channel):
    name = "email"
    config_model = EmailConfig
    required = ("smtp_host", "from_address", "to")
    config: EmailConfig

    async def send(self, notification: Notification) -> None:
        import aiosmtplib

        cfg = self.config
        message = build_message(notification, cfg, self.source)
        target = f"the SMTP server {cfg.smtp_host}:{cfg.port}"
        with translate_errors(target):
            await aiosmtplib.send(
                message,
                hostname=cfg.smtp_host,
                port=cfg.port,
                username=cfg.username,
                password=cfg.password.get_secret_value() if cfg.password else None,
                use_tls=cfg.security == "tls",
                start_tls=cfg.security == "starttls",
                tls_context=self._tls_context() if cfg.security != "none" else None,
                timeout=min(self.timeout, cfg.timeout),
            )

    def _tls_context(self) -> ssl.SSLContext:
        context = ssl.create_default_context(cafile=self.config.ca_file)
        if not self.config.verify_tls:
            context.check_hostname = False
            context.verify_mode = ssl.CERT_NONE
        return context


def build_message(notification: Notification, config: EmailConfig, source: str) -> EmailMessage:
    """The MIME message: text/plain first, text/html as the preferred alternative."""
    n = notification
    context = {
        "n": n,
        "level": n.level.value,
        "color": COLORS[n.level.value],
        "fields": n.fields(),
        "source": source,
        "when": n.timestamp.strftime("%Y-%m-%d %H:%M:%S UTC"),
    }
    env = _environment()
    message = EmailMessage()
    message["Subject"] = f"[{n.level.value.upper()}] {n.title}"
    message["From"] = config.from_address or source
    message["To"] = ", ".join(config.to)
    message["Date"] = formatdate(localtime=False)
    message["Message-ID"] = make_msgid(domain="ado.local")
    message["X-ADO-Event"] = n.event
    message.set_content(env.get_template("email.txt.j2").render(context))
    message.add_alternative(env.get_template("email.html.j2").render(context), subtype="html")
    return message


@cache
def _environment() -> Environment:
    from jinja2 import Environment, PackageLoader, select_autoescape

    return Environment(
        loader=PackageLoader("ado.notifications", "templates"),
        autoescape=select_autoescape(["html", "html.j2"]),
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
