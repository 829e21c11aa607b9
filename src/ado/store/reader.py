"""The store's reads in plain SQL: status, reports, cooldowns, limits, event streams.

Functions over a ``SqlConnection`` (``ado.store.sql``), run by both front doors
(``SqlStore`` on its own connection, ``Store`` on a pooled one) as the methods of the same
name (``ado.store.methods.SqlMethods`` binds them with ``ado.store.sql.query``).
``ado status`` must answer in well under a second with 100,000 tasks stored; these queries
take ~10 ms, while importing SQLAlchemy would cost more than the whole budget.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from ado.store.codec import encode_json, time_decoder, utcnow
from ado.store.limit_views import CooldownView, QuotaWindowView, UsageTotals
from ado.store.sql import SqlConnection
from ado.text import clean_value, needs_cleaning
from ado.vocab import TaskStatus

# The other views load on first use: ``ado run`` reads only cooldowns, quota windows and
# usage totals before it spawns its agent (``ado.store.limit_views``).
if TYPE_CHECKING:
    from ado.store.views import EventText, EventView, ReportRow, TaskView

__all__ = [
    "HEAD",
    "QUOTA_COLUMNS",
    "WAITING",
    "active_tasks",
    "batch_ids",
    "cooldowns",
    "current_revision",
    "events_since",
    "find_session",
    "get_task",
    "get_value",
    "last_event_id",
    "list_events",
    "list_tasks",
    "next_queued",
    "quota_windows",
    "select_list",
    "spend_since",
    "task_columns",
    "task_status_counts",
    "tasks_by_id",
    "tasks_where",
    "usage_in_transaction",
    "usage_report",
    "usage_totals",
]

#: The newest migration in ``ado/store/migrations/versions``; a test keeps them in step.
HEAD = "0011"

#: A task waiting for a pool: queued, or parked in the queue (no owner) and due at ``:now``.
WAITING = (
    "(status = 'queued' OR (status = 'parked' AND owner_pid IS NULL AND parked_until <= :now))"
)

_COOLDOWN_COLUMNS = CooldownView._fields
QUOTA_COLUMNS = QuotaWindowView._fields


@cache
def task_columns() -> tuple[str, ...]:
    """The ``tasks`` columns a ``TaskView`` holds: its fields but ``attempts``."""
    from ado.store.views import TaskView

    return tuple(name for name in TaskView._fields if name != "attempts")


@cache
def _event_select() -> str:
    """An ``EventView``'s columns, ``data`` read as its JSON text on both databases, so a
    stored lone surrogate or NUL escape can be seen (and cleaned) before it is decoded."""
    from ado.store.views import EventView

    columns = EventView._fields
    # list_events and events_since decode rows by position
    assert columns == ("id", "task_id", "attempt_id", "kind", "data", "created_at")
    return ", ".join("CAST(data AS TEXT)" if c == "data" else c for c in columns)


def select_list(columns: Sequence[str]) -> str:
    """``columns`` for a listing's SELECT, the prompt cut to its first characters, one more
    than listings show (to tell a cut one): a page of tasks stays small whatever was
    submitted."""
    from ado.store.views import PROMPT_EXCERPT

    head = f"substr(prompt, 1, {PROMPT_EXCERPT + 1}) AS prompt"
    return ", ".join(head if c == "prompt" else c for c in columns)


# -- the queries (Store runs these too) -----------------------------------------------------


def current_revision(sql: SqlConnection) -> str | None:
    """The schema's Alembic revision, None for an empty database."""
    with sql.transaction(write=False):
        if sql.dialect == "sqlite":
            exists = sql.rows(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'alembic_version'"
            )
        else:
            exists = sql.rows("SELECT 1 WHERE to_regclass('alembic_version') IS NOT NULL")
        if not exists:
            return None
        found = sql.rows("SELECT version_num FROM alembic_version")
    return str(found[0][0]) if found and found[0][0] is not None else None


