"""Persistence: tasks, attempts, events, usage, cooldowns; SQLite or PostgreSQL.

    store = Store.open(config, base_dir)      # migrated, ready
    task_id = store.create_task(prompt=..., cwd=..., hitl_policy=..., options={})

Every method runs in its own transaction and returns frozen views, never ORM objects.
``StoreReader`` (``ado.store.reader``) serves the reads ``ado status`` needs without
importing SQLAlchemy, so ``Store`` is imported from here only when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ado._lazy import lazy_exports
from ado.store.reader import HEAD, StoreReader
from ado.store.urls import DATABASE_URL_ENV, normalize_url, redact_url
from ado.store.views import (
    AttemptView,
    CooldownView,
    EventView,
    ReportRow,
    TaskSummaryView,
    TaskView,
    UsageTotals,
)

if TYPE_CHECKING:
    from ado.store.database import Store

__all__ = [
    "DATABASE_URL_ENV",
    "HEAD",
    "AttemptView",
    "CooldownView",
    "EventView",
    "ReportRow",
    "Store",
    "StoreReader",
    "TaskSummaryView",
    "TaskView",
    "UsageTotals",
    "normalize_url",
    "redact_url",
]


# SQLAlchemy: imported on first use (see StoreReader).
__getattr__ = lazy_exports(__name__, {"Store": "database"})
