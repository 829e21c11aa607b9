"""``SqlMethods``: every plain-SQL query of the store as a method, defined once.

Each query is a function over a ``SqlConnection`` (``ado.store.reader``, ``writes``,
``orphans``); ``query()`` (``ado.store.sql``) makes it the method of the same name, with its
signature and docstring, so there is nothing here to keep in step by hand. Both front doors
inherit it: ``SqlStore`` (its own sqlite3/psycopg connection, no SQLAlchemy import:
``ado status``, ``ado run``) and ``Store`` (a connection of its engine's pool: the server).
Each provides ``_sql()``, a context manager yielding a ``SqlConnection`` with database
errors translated to ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager

from ado.store import orphans, reader, reservations, writes
from ado.store.sql import SqlConnection, query, retried

__all__ = ["SqlMethods"]


class SqlMethods:
    """Tasks, attempts, events, usage, cooldowns, the quota ledger, key-values: the task path
    and its reads."""

    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    # ``retried``: writes that are the same done twice, tried again while PostgreSQL is
    # unreachable (``ado.store.sql.retry_pauses``); event batches: ``EventRecorder``.

    # -- schema and orphans
    current_revision = query(reader.current_revision)
    mark_orphans_interrupted = query(orphans.mark_orphans_interrupted)

    # -- tasks, attempts, events
    create_task = query(writes.create_task)
    update_task = retried(writes.update_task)
    set_agent_pid = retried(writes.set_agent_pid)
    start_attempt = query(writes.start_attempt)
    finish_attempt = retried(writes.finish_attempt)
    park_task = query(writes.park_task)
    finish_task = retried(writes.finish_task)
    add_events = query(writes.add_events)
    batch_ids = query(reader.batch_ids)
    get_task = query(reader.get_task)
    list_tasks = query(reader.list_tasks)
    list_events = query(reader.list_events)
    events_since = query(reader.events_since)
    last_event_id = query(reader.last_event_id)
    find_session = query(reader.find_session)

    # -- usage and cooldowns
    record_usage = retried(writes.record_usage)
    reserve_request = query(reservations.reserve_request)
    release_request = query(reservations.release_request)
    usage_totals = query(reader.usage_totals)
    spend_since = query(reader.spend_since)
    usage_report = query(reader.usage_report)
    task_status_counts = query(reader.task_status_counts)
    set_cooldown = retried(writes.set_cooldown)
    cooldowns = query(reader.cooldowns)
    clear_cooldown = query(writes.clear_cooldown)
    clear_cooldowns = query(writes.clear_cooldowns)

    # -- the quota ledger
    record_quota = query(writes.record_quota)
    quota_windows = query(reader.quota_windows)

    # -- key-values
    get_value = query(reader.get_value)
    set_value = query(writes.set_value)
    delete_value = query(writes.delete_value)