def list_tasks(
    sql: SqlConnection,
    *,
    limit: int = 20,
    status: str | None = None,
    provider: str | None = None,
    since: datetime | None = None,
    before_id: int | None = None,
) -> list[TaskView]:
    """Newest first, without attempts; page on with ``before_id=<last id>``."""
    where: list[str] = []
    params: dict[str, Any] = {}
    for clause, name, value in (
        ("status = :status", "status", status),
        ("provider = :provider", "provider", provider),
        ("created_at >= :since", "since", None if since is None else sql.time(since)),
        ("id < :before_id", "before_id", before_id),
    ):
        if value is not None:
            where.append(clause)
            params[name] = value
    return tasks_where(sql, where, params, limit, newest_first=True)


def get_task(sql: SqlConnection, task_id: int) -> TaskView | None:
    """The task with its attempts (by number), None when there is no such task."""
    from ado.store.views import AttemptView, TaskView

    columns, attempt_columns = task_columns(), AttemptView._fields
    with sql.transaction(write=False):
        found = sql.rows(f"SELECT {', '.join(columns)} FROM tasks WHERE id = :id", {"id": task_id})
        if not found:
            return None
        attempts = sql.rows(
            f"SELECT {', '.join(attempt_columns)} FROM attempts WHERE task_id = :id"
            " ORDER BY number, id",
            {"id": task_id},
        )
    return TaskView(
        **sql.values(columns, found[0]),
        attempts=tuple(AttemptView(**sql.values(attempt_columns, row)) for row in attempts),
    )


def find_session(sql: SqlConnection, session_id: str) -> str | None:
    """The provider whose agent issued ``session_id`` (latest attempt), None if unknown."""
    query = "SELECT provider FROM attempts WHERE session_id = :sid ORDER BY id DESC LIMIT 1"
    with sql.transaction(write=False):
        found = sql.rows(query, {"sid": session_id})
    return str(found[0][0]) if found else None


def last_event_id(sql: SqlConnection) -> int:
    """Where a live view that only wants new events starts."""
    with sql.transaction(write=False):
        ((last,),) = sql.rows("SELECT max(id) FROM events")
    return int(last or 0)


def batch_ids(sql: SqlConnection, task_id: int, at: datetime) -> list[int]:
    """The ids of the task's events stored at ``at`` (``writes.add_events(at=...)``): a batch
    whose write failed is looked for before it is written again, never stored twice."""
    query = "SELECT id FROM events WHERE task_id = :task_id AND created_at = :at ORDER BY id"
    with sql.transaction(write=False):
        return [int(row[0]) for row in sql.rows(query, {"task_id": task_id, "at": sql.time(at)})]


def next_queued(sql: SqlConnection, limit: int = 16) -> list[int]:
    """Ids of the tasks waiting for a pool (queued, or parked and due), oldest first."""
    query = f"SELECT id FROM tasks WHERE {WAITING} ORDER BY id LIMIT :limit"
    now = sql.time(utcnow())
    with sql.transaction(write=False):
        return [int(row[0]) for row in sql.rows(query, {"limit": limit, "now": now})]


def spend_since(sql: SqlConnection, since: datetime) -> float:
    """Money really spent since ``since``, over every provider."""
    query = "SELECT coalesce(sum(cost_usd), 0.0) FROM usage_records WHERE created_at >= :since"
    with sql.transaction(write=False):
        ((spent,),) = sql.rows(query, {"since": sql.time(since)})
    return float(spent or 0.0)


def get_value(sql: SqlConnection, key: str) -> dict[str, Any] | None:
    """The value stored under ``key`` (``kv``), None when there is none. A lone surrogate
    saved by an older ADO reads back as U+FFFD (``ado.text.clean_value``), so it cannot
    break every reader of the setting."""
    with sql.transaction(write=False):
        found = sql.rows("SELECT value FROM kv WHERE key = :key", {"key": key})
    if not found:
        return None
    value: dict[str, Any] = clean_value(sql.values(("value",), found[0])["value"], nul=False)
    return value


