"""The ``notifications`` section of ``ado.config.yaml``.

    notifications:
      publicUrl: https://ado.example.com
      channels:
        slack:   {enabled, webhookUrl, channel, username, iconEmoji}
        email:   {enabled, smtpHost, smtpPort, security, username, password, from, to}
        webhook: {enabled, url, method, headers, secret}
      rules:    [{events, channels, minLevel}]
      throttle: {rateLimitWindow, failureBurst, failureWindow}
      delivery: {timeout, retries, backoff, maxBackoff}

The TypeScript original's ``hitl.notifications.slack`` / ``.email`` (``LegacyHitlNotifications``)
keep working: ``apply_legacy`` copies them into ``channels`` when that channel is not set here.
Secrets (the Slack webhook URL, the SMTP password, the webhook secret) are ``SecretStr``.
"""

from __future__ import annotations

from typing import Any, Literal
from urllib.parse import urlsplit

from pydantic import ConfigDict, Field, SecretStr, field_validator, model_validator

from ado.config.base import ConfigModel

__all__ = [
    "LEVELS",
    "ChannelsConfig",
    "DeliveryConfig",
    "EmailConfig",
    "LegacyHitlNotifications",
    "NotificationsConfig",
    "RuleConfig",
    "SlackConfig",
    "ThrottleConfig",
    "WebhookConfig",
    "apply_legacy",
]

LEVELS = ("info", "success", "warning", "error")
_CHANNEL_KEYS = ("slack", "email", "webhook")
Level = Literal["info", "success", "warning", "error"]


def _http_url(value: Any) -> Any:
    """An endpoint notifications are sent to: ``http://`` or ``https://`` and a host (the
    value itself is not repeated: a webhook URL is a secret)."""
    from ado.config.secrets import MASK

    text = value.get_secret_value() if isinstance(value, SecretStr) else value
    if isinstance(text, str) and text and text != MASK:  # MASK: a saved secret, not decrypted
        parts = urlsplit(text.strip())
        if parts.scheme.lower() not in ("http", "https") or not parts.hostname:
            raise ValueError("an http:// or https:// URL with a host")
    return value


def _listify(value: Any) -> Any:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class SlackConfig(ConfigModel):
    """A Slack incoming webhook (https://api.slack.com/messaging/webhooks)."""

    enabled: bool = Field(default=False, description="true: send notifications to Slack.")
    webhook_url: SecretStr | None = Field(
        default=None,
        description="The incoming webhook URL (`https://hooks.slack.com/services/…`; http(s) "
        "only); write `${SLACK_WEBHOOK_URL}` to read it from the environment. Never printed.",
    )
    channel: str | None = Field(
        default=None, description="Post to this channel instead of the webhook's own (#ops)."
    )
    username: str | None = Field(default=None, description="Override the poster's name.")
    icon_emoji: str | None = Field(
        default=None, description="Override the poster's icon with an emoji (`:robot_face:`)."
    )

    _url = field_validator("webhook_url")(_http_url)


class EmailConfig(ConfigModel):
    """Email over SMTP: multipart HTML + plain text, subject ``[LEVEL] title``."""

    enabled: bool = Field(default=False, description="true: send notifications by email.")
    smtp_host: str | None = Field(default=None, description="The SMTP server's host name.")
    smtp_port: int | None = Field(
        default=None,
        ge=1,
        le=65535,
        description="The SMTP port; unset: 587 with `starttls`, 465 with `tls`, 25 with `none`.",
    )
    security: Literal["starttls", "tls", "none"] = Field(
        default="starttls",
        description="`starttls` (upgrade a plain connection), `tls` (implicit TLS, port 465) "
        "or `none` (plain text: a local SMTP sink only).",
    )
    username: str | None = Field(default=None, description="SMTP login; unset: no login.")
    password: SecretStr | None = Field(
        default=None, description="SMTP password; write `${SMTP_PASSWORD}`. Never printed."
    )
    from_address: str | None = Field(
        default=None, alias="from", description="The sender address (`ado@example.com`)."
    )
    to: list[str] = Field(
        default_factory=list, description="Recipient addresses (a list, or one string)."
    )
    timeout: float = Field(
        default=10.0, gt=0, description="Seconds to connect and send before giving up."
    )
    verify_tls: bool = Field(
        default=True, description="false: accept any server certificate (testing only)."
    )
    ca_file: str | None = Field(
        default=None,
        description="A PEM file of certificate authorities to trust (a private SMTP server's).",
    )

    _to_list = field_validator("to", mode="before")(_listify)

    @property
    def port(self) -> int:
        if self.smtp_port:
            return self.smtp_port
        return {"starttls": 587, "tls": 465, "none": 25}[self.security]


