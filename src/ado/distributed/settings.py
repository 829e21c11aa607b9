"""The celery executor's settings, read without importing Celery.

broker_url(config)                 ADO_BROKER_URL, else orchestration.broker
require_shared_store(url)          ConfigError on SQLite: workers need one database
queue_for(orchestration, options)  the Celery queue a task is sent to
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ado.errors import ConfigError
from ado.store.urls import redact_url

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig, OrchestrationConfig
    from ado.options import TaskOptions

__all__ = ["BROKER_URL_ENV", "TASK_NAME", "broker_url", "queue_for", "require_shared_store"]

BROKER_URL_ENV = "ADO_BROKER_URL"
#: The one Celery task: its only argument is the id of a task queued in the store.
TASK_NAME = "ado.run_task"
_SCHEMES = ("redis://", "rediss://", "redis+socket://")


def broker_url(config: AdoConfig) -> str:
    """The broker the configuration names: ``ADO_BROKER_URL`` wins over
    ``orchestration.broker``. ConfigError when neither is set or it is not Redis."""
    url = os.environ.get(BROKER_URL_ENV, "").strip()
    if not url and config.orchestration.broker is not None:
        url = config.orchestration.broker.get_secret_value().strip()
    if not url:
        raise ConfigError(
            "the celery executor needs a broker and none is set",
            key="orchestration.broker",
            expected="redis://host:6379/0",
            fix=f"set orchestration.broker or the {BROKER_URL_ENV} environment variable",
        )
    if not url.startswith(_SCHEMES):
        raise ConfigError(
            f"the broker {redact_url(url)} is not a Redis URL",
            key="orchestration.broker",
            expected="redis://host:6379/0 (or rediss:// for TLS)",
            fix="ADO's celery executor is tested with Redis; give a redis:// URL",
        )
    return url


def require_shared_store(url: str) -> None:
    """ConfigError unless ``url`` (the store's) can be shared by processes on other hosts."""
    if url.startswith("sqlite"):
        raise ConfigError(
            "the celery executor needs a store every worker can reach, and SQLite is a file "
            "of one machine",
            key="orchestration.executor",
            expected="local with SQLite, or celery with PostgreSQL",
            fix="set storage.connectionString (or ADO_DATABASE_URL) to a PostgreSQL database, "
            "or orchestration.executor back to local",
        )


def queue_for(orchestration: OrchestrationConfig, options: TaskOptions) -> str:
    """The queue of a task with these options: ``orchestration.routes`` of the provider it
    asks for (``provider``, else the first of ``providers``), else ``orchestration.queue``."""
    provider = options.provider or next(iter(options.providers or ()), None)
    if provider and provider in orchestration.routes:
        return orchestration.routes[provider]
    return orchestration.queue