def list_events(
    sql: SqlConnection, task_id: int, *, after_id: int = 0, limit: int = 1000
) -> list[EventView]:
    """A task's events after ``after_id``, oldest first."""
    from ado.store.views import EventView

    query = (
        f"SELECT {_event_select()} FROM events WHERE id > :after AND task_id = :task_id"
        " ORDER BY id LIMIT :limit"
    )
    with sql.transaction(write=False):
        found = sql.rows(query, {"after": after_id, "task_id": task_id, "limit": limit})
    # Decoded by position, not ``sql.values``: live views read every event (per column,
    # what ``codec.decode`` does: ``data`` is JSON text, ``created_at`` a time).
    to_time = time_decoder(sql.dialect)
    views = []
    for event_id, task, attempt, kind, text, created in found:
        data = json.loads(text)
        if needs_cleaning(text):
            # stored before agent text was cleaned where it enters (ado.providers.sanitize)
            data = clean_value(data)
        views.append(EventView(event_id, task, attempt, kind, data, to_time(created)))
    return views


def events_since(sql: SqlConnection, after_id: int, *, limit: int = 1000) -> list[EventText]:
    """Events of every task after ``after_id``, oldest first, their data as JSON text: what
    live views poll, and send on without decoding it."""
    from ado.store.views import EventText

    query = f"SELECT {_event_select()} FROM events WHERE id > :after ORDER BY id LIMIT :limit"
    with sql.transaction(write=False):
        found = sql.rows(query, {"after": after_id, "limit": limit})
    to_time = time_decoder(sql.dialect)
    views = []
    for event_id, task, attempt, kind, text, created in found:
        if needs_cleaning(text):  # stored before agent text was cleaned where it enters
            text = encode_json(clean_value(json.loads(text)))
        views.append(EventText(event_id, task, attempt, kind, text, to_time(created)))
    return views


def active_tasks(sql: SqlConnection, limit: int = 1000) -> list[TaskView]:
    """Queued, running and parked tasks (the indexed ``status`` column), oldest first."""
    listed = ", ".join(f"'{status}'" for status in TaskStatus if status.is_active)
    return tasks_where(sql, [f"status IN ({listed})"], {}, limit)


def tasks_by_id(sql: SqlConnection, ids: Iterable[int]) -> list[TaskView]:
    """These tasks (without attempts), by id; unknown ids are left out."""
    wanted = sorted(set(ids))
    if not wanted:
        return []
    listed = ", ".join(str(int(i)) for i in wanted)
    return tasks_where(sql, [f"id IN ({listed})"], {}, len(wanted))


def tasks_where(
    sql: SqlConnection,
    where: list[str],
    params: Mapping[str, Any],
    limit: int = 1000,
    *,
    newest_first: bool = False,
) -> list[TaskView]:
    """Tasks (without attempts) matching every clause of ``where``, by id."""
    from ado.store.views import TaskView

    order = "DESC" if newest_first else "ASC"
    columns = task_columns()
    query = (
        f"SELECT {select_list(columns)} FROM tasks{_where(where)} ORDER BY id {order} LIMIT :limit"
    )
    with sql.transaction(write=False):
        found = sql.rows(query, {**params, "limit": limit})
    return [TaskView(**sql.values(columns, row)) for row in found]


def cooldowns(sql: SqlConnection, now: datetime) -> list[CooldownView]:
    """The cooldowns still running at ``now``."""
    query = (
        f"SELECT {', '.join(_COOLDOWN_COLUMNS)} FROM cooldowns WHERE until > :now"
        " ORDER BY provider, access_mode"
    )
    with sql.transaction(write=False):
        found = sql.rows(query, {"now": sql.time(now)})
    return [CooldownView(**sql.values(_COOLDOWN_COLUMNS, row)) for row in found]


def quota_windows(sql: SqlConnection, provider: str | None = None) -> list[QuotaWindowView]:
    """The quota ledger: the latest reading of each window (of one provider, when given)."""
    where = " WHERE provider = :provider" if provider else ""
    query = f"SELECT {', '.join(QUOTA_COLUMNS)} FROM quota_windows{where} ORDER BY provider, kind"
    with sql.transaction(write=False):
        found = sql.rows(query, {"provider": provider})
    return [QuotaWindowView(**sql.values(QUOTA_COLUMNS, row)) for row in found]


def usage_totals(
    sql: SqlConnection, provider: str, access_mode: str, since: datetime
) -> UsageTotals:
    """What one (provider, access mode) used since ``since``: what limits are checked on."""
    with sql.transaction(write=False):
        return usage_in_transaction(sql, provider, access_mode, since)