class WebhookConfig(ConfigModel):
    """Any HTTP endpoint: a JSON body, optionally signed with HMAC-SHA256."""

    enabled: bool = Field(default=False, description="true: send notifications to the URL.")
    url: str | None = Field(
        default=None, description="The endpoint: an `http://` or `https://` URL."
    )
    method: Literal["POST", "PUT"] = Field(default="POST", description="`POST` or `PUT`.")
    headers: dict[str, str] = Field(
        default_factory=dict, description="Extra HTTP headers (e.g. `Authorization`)."
    )
    secret: SecretStr | None = Field(
        default=None,
        description="Signs every body: header `X-ADO-Signature: sha256=<hex HMAC-SHA256 of the "
        "raw body>`; write `${ADO_WEBHOOK_SECRET}`. Never printed.",
    )

    _url = field_validator("url")(_http_url)


class ChannelsConfig(ConfigModel):
    """The built-in channels; a plugin channel's settings go under its own name."""

    model_config = ConfigDict(extra="allow")  # channels registered by plugins

    slack: SlackConfig = Field(default_factory=SlackConfig, description="Slack.")
    email: EmailConfig = Field(default_factory=EmailConfig, description="Email (SMTP).")
    webhook: WebhookConfig = Field(default_factory=WebhookConfig, description="A JSON webhook.")


class RuleConfig(ConfigModel):
    """Which events go to which channels, and from which level on."""

    events: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Event names (`task.failed`, `rate_limit.reached`…; see "
        "docs/notifications.md), `task.*` style prefixes, or `*` for every event.",
    )
    channels: list[str] = Field(
        default_factory=lambda: ["*"],
        description="Channel names (`slack`, `email`, `webhook`), or `*` for every enabled one.",
    )
    min_level: Level = Field(
        default="info",
        description="Only notifications at this level or above: `info` < `success` < "
        "`warning` < `error`.",
    )

    _events_list = field_validator("events", "channels", mode="before")(_listify)


class ThrottleConfig(ConfigModel):
    """De-duplication and throttling."""

    rate_limit_window: float = Field(
        default=3600,
        ge=0,
        description="Seconds during which a provider's rate limit is announced once, unless "
        "its reset time changes (one 'rate limit reached' per provider and window).",
    )
    dedupe_window: float = Field(
        default=60,
        ge=0,
        description="Seconds during which an identical notification (same event, title and "
        "message) is sent once.",
    )
    failure_burst: int = Field(
        default=3,
        ge=1,
        description="Failure notifications sent one by one within `failureWindow`; the rest "
        "are summarised in one message at the end of the window.",
    )
    failure_window: float = Field(
        default=300,
        gt=0,
        description="Seconds of the failure-burst window.",
    )


class DeliveryConfig(ConfigModel):
    """Retries and timeouts of each delivery."""

    timeout: float = Field(
        default=10.0, gt=0, description="Seconds one delivery attempt may take (per channel)."
    )
    retries: int = Field(
        default=3,
        ge=0,
        description="Further attempts after a timeout, a connection error, a 5xx or a 429 "
        "(never after another 4xx).",
    )
    backoff: float = Field(
        default=1.0,
        ge=0,
        description="Seconds before the first retry; doubled for each further one.",
    )
    max_backoff: float = Field(
        default=60.0,
        ge=0,
        description="Seconds any wait between attempts is capped at (Retry-After included).",
    )
    queue_size: int = Field(
        default=1000,
        ge=1,
        description="Notifications waiting for delivery; beyond it new ones are dropped "
        "(and logged).",
    )


