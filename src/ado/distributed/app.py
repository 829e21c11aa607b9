"""The Celery app of the celery executor, for both sides (``ado serve`` sends, ``ado worker``
consumes).

    app = make_app(config)                      # sends only
    app = make_app(config, execute=run)         # a worker: run(task_id) for each message

Exactly once on an at-least-once transport: the message is acknowledged when the task ends
(``acks_late``), a worker reserves one message per free slot (prefetch multiplier 1), and
``execute`` claims the task in the store before any agent starts, so a second delivery of
the same message (the broker's visibility timeout expired while a long agent run went on,
or a worker lost its connection before acknowledging) finds it claimed and does nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from ado.distributed.settings import TASK_NAME, broker_url

if TYPE_CHECKING:
    from celery import Celery

    from ado.config.schema import AdoConfig

__all__ = ["make_app", "transport_options"]

#: Seconds between two looks for messages whose visibility timeout expired, at most.
RESTORE_INTERVAL = 10


def make_app(config: AdoConfig, *, execute: Callable[[int], None] | None = None) -> Celery:
    """A Celery app on the configured broker; with ``execute``, the task that runs it."""
    from celery import Celery

    orchestration = config.orchestration
    app = Celery("ado", set_as_current=False)
    app.conf.update(
        broker_url=broker_url(config),
        # Redis restarting: retry for ever, at start-up too (workers come back by themselves).
        broker_connection_retry_on_startup=True,
        broker_connection_max_retries=None,
        broker_transport_options=transport_options(orchestration.visibility_timeout),
        task_default_queue=orchestration.queue,
        task_acks_late=True,
        task_acks_on_failure_or_timeout=True,
        worker_prefetch_multiplier=1,
        # An agent keeps running through a broker outage; its message is acknowledged (or
        # delivered again and found claimed) once the broker is back.
        worker_cancel_long_running_tasks_on_connection_loss=False,
        task_ignore_result=True,
        task_serializer="json",
        accept_content=["json"],
        worker_hijack_root_logger=False,
    )
    if execute is not None:

        def run_task(task_id: int) -> None:
            execute(int(task_id))

        app.task(name=TASK_NAME, acks_late=True, ignore_result=True)(run_task)
    return app


def transport_options(visibility_timeout: int) -> dict[str, int]:
    """The Redis transport's options: a message not acknowledged ``visibility_timeout``
    seconds after its delivery is delivered again, found within a quarter of that (at most
    ``RESTORE_INTERVAL`` seconds; kombu's default looks every 100 s)."""
    return {
        "visibility_timeout": visibility_timeout,
        "unacked_restore_interval": max(1, min(RESTORE_INTERVAL, visibility_timeout // 4)),
        "unacked_restore_throttle": 1,
    }
