"""The channel interface, the registry and the one place foreign errors are translated.

A channel is one class: set ``name``, ``config_model`` and ``required`` (the settings it cannot
do without), implement ``send``. Register it in ``pyproject.toml`` under the
``ado.notifiers`` entry-point group; the built-in channels are registered the same way.

Every delivery failure reaches the manager as a ``DeliveryError`` whose ``reason`` says what
went wrong and whether retrying can help:

    DeliveryError (ado.errors.AdoError)
        reason: not_configured | dns | refused | tls | auth | http | timeout | connection
                | rejected
        retryable: timeout, connection, refused, dns, HTTP 5xx/429, SMTP 4xx (at any step:
                   login, sender, every recipient, data)
"""

from __future__ import annotations

import email.utils
import socket
import ssl
from abc import ABC, abstractmethod
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from functools import cache
from typing import TYPE_CHECKING, Any, ClassVar, TypeVar

from pydantic import BaseModel, SecretStr

from ado.errors import AdoError

if TYPE_CHECKING:
    import httpx

    from ado.notifications.config import NotificationsConfig
    from ado.notifications.message import Notification

__all__ = [
    "ENTRY_POINT_GROUP",
    "Channel",
    "DeliveryError",
    "Reason",
    "channel_classes",
    "check_response",
    "translate_errors",
]

ENTRY_POINT_GROUP = "ado.notifiers"
_E = TypeVar("_E", bound=BaseException)


class Reason(StrEnum):
    NOT_CONFIGURED = "not_configured"
    DNS = "dns"
    REFUSED = "refused"
    TLS = "tls"
    AUTH = "auth"
    HTTP = "http"
    TIMEOUT = "timeout"
    CONNECTION = "connection"
    REJECTED = "rejected"


class DeliveryError(AdoError):
    """A notification could not be delivered to one channel."""

    code = "delivery_failed"

    def __init__(
        self,
        reason: Reason,
        message: str,
        *,
        status_code: int | None = None,
        retry_after: float | None = None,
        retryable: bool | None = None,
        hint: str | None = None,
    ) -> None:
        super().__init__(message, hint=hint)
        self.reason = reason
        self.status_code = status_code
        self.retry_after = retry_after
        if retryable is None:
            retryable = reason in (Reason.TIMEOUT, Reason.CONNECTION, Reason.REFUSED, Reason.DNS)
            if reason is Reason.HTTP and status_code is not None:
                retryable = status_code >= 500 or status_code == 429
        self.retryable = retryable


class Channel(ABC):
    """One way to reach people. Instances are cheap; ``send`` may be called concurrently."""

    #: The channel's name: its key under ``notifications.channels`` and in rules.
    name: ClassVar[str]
    #: The pydantic model of its settings.
    config_model: ClassVar[type[BaseModel]]
    #: Settings (python field names) that must be set for the channel to work.
    required: ClassVar[tuple[str, ...]] = ()

    def __init__(self, config: Any, *, timeout: float = 10.0, source: str = "ado") -> None:
        self.config = config
        self.timeout = timeout
        self.source = source

    @classmethod
    def from_settings(cls, settings: NotificationsConfig, source: str) -> Channel:
        raw = getattr(settings.channels, cls.name, None)
        if raw is None:
            raw = (settings.channels.model_extra or {}).get(cls.name, {})
        config = raw if isinstance(raw, cls.config_model) else cls.config_model.model_validate(raw)
        return cls(config, timeout=settings.delivery.timeout, source=source)

    @property
    def enabled(self) -> bool:
        return bool(getattr(self.config, "enabled", False))

    def secrets(self) -> list[str]:
        """The secret settings' values, to keep them out of logs and the alert history."""
        return [
            value.get_secret_value()
            for value in vars(self.config).values()
            if isinstance(value, SecretStr)
        ]

    def missing(self) -> list[str]:
        """The required settings that are not set (camelCase, as written in the file)."""
        fields = self.config_model.model_fields
        return [
            fields[name].alias or name
            for name in self.required
            if getattr(self.config, name, None) in (None, "", [])
        ]

    def check_configured(self) -> None:
        missing = self.missing()
        if not self.enabled or missing:
            what = (
                f"set {', '.join(f'notifications.channels.{self.name}.{m}' for m in missing)}"
                if missing
                else ""
            )
            if not self.enabled:
                what = (what + " and " if what else "set ") + (
                    f"notifications.channels.{self.name}.enabled: true"
                )
            raise DeliveryError(Reason.NOT_CONFIGURED, "not configured", hint=what)

    @abstractmethod
    async def send(self, notification: Notification) -> None:
        """Deliver ``notification`` or raise ``DeliveryError`` (use ``translate_errors``)."""


