"""The notification manager: routing, throttling, delivery with retries, the alert history.

``notify()`` never waits: it puts the notification on a bounded queue owned by the manager's
background worker and returns, so a task is never slowed by a channel. The worker throttles
(``throttle.py``: de-duplication, one "rate limit reached" per provider and window, bursts of
failures summarised), then hands the notification to one queue per channel, each drained by its own
task: a slow or failing channel never delays another. Each delivery is retried with
exponential back-off on timeouts, connection errors, 5xx and 429 (honouring Retry-After)
and SMTP 4xx, never on other 4xx.

The alert history (``Store``) tells the truth: a notification gets its row per channel when
it is queued for that channel (``queued``), each attempt updates it (``retrying``,
``delivered``, ``failed``), and what is still pending when the manager closes is marked
``abandoned`` — rows of this process left ``queued``/``retrying`` and notifications not yet
routed alike. After a crash the next start marks them (``ado.store.alert_orphans``).

    manager = NotificationManager.from_config(config, store)
    runner = Runner(config, store, hooks=[manager.listener()])
    ...
    await manager.aclose(grace=5)   # deliver what is pending, bounded
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ado.notifications.channels.base import Channel, DeliveryError, Reason, channel_classes
from ado.notifications.message import Level, Notification, default_source
from ado.notifications.throttle import Throttle
from ado.telemetry import span

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig, QuotaRoutingConfig
    from ado.notifications.config import NotificationsConfig, RuleConfig
    from ado.notifications.events import NotificationListener
    from ado.store import Store

__all__ = ["DeliveryResult", "NotificationManager"]

log = logging.getLogger("ado.notifications")


@dataclass(slots=True)
class DeliveryResult:
    channel: str
    delivered: bool
    attempts: int
    error: DeliveryError | None = None


#: A notification and the channels it was addressed to (None: as the rules say).
_Job = tuple[Notification, tuple[str, ...] | None]
#: A notification for one channel, and its row in the alert history (None: no store).
_Delivery = tuple[Notification, int | None]


class NotificationManager:
    def __init__(
        self,
        settings: NotificationsConfig,
        *,
        store: Store | None = None,
        channels: Sequence[Channel] | None = None,
        quota: QuotaRoutingConfig | None = None,
    ) -> None:
        self.settings = settings
        #: ``routing.quota``: its ``warnAt`` makes the usage-window warnings (None: defaults).
        self.quota = quota
        self.store = store
        self.source = settings.source or default_source()
        if channels is None:
            channels = [cls.from_settings(settings, self.source) for cls in _classes()]
        self.channels = {c.name: c for c in channels}
        self._queue: asyncio.Queue[_Job] | None = None
        self._channel_queues: dict[str, asyncio.Queue[_Delivery]] = {}
        self._worker: asyncio.Task[None] | None = None
        self._throttle = Throttle(settings.throttle, store)
        #: Rows of this process still queued or retrying: abandoned if it closes first.
        self._open: set[int] = set()
        #: Records written off the caller's way (a notification dropped by ``notify``).
        self._background: set[asyncio.Task[Any]] = set()
        #: The notification being routed, and the channels it has no row for yet.
        self._routing: tuple[Notification, list[str]] | None = None

    @classmethod
    def from_config(cls, config: AdoConfig, store: Store | None = None) -> NotificationManager:
        """The manager for ``config.notifications``, recording into ``store`` when given."""
        return cls(config.notifications, store=store, quota=config.routing.quota)

    def listener(self) -> NotificationListener:
        """Turns a Runner's ``TaskUpdate`` stream into notifications: ``listener.on_update``."""
        from ado.notifications.events import NotificationListener

        return NotificationListener(self)

    @property
    def active(self) -> bool:
        """Whether anything can be sent at all (notifications on, a channel ready)."""
        return self.settings.enabled and any(self._ready(c) for c in self.channels.values())

    # -- routing ------------------------------------------------------------------------------

    def targets(self, notification: Notification, names: Sequence[str] | None = None) -> list[str]:
        """The enabled, configured channels this notification goes to: the ``names`` given,
        or those the rules select."""
        if names:
            return [n for n in names if n in self.channels and self._ready(self.channels[n])]
        rules = self.settings.rules
        return [
            name
            for name, channel in self.channels.items()
            if self._ready(channel)
            and (not rules or any(_matches(r, notification, name) for r in rules))
        ]

    @staticmethod
    def _ready(channel: Channel) -> bool:
        return channel.enabled and not channel.missing()

    # -- sending ------------------------------------------------------------------------------

    def notify(self, notification: Notification, channels: Sequence[str] | None = None) -> bool:
        """Queue ``notification`` for delivery in the background; never blocks or raises.
        Returns False when it was dropped (nothing to send to, or the queue is full)."""
        if not self.settings.enabled or not self.targets(notification, channels):
            return False
        try:
            queue = self._start()
        except RuntimeError:
            log.warning("notification %r dropped: no event loop is running", notification.title)
            return False
        try:
            queue.put_nowait((notification, tuple(channels) if channels else None))
        except asyncio.QueueFull:
            log.warning("notification %r dropped: the delivery queue is full", notification.title)
            record = self._record(
                notification, "*", "failed", error="the delivery queue is full", attempts=0
            )
            task = asyncio.get_running_loop().create_task(record)
            self._background.add(task)
            task.add_done_callback(self._background.discard)
            return False
        return True

    async def deliver(
        self,
        notification: Notification,
        channels: Sequence[str] | None = None,
        *,
        retries: int | None = None,
    ) -> dict[str, DeliveryResult]:
        """Deliver now to ``channels`` (every enabled one when None) concurrently and say how
        each went; unlike ``notify`` this waits and skips throttling. Recorded like the rest."""
        names = list(channels) if channels else self.targets(notification)
        results: dict[str, DeliveryResult] = {}

        rows: list[int] = []

        async def one(name: str) -> None:
            channel = self.channels.get(name)
            if channel is None:
                error = DeliveryError(
                    Reason.NOT_CONFIGURED,
                    f"no channel named {name!r}",
                    hint=f"known channels: {', '.join(sorted(self.channels))}",
                )
                results[name] = DeliveryResult(name, False, 0, error)
                return
            alert_id = await self._queued(notification, name)
            if alert_id is not None:
                rows.append(alert_id)
            results[name] = await self._deliver_one(channel, notification, retries, alert_id)

        try:
            async with asyncio.TaskGroup() as group:
                for name in names:
                    group.create_task(one(name))
        finally:  # cancelled (Ctrl-C): what was not finished is abandoned, not left retrying
            await asyncio.shield(self._abandon([r for r in rows if r in self._open]))
        return {name: results[name] for name in names}

    async def flush(self, grace: float = 5.0) -> bool:
        """Wait (at most ``grace`` seconds) until every queued notification was delivered
        or given up; False when time ran out."""
        if self._queue is None:
            return True
        try:
            async with asyncio.timeout(grace):
                await self._queue.join()
                for queue in self._channel_queues.values():
                    await queue.join()
        except TimeoutError:
            return False
        return True

    async def aclose(self, grace: float = 5.0) -> bool:
        """Send any held failure summary, flush (bounded by ``grace`` seconds) and stop the
        worker; False when deliveries were still pending and were abandoned (their rows say
        ``abandoned``)."""
        deadline = time.monotonic() + grace
        done = await self.flush(grace)
        if done and self._throttle.held and self._queue is not None:
            with contextlib.suppress(asyncio.QueueFull):
                self._queue.put_nowait((self._throttle.summary(), None))
            done = await self.flush(max(0.0, deadline - time.monotonic()))
        if not done:
            log.warning("notifications still pending after %.1fs were abandoned", grace)
        unrouted: list[_Job] = []
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
            if self._routing is not None and self._routing[1]:  # cut short while routing
                unrouted.append((self._routing[0], tuple(self._routing[1])))
            self._routing = None
            while self._queue is not None and not self._queue.empty():
                unrouted.append(self._queue.get_nowait())
            self._worker = None
            self._queue = None
            self._channel_queues = {}
        if self._background:
            await asyncio.gather(*self._background, return_exceptions=True)
        await self._abandon(list(self._open))
        error = _abandoned()
        for notification, named in unrouted:
            for name in self.targets(notification, named) or ["*"]:
                await self._record(notification, name, "abandoned", error=error, attempts=0)
        return done

    # -- the background worker ----------------------------------------------------------------

    def _start(self) -> asyncio.Queue[_Job]:
        asyncio.get_running_loop()  # RuntimeError outside a loop
        if self._queue is None or self._worker is None or self._worker.done():
            self._queue = asyncio.Queue(self.settings.delivery.queue_size)
            self._channel_queues = {
                name: asyncio.Queue(self.settings.delivery.queue_size) for name in self.channels
            }
            self._worker = asyncio.create_task(self._run(), name="ado-notifications")
        return self._queue

    async def _run(self) -> None:
        async with asyncio.TaskGroup() as group:
            for name, queue in self._channel_queues.items():
                group.create_task(self._drain(self.channels[name], queue))
            group.create_task(self._dispatch())

    async def _dispatch(self) -> None:
        assert self._queue is not None
        while True:
            wait = self._throttle.summary_due_in()
            try:
                async with asyncio.timeout(wait):
                    job = await self._queue.get()
            except TimeoutError:
                with contextlib.suppress(asyncio.QueueFull):
                    self._queue.put_nowait((self._throttle.summary(), None))
                continue
            try:
                await self._route(*job)
            except asyncio.CancelledError:
                raise  # closing: ``_routing`` names the channels it did not reach
            except Exception:
                log.exception("notification %r could not be routed", job[0].title)
            finally:
                self._queue.task_done()

    async def _route(self, notification: Notification, named: tuple[str, ...] | None) -> None:
        left = self.targets(notification, named)
        self._routing = (notification, left)
        reason = await self._throttle.check(notification)
        if reason is not None:
            log.info("notification %r throttled: %s", notification.title, reason)
            await self._record(notification, "*", "throttled", error=reason, attempts=0)
            self._routing = None
            return
        for name in list(left):
            left.remove(name)  # from here on its row is ``_queued``'s (even if cancelled)
            queue = self._channel_queues[name]
            if queue.full():  # only this task puts: it cannot fill up in between
                log.warning("%s: queue full, notification %r dropped", name, notification.title)
                await self._record(notification, name, "failed", error="queue full", attempts=0)
                continue
            queue.put_nowait((notification, await self._queued(notification, name)))
        self._routing = None

    async def _drain(self, channel: Channel, queue: asyncio.Queue[_Delivery]) -> None:
        while True:
            notification, alert_id = await queue.get()
            try:
                await self._deliver_one(channel, notification, None, alert_id)
            except Exception:
                log.exception("%s: delivery crashed", channel.name)
            finally:
                queue.task_done()

    async def _deliver_one(
        self,
        channel: Channel,
        notification: Notification,
        retries: int | None,
        alert_id: int | None,
    ) -> DeliveryResult:
        delivery = self.settings.delivery
        retries = delivery.retries if retries is None else retries
        attempt = 0
        while True:
            attempt += 1
            error = await self._attempt(channel, notification)
            if error is None:
                status = "delivered"
                log.info("%s: delivered %r (attempt %d)", channel.name, notification.title, attempt)
            elif error.retryable and attempt <= retries:
                status = "retrying"
            else:
                status = "failed"
            text = None if error is None else self._redact(channel, _describe(error))
            if alert_id is not None and self.store is not None:
                await self._store_call(
                    self.store.update_alert, alert_id, status=status, attempts=attempt, error=text
                )
            if status != "retrying":
                if alert_id is not None:
                    self._open.discard(alert_id)
                if error is not None:
                    log.warning(
                        "%s: %r not delivered after %d attempt(s): %s",
                        channel.name,
                        notification.title,
                        attempt,
                        text,
                    )
                return DeliveryResult(channel.name, error is None, attempt, error)
            assert error is not None
            delay = delivery.backoff * 2 ** (attempt - 1)
            if error.retry_after is not None:
                delay = max(delay, error.retry_after)
            delay = min(delay, delivery.max_backoff)
            log.warning("%s: %s; retrying in %.1fs", channel.name, text, delay)
            await asyncio.sleep(delay)

    async def _attempt(self, channel: Channel, notification: Notification) -> DeliveryError | None:
        try:
            channel.check_configured()
            async with asyncio.timeout(self.settings.delivery.timeout + 1):
                with span("ado.notification.deliver", channel=channel.name):  # telemetry
                    await channel.send(notification)
        except DeliveryError as exc:
            return exc
        except TimeoutError:
            return DeliveryError(Reason.TIMEOUT, f"{channel.name} did not answer in time")
        except Exception as exc:  # a plugin's bug must not stop the other channels
            log.exception("%s: unexpected error", channel.name)
            return DeliveryError(Reason.CONNECTION, f"{type(exc).__name__}: {exc}")
        return None

    # -- recording ----------------------------------------------------------------------------

    async def _queued(self, notification: Notification, channel: str) -> int | None:
        """The ``queued`` row of ``notification`` for ``channel``, owned by this process."""
        record = asyncio.ensure_future(
            self._record(notification, channel, "queued", error=None, attempts=0)
        )
        try:
            alert_id = await asyncio.shield(record)
        except asyncio.CancelledError:  # closing: the row is being written; own it, to abandon
            alert_id = await record
            if alert_id is not None:
                self._open.add(alert_id)
            raise
        if alert_id is not None:
            self._open.add(alert_id)
        return alert_id

    async def _abandon(self, alert_ids: list[int]) -> None:
        """This process gives these rows up: ``abandoned`` unless they finished meanwhile."""
        self._open.difference_update(alert_ids)
        if alert_ids and self.store is not None:
            await self._store_call(self.store.abandon_alerts, alert_ids)

    async def _record(
        self,
        notification: Notification,
        channel: str,
        status: str,
        *,
        error: str | None,
        attempts: int,
    ) -> int | None:
        if self.store is None:
            return None
        details = {k: _plain(v) for k, v in notification.metadata.items()}
        if notification.url:
            details["url"] = notification.url
        alert_id: int | None = await self._store_call(
            self.store.record_alert,
            event=str(notification.event),
            channel=channel,
            status=status,
            title=notification.title,
            level=notification.level.value,
            message=notification.message,
            task_id=notification.task_id,
            error=error,
            attempts=attempts,
            dedupe_key=notification.dedupe_key,
            details=details,
        )
        return alert_id

    async def _store_call(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return await asyncio.to_thread(func, *args, **kwargs)
        except Exception as exc:  # the history is best effort: delivery goes on
            log.warning("could not record the alert: %s", exc)
            return None

    @staticmethod
    def _redact(channel: Channel, text: str) -> str:
        for secret in channel.secrets():
            if secret:
                text = text.replace(secret, "**********")
        return text


def _classes() -> list[type[Channel]]:
    return list(channel_classes().values())


def _matches(rule: RuleConfig, notification: Notification, channel: str) -> bool:
    event = str(notification.event)
    if notification.level.rank < Level(rule.min_level).rank:
        return False
    if "*" not in rule.channels and channel not in rule.channels:
        return False
    return any(
        pattern == "*"
        or pattern == event
        or (pattern.endswith(".*") and event.startswith(pattern[:-1]))
        for pattern in rule.events
    )


def _abandoned() -> str:
    from ado.store.alert_orphans import abandoned_error

    return abandoned_error(os.getpid())


def _describe(error: DeliveryError) -> str:
    return f"{error.reason.value}: {error}"


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value