def usage_in_transaction(
    sql: SqlConnection, provider: str, access_mode: str, since: datetime
) -> UsageTotals:
    """``usage_totals`` inside the caller's transaction (a reservation counts under its lock)."""
    query = (
        "SELECT coalesce(sum(requests), 0),"
        " coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0),"
        " coalesce(sum(cost_usd), 0.0), coalesce(sum(api_cost_usd), 0.0)"
        " FROM usage_records"
        " WHERE provider = :provider AND access_mode = :access_mode AND created_at >= :since"
    )
    params = {"provider": provider, "access_mode": access_mode, "since": sql.time(since)}
    ((requests, tokens, cost, api_cost),) = sql.rows(query, params)
    return UsageTotals(
        requests=int(requests),
        tokens=int(tokens),
        cost_usd=float(cost),
        api_cost_usd=float(api_cost),
    )


def usage_report(
    sql: SqlConnection, since: datetime | None, provider: str | None = None
) -> list[ReportRow]:
    """Per (provider, access mode): tasks and attempts started, then requests, tokens and
    costs from the usage records, since ``since`` (everything when None)."""
    from ado.store.views import ReportRow

    params: dict[str, Any] = {}
    attempt_where, record_where = [], []
    if since is not None:
        params["since"] = sql.time(since)
        attempt_where.append("started_at >= :since")
        record_where.append("created_at >= :since")
    if provider is not None:
        params["provider"] = provider
        attempt_where.append("provider = :provider")
        record_where.append("provider = :provider")
    # Grouped by expressions when a time range is asked: see _unindexed().
    group = f"{_unindexed('provider', since)}, {_unindexed('access_mode', since)}"
    attempts = (
        "SELECT provider, access_mode, count(DISTINCT task_id), count(id) FROM attempts"
        + _where(attempt_where)
        + " GROUP BY provider, access_mode"
    )
    records = (
        f"SELECT {group}, sum(requests), sum(input_tokens), sum(output_tokens),"
        " sum(cache_read_tokens), sum(cache_write_tokens), sum(cost_usd), sum(api_cost_usd)"
        " FROM usage_records" + _where(record_where) + f" GROUP BY {group}"
    )
    rows: dict[tuple[str, str], dict[str, Any]] = {}
    with sql.transaction(write=False):
        for prov, mode, tasks, count in sql.rows(attempts, params):
            rows[(prov, mode)] = _empty_row(tasks=int(tasks), attempts=int(count))
        for prov, mode, *sums in sql.rows(records, params):
            rows.setdefault((prov, mode), _empty_row()).update(
                requests=int(sums[0] or 0),
                input_tokens=int(sums[1] or 0),
                output_tokens=int(sums[2] or 0),
                cache_read_tokens=int(sums[3] or 0),
                cache_write_tokens=int(sums[4] or 0),
                cost_usd=float(sums[5] or 0.0),
                api_cost_usd=float(sums[6] or 0.0),
            )
    return [
        ReportRow(provider=prov, access_mode=mode, **values)
        for (prov, mode), values in sorted(rows.items())
    ]


def task_status_counts(sql: SqlConnection, since: datetime | None = None) -> dict[str, int]:
    """How many tasks are in each status (created since ``since``, when given)."""
    status = _unindexed("status", since)
    query = f"SELECT {status}, count(id) FROM tasks"
    params: dict[str, Any] = {}
    if since is not None:
        query += " WHERE created_at >= :since"
        params["since"] = sql.time(since)
    with sql.transaction(write=False):
        return {name: int(count) for name, count in sql.rows(query + f" GROUP BY {status}", params)}


def _unindexed(column: str, since: datetime | None) -> str:
    """``column || ''`` when a time range is asked: the same value, but not the indexed column.

    Grouping a time-range query by an indexed column makes SQLite walk that index over the
    whole table (to skip a sort) instead of searching the ``created_at`` range: with 100k
    tasks, ~100 ms instead of ~1 ms for today's figures in ``ado status``.
    """
    return column if since is None else f"{column} || ''"


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def _empty_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(
        ("tasks", "attempts", "requests", "input_tokens", "output_tokens", "cache_read_tokens"),
        0,
    )
    row.update(cache_write_tokens=0, cost_usd=0.0, api_cost_usd=0.0)
    row.update(values)
    return row
