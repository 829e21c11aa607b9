"""Persistence: tasks, attempts, events, usage, cooldowns; SQLite or PostgreSQL.

    store = Store.open(config, base_dir)      # migrated, ready
    task_id = store.create_task(prompt=..., cwd=..., hitl_policy=..., options={})

Every method runs in its own transaction and returns frozen views, never ORM objects.
"""

from ado.store.database import DATABASE_URL_ENV, HEAD, Store, normalize_url, redact_url
from ado.store.views import (
    AttemptView,
    CooldownView,
    EventView,
    ReportRow,
    TaskView,
    UsageTotals,
)

__all__ = [
    "DATABASE_URL_ENV",
    "HEAD",
    "AttemptView",
    "CooldownView",
    "EventView",
    "ReportRow",
    "Store",
    "TaskView",
    "UsageTotals",
    "normalize_url",
    "redact_url",
]
