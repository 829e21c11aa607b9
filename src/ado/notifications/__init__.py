"""Notifications: Slack, email and webhooks on task, limit and cost events.

    manager = NotificationManager.from_config(config, store)
    runner = Runner(config, store, hooks=[manager.listener()])
    await runner.run(spec)
    await manager.aclose(grace=5)

Channels register through the ``ado.notifiers`` entry-point group (``channels/base.py``);
``manager.py`` routes, retries and records, ``throttle.py`` de-duplicates; ``events.py``
maps the runner's events to notifications.

The names below are imported on first use: loading the config section
(``notifications.config``, part of every command's start-up) does not load the manager,
asyncio or the channels.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ado._lazy import lazy_exports

if TYPE_CHECKING:
    from ado.notifications.channels.base import Channel, DeliveryError, Reason, channel_classes
    from ado.notifications.events import NotificationListener
    from ado.notifications.manager import DeliveryResult, NotificationManager
    from ado.notifications.message import EVENTS, Level, Notification, NotificationEvent

_HOMES = {
    "Channel": "channels.base",
    "DeliveryError": "channels.base",
    "Reason": "channels.base",
    "channel_classes": "channels.base",
    "NotificationListener": "events",
    "DeliveryResult": "manager",
    "NotificationManager": "manager",
    "EVENTS": "message",
    "Level": "message",
    "Notification": "message",
    "NotificationEvent": "message",
}

__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "EVENTS",
    "Channel",
    "DeliveryError",
    "DeliveryResult",
    "Level",
    "Notification",
    "NotificationEvent",
    "NotificationListener",
    "NotificationManager",
    "Reason",
    "channel_classes",
]