class NotificationsConfig(ConfigModel):
    """Slack, email and webhook notifications on task, limit and cost events."""

    enabled: bool = Field(
        default=True, description="false: send nothing, whatever the channels say."
    )
    public_url: str | None = Field(
        default=None,
        description="Where the dashboard is reachable (`https://ado.example.com`); "
        "notifications link to `<publicUrl>/tasks/<id>`.",
    )
    source: str | None = Field(
        default=None,
        description="Who sends (the webhook's `source`, the emails' footer); unset: "
        "`ado@<host name>`.",
    )
    channels: ChannelsConfig = Field(
        default_factory=ChannelsConfig, description="The channels and their settings."
    )
    rules: list[RuleConfig] = Field(
        default_factory=list,
        description="Which events go to which channels; empty: every event to every enabled "
        "channel. A notification goes to a channel when any rule matches both.",
    )
    throttle: ThrottleConfig = Field(
        default_factory=ThrottleConfig, description="De-duplication and throttling."
    )
    delivery: DeliveryConfig = Field(
        default_factory=DeliveryConfig, description="Retries and timeouts."
    )

    @model_validator(mode="before")
    @classmethod
    def _channels_at_top(cls, data: Any) -> Any:
        """``notifications.slack`` / ``.email`` / ``.webhook`` (the original's shape) are read
        as ``notifications.channels.*``."""
        if not isinstance(data, dict) or not any(k in data for k in _CHANNEL_KEYS):
            return data
        data = dict(data)
        channels = dict(data.get("channels") or {})
        for key in _CHANNEL_KEYS:
            if key in data:
                value = data.pop(key)
                if key == "email" and isinstance(value, dict) and "smtp" in value:
                    value = _email_from_legacy(LegacyEmail.model_validate(value))
                channels.setdefault(key, value)
        data["channels"] = channels
        return data

    @field_validator("public_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else value


# -- the TypeScript original's hitl.notifications ------------------------------------------


class LegacySlack(ConfigModel):
    """The original's ``hitl.notifications.slack``; copied to ``notifications.channels.slack``."""

    model_config = ConfigDict(extra="allow")

    enabled: bool = Field(default=False, description="true: send notifications to Slack.")
    webhook_url: SecretStr | None = Field(
        default=None, description="The incoming webhook URL. Never printed."
    )
    channel: str | None = Field(default=None, description="The channel to post to.")

    _url = field_validator("webhook_url")(_http_url)


class LegacySmtpAuth(ConfigModel):
    """SMTP login of the original's ``email.smtp``."""

    user: str | None = Field(default=None, description="SMTP user name.")
    pass_: SecretStr | None = Field(
        default=None, alias="pass", description="SMTP password. Never printed."
    )


class LegacySmtp(ConfigModel):
    """The original's nodemailer-style ``email.smtp``."""

    model_config = ConfigDict(extra="allow")

    host: str | None = Field(default=None, description="SMTP host.")
    port: int | None = Field(default=None, description="SMTP port.")
    secure: bool | None = Field(
        default=None, description="true: implicit TLS; false: STARTTLS when offered."
    )
    auth: LegacySmtpAuth | None = Field(default=None, description="Login.")


class LegacyEmail(ConfigModel):
    """The original's ``hitl.notifications.email``; copied to ``notifications.channels.email``."""

    model_config = ConfigDict(extra="allow")

    enabled: bool = Field(default=False, description="true: send notifications by email.")
    smtp_host: str | None = Field(default=None, description="SMTP host.")
    smtp_port: int | None = Field(default=None, description="SMTP port.")
    smtp: LegacySmtp | None = Field(default=None, description="nodemailer-style SMTP settings.")
    from_address: str | None = Field(default=None, alias="from", description="Sender address.")
    to: list[str] = Field(default_factory=list, description="Recipient addresses.")

    _to_list = field_validator("to", mode="before")(_listify)


class LegacyHitlNotifications(ConfigModel):
    """``hitl.notifications`` of the TypeScript original, still honoured: each enabled channel
    here is used unless ``notifications.channels`` configures it."""

    model_config = ConfigDict(extra="allow")

    slack: LegacySlack | None = Field(default=None, description="Slack (original keys).")
    email: LegacyEmail | None = Field(default=None, description="Email (original keys).")


def apply_legacy(
    config: NotificationsConfig, legacy: LegacyHitlNotifications | None
) -> NotificationsConfig:
    """``config`` with the original's channels filled in where ``config`` leaves them unset."""
    if legacy is None:
        return config
    channels = config.channels
    updates: dict[str, Any] = {}
    if legacy.slack is not None and "slack" not in channels.model_fields_set:
        updates["slack"] = SlackConfig(
            enabled=legacy.slack.enabled,
            webhook_url=legacy.slack.webhook_url,
            channel=legacy.slack.channel,
        )
    if legacy.email is not None and "email" not in channels.model_fields_set:
        updates["email"] = _email_from_legacy(legacy.email)
    if not updates:
        return config
    merged = channels.model_copy(update=updates)
    return config.model_copy(update={"channels": merged})


def _email_from_legacy(mail: LegacyEmail) -> EmailConfig:
    smtp = mail.smtp or LegacySmtp()
    auth = smtp.auth or LegacySmtpAuth()
    port = smtp.port or mail.smtp_port
    secure = smtp.secure if smtp.secure is not None else port == 465
    return EmailConfig(
        enabled=mail.enabled,
        smtp_host=smtp.host or mail.smtp_host,
        smtp_port=port,
        security="tls" if secure else "starttls",
        username=auth.user,
        password=auth.pass_,
        from_address=mail.from_address,
        to=mail.to,
    )
