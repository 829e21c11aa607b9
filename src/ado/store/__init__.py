"""Persistence: tasks, attempts, events, usage, cooldowns; SQLite or PostgreSQL.

    store = Store.open(config, base_dir)      # migrated, ready
    task_id = store.create_task(prompt=..., cwd=..., hitl_policy=..., options={})

Every method runs in its own transaction and returns frozen views, never ORM objects.
``SqlStore`` (``ado.store.sqlstore``) runs the same plain-SQL methods (the task path, its
reads, the queue) without importing SQLAlchemy — what ``ado status`` and ``ado run`` use —
so ``Store`` is imported from here only when first asked for.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ado._lazy import lazy_exports
from ado.store.limit_views import CooldownView, QuotaWindowView, UsageTotals
from ado.store.reader import HEAD
from ado.store.sqlstore import SqlStore
from ado.store.urls import DATABASE_URL_ENV, normalize_url, redact_url

if TYPE_CHECKING:
    from ado.store.database import Store
    from ado.store.views import (
        AttemptView,
        EventText,
        EventView,
        ReportRow,
        TaskSummaryView,
        TaskView,
    )

__all__ = [
    "DATABASE_URL_ENV",
    "HEAD",
    "AttemptView",
    "CooldownView",
    "EventText",
    "EventView",
    "QuotaWindowView",
    "ReportRow",
    "SqlStore",
    "Store",
    "TaskSummaryView",
    "TaskView",
    "UsageTotals",
    "normalize_url",
    "redact_url",
]


# On first use: SQLAlchemy (see SqlStore), and the views ``ado run`` does not read before its
# agent spawns (``ado.store.limit_views`` holds those it reads).
_VIEWS = ("AttemptView", "EventText", "EventView", "ReportRow", "TaskSummaryView", "TaskView")
__getattr__ = lazy_exports(__name__, {"Store": "database", **dict.fromkeys(_VIEWS, "views")})