@cache
def channel_classes() -> dict[str, type[Channel]]:
    """Every registered channel class by name."""
    from importlib.metadata import entry_points

    found: dict[str, type[Channel]] = {}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        found[getattr(cls, "name", ep.name)] = cls
    return found


# -- the error boundary ---------------------------------------------------------------------


@contextmanager
def translate_errors(target: str) -> Iterator[None]:
    """Turn httpx, aiosmtplib, ssl and socket errors into ``DeliveryError`` (the one place)."""
    import aiosmtplib
    import httpx

    try:
        yield
    except DeliveryError:
        raise
    except (httpx.TimeoutException, aiosmtplib.SMTPTimeoutError, TimeoutError) as exc:
        raise DeliveryError(Reason.TIMEOUT, f"timed out talking to {target}") from exc
    except aiosmtplib.SMTPAuthenticationError as exc:
        raise DeliveryError(
            Reason.AUTH,
            f"{target} refused the login: {exc.code} {exc.message}",
            retryable=400 <= exc.code < 500,  # 454: a temporary failure
            hint="check notifications.channels.email.username and password",
        ) from exc
    except aiosmtplib.SMTPRecipientsRefused as exc:
        refused = ", ".join(f"{r.recipient} ({r.code} {r.message})" for r in exc.recipients)
        raise DeliveryError(
            Reason.REJECTED,
            f"{target} refused the recipients: {refused}",
            # 4xx (greylisting's 451, a busy mailbox's 450): try again later
            retryable=bool(exc.recipients) and all(400 <= r.code < 500 for r in exc.recipients),
        ) from exc
    except aiosmtplib.SMTPResponseException as exc:
        if _find(exc, ssl.SSLError) is not None:
            raise _connect_error(exc, target) from exc
        raise DeliveryError(
            Reason.REJECTED,
            f"{target} answered {exc.code} {exc.message}",
            retryable=400 <= exc.code < 500,
        ) from exc
    except (httpx.TransportError, aiosmtplib.SMTPException, OSError) as exc:
        raise _connect_error(exc, target) from exc


def _connect_error(exc: BaseException, target: str) -> DeliveryError:
    if _find(exc, socket.gaierror) is not None:
        return DeliveryError(
            Reason.DNS,
            f"cannot resolve the host of {target}",
            hint="check the host name (DNS lookup failed)",
        )
    if _find(exc, ConnectionRefusedError) is not None or "refused" in _text(exc):
        return DeliveryError(
            Reason.REFUSED,
            f"{target} refused the connection",
            hint="is the server running on that host and port?",
        )
    tls = _find(exc, ssl.SSLError)
    if tls is not None or "ssl" in _text(exc) or "tls" in _text(exc):
        detail = getattr(tls, "reason", None) or str(tls or exc)
        return DeliveryError(
            Reason.TLS,
            f"TLS handshake with {target} failed: {detail}",
            retryable=False,
            hint="check the port and `security` (starttls on 587, tls on 465) or the "
            "server's certificate",
        )
    if _find(exc, TimeoutError) is not None or "timed out" in _text(exc):
        return DeliveryError(Reason.TIMEOUT, f"timed out talking to {target}")
    return DeliveryError(Reason.CONNECTION, f"connection to {target} failed: {exc}")


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def _find(exc: BaseException, kind: type[_E]) -> _E | None:
    for link in _chain(exc):
        if isinstance(link, kind):
            return link
    return None


def _text(exc: BaseException) -> str:
    return " ".join(str(link) for link in _chain(exc)).lower()


def check_response(response: httpx.Response, target: str) -> None:
    """Raise ``DeliveryError`` for a 4xx/5xx answer, with its body and Retry-After."""
    if response.status_code < 400:
        return
    body = response.text.strip()[:500]
    raise DeliveryError(
        Reason.HTTP,
        f"{target} answered HTTP {response.status_code}" + (f": {body}" if body else ""),
        status_code=response.status_code,
        retry_after=retry_after(response.headers.get("retry-after")),
    )


def retry_after(value: str | None) -> float | None:
    """Seconds from a Retry-After header: a number, or an HTTP date."""
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())
