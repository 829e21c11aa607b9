"""What the API reads and writes in bulk, in plain SQL: pages of tasks, dashboard figures.

- ``task_page``: filtered, sorted pages of tasks with keyset (cursor) pagination — every
  page is an index range, never ``OFFSET``.
- ``insert_queued_tasks``: many queued tasks in one transaction (the API's group commit).
- ``dashboard_stats``, ``usage_history``, ``provider_usage``: indexed range queries over
  ``tasks.finished_at``/``created_at`` and ``usage_records.created_at``.

Like ``ado.store.reader``, each function takes a ``SqlConnection`` and runs the same SQL on
SQLite and PostgreSQL; ``Store`` exposes them as methods (``BrowseMethods``).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import cache
from typing import Any

from ado.host import hostname
from ado.store.codec import TIMES, encode_json, time_decoder
from ado.store.reader import select_list
from ado.store.sql import SqlConnection, query
from ado.store.views import TaskSummaryView
from ado.vocab import AccessMode, TaskStatus

__all__ = ["SORTS", "BrowseMethods", "NewTask", "TaskQuery"]

#: API sort name → (column expression key, descending)
SORTS: dict[str, tuple[str, bool]] = {
    "-createdAt": ("created_at", True),
    "createdAt": ("created_at", False),
    "-costUsd": ("cost_usd", True),
    "-durationS": ("duration", True),
}
_DURATION = {
    "sqlite": "coalesce((julianday(finished_at) - julianday(started_at)) * 86400.0, -1.0)",
    "postgresql": "coalesce(CAST(extract(epoch from (finished_at - started_at)) AS float8), -1.0)",
}
_DAY = {"sqlite": "substr({col}, 1, 10)", "postgresql": "to_char({col}, 'YYYY-MM-DD')"}


@dataclass(frozen=True, slots=True)
class TaskQuery:
    status: str | None = None
    provider: str | None = None
    #: Text searched for in the prompt (case-insensitive).
    text: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    sort: str = "-createdAt"
    #: The sort value and id of the last task of the previous page.
    after: tuple[Any, int] | None = None
    limit: int = 50


@dataclass(frozen=True, slots=True)
class NewTask:
    prompt: str
    cwd: str
    hitl_policy: str
    options: dict[str, Any]
    created_at: datetime


def task_page(
    sql: SqlConnection, query: TaskQuery
) -> tuple[list[TaskSummaryView], tuple[Any, int] | None]:
    """One page of tasks, and the key to pass as ``after`` for the next (None: last page)."""
    column, desc = SORTS[query.sort]
    expr = _DURATION[sql.dialect] if column == "duration" else column
    where: list[str] = []
    params: dict[str, Any] = {"limit": query.limit + 1}
    if query.status is not None:
        where.append("status = :status")
        params["status"] = query.status
    if query.provider is not None:
        where.append("provider = :provider")
        params["provider"] = query.provider
    if query.text:
        like = "LIKE" if sql.dialect == "sqlite" else "ILIKE"
        where.append(f"prompt {like} :text ESCAPE '\\'")
        escaped = query.text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
        params["text"] = f"%{escaped}%"
    if query.since is not None:
        where.append("created_at >= :since")
        params["since"] = sql.time(query.since)
    if query.until is not None:
        where.append("created_at < :until")
        params["until"] = sql.time(query.until)
    if query.after is not None:
        value, last_id = query.after
        op = "<" if desc else ">"
        where.append(f"({expr} {op} :key OR ({expr} = :key AND id {op} :last_id))")
        params["key"] = sql.time(value) if isinstance(value, datetime) else value
        params["last_id"] = last_id
    order = "DESC" if desc else "ASC"
    text = (
        f"SELECT {select_list(_SUMMARY_COLUMNS)}, {expr} FROM tasks"
        + (f" WHERE {' AND '.join(where)}" if where else "")
        + f" ORDER BY {expr} {order}, id {order} LIMIT :limit"
    )
    with sql.transaction(write=False):
        found = sql.rows(text, params)
    times = _time_positions()
    convert = time_decoder(sql.dialect)
    tasks = []
    for row in found[: query.limit]:
        values = list(row[:-1])
        for i in times:
            if values[i] is not None:
                values[i] = convert(values[i])
        tasks.append(TaskSummaryView._make(values))
    if len(found) <= query.limit:
        return tasks, None
    last, key = tasks[-1], found[query.limit - 1][-1]
    if column == "created_at":
        key = last.created_at
    return tasks, (key, last.id)


_SUMMARY_COLUMNS = TaskSummaryView._fields


@cache
def _time_positions() -> tuple[int, ...]:
    return tuple(i for i, c in enumerate(_SUMMARY_COLUMNS) if c in TIMES)


def insert_queued_tasks(sql: SqlConnection, tasks: Sequence[NewTask]) -> list[int]:
    """Store ``tasks`` as queued, in one transaction and one driver call; their ids in the
    same order."""
    if not tasks:
        return []
    columns = (
        "prompt, cwd, status, hitl_policy, options, attempt_count, owner_host, owner_pid,"
        " created_at, updated_at, input_tokens, output_tokens, cache_read_tokens,"
        " cache_write_tokens, cost_usd, api_cost_usd"
    )
    values = (
        f":prompt, :cwd, '{TaskStatus.QUEUED}', :hitl_policy,"
        f" {sql.json('options')}, 0, :host, :pid,"
        " :created_at, :created_at, 0, 0, 0, 0, 0.0, 0.0"
    )
    host, pid = hostname(), os.getpid()
    rows = [
        {
            "prompt": task.prompt,
            "cwd": task.cwd,
            "hitl_policy": task.hitl_policy,
            "options": encode_json(task.options),
            "host": host,
            "pid": pid,
            "created_at": sql.time(task.created_at),
        }
        for task in tasks
    ]
    with sql.transaction(write=True):
        return sql.insert_many("tasks", columns, values, rows)


def dashboard_stats(sql: SqlConnection, now: datetime) -> dict[str, tuple[float, float | None]]:
    """activeTasks, completedToday, apiCost24h, avgDurationS: (value, previous value or None).

    Completed today counts succeeded tasks finished since 00:00 UTC against yesterday's over
    the same hours; cost and duration compare the last 24 h with the 24 h before.
    """
    today = now.replace(hour=0, minute=0, second=0, microsecond=0)
    day, t = timedelta(days=1), sql.time
    duration = _DURATION[sql.dialect].replace(", -1.0)", ", NULL)")
    succeeded = f"status || '' = '{TaskStatus.SUCCEEDED}'"  # not the status index: see
    # reader._unindexed
    finished = "FROM tasks WHERE finished_at >= :start AND finished_at < :end"
    with sql.transaction(write=False):
        active = ", ".join(f"'{s}'" for s in TaskStatus if s.is_active)
        ((active,),) = sql.rows(f"SELECT count(id) FROM tasks WHERE status IN ({active})")
        counts = [
            sql.rows(f"SELECT count(id) {finished} AND {succeeded}", {"start": t(a), "end": t(b)})
            for a, b in ((today, now), (today - day, now - day))
        ]
        costs = [
            sql.rows(
                "SELECT coalesce(sum(cost_usd), 0.0) FROM usage_records"
                " WHERE created_at >= :start AND created_at < :end",
                {"start": t(a), "end": t(b)},
            )
            for a, b in ((now - day, now), (now - 2 * day, now - day))
        ]
        durations = [
            sql.rows(f"SELECT avg({duration}) {finished}", {"start": t(a), "end": t(b)})
            for a, b in ((now - day, now), (now - 2 * day, now - day))
        ]
    return {
        "activeTasks": (float(active), None),
        "completedToday": (float(counts[0][0][0]), float(counts[1][0][0])),
        "apiCost24h": (float(costs[0][0][0]), float(costs[1][0][0])),
        "avgDurationS": (
            round(float(durations[0][0][0] or 0.0), 3),
            round(float(durations[1][0][0] or 0.0), 3),
        ),
    }


def usage_history(sql: SqlConnection, now: datetime, days: int = 7) -> dict[str, Any]:
    """Per day (UTC) for ``days`` days: task volume and cost split; usage per provider."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    params = {"start": sql.time(start)}
    task_day = _DAY[sql.dialect].format(col="created_at")
    volume = (
        f"SELECT {task_day}, count(id),"
        f" sum(CASE WHEN status = '{TaskStatus.SUCCEEDED}' THEN 1 ELSE 0 END),"
        f" sum(CASE WHEN status = '{TaskStatus.FAILED}' THEN 1 ELSE 0 END)"
        f" FROM tasks WHERE created_at >= :start GROUP BY {task_day}"
    )
    cost = (
        f"SELECT {task_day},"
        f" sum(CASE WHEN access_mode IN ('{AccessMode.SUBSCRIPTION}', '{AccessMode.FREE}')"
        " THEN api_cost_usd ELSE 0 END),"
        f" sum(CASE WHEN access_mode = '{AccessMode.API}' THEN cost_usd ELSE 0 END)"
        f" FROM usage_records WHERE created_at >= :start GROUP BY {task_day}"
    )
    providers = (
        "SELECT provider || '', count(DISTINCT task_id), sum(input_tokens),"
        " sum(output_tokens), sum(api_cost_usd)"
        " FROM usage_records WHERE created_at >= :start GROUP BY provider || ''"
        " ORDER BY provider || ''"
    )
    with sql.transaction(write=False):
        volumes = {d: row for d, *row in sql.rows(volume, params)}
        costs = {d: row for d, *row in sql.rows(cost, params)}
        by_provider = sql.rows(providers, params)
    dates = _dates(start, days)
    return {
        "taskVolume": [
            {
                "date": d,
                "total": int(volumes.get(d, (0, 0, 0))[0]),
                "succeeded": int(volumes.get(d, (0, 0, 0))[1] or 0),
                "failed": int(volumes.get(d, (0, 0, 0))[2] or 0),
            }
            for d in dates
        ],
        "usageByProvider": [
            {
                "provider": p,
                "tasks": int(n),
                "inputTokens": int(i or 0),
                "outputTokens": int(o or 0),
                "apiCostUsd": float(c or 0.0),
            }
            for p, n, i, o, c in by_provider
        ],
        "costTrend": [
            {
                "date": d,
                "subscriptionValueUsd": float(costs.get(d, (0.0, 0.0))[0] or 0.0),
                "apiSpendUsd": float(costs.get(d, (0.0, 0.0))[1] or 0.0),
            }
            for d in dates
        ],
    }


def provider_usage(
    sql: SqlConnection, provider: str, now: datetime, days: int
) -> list[dict[str, Any]]:
    """One provider's usage per day (UTC) for ``days`` days, oldest first."""
    start = now.replace(hour=0, minute=0, second=0, microsecond=0) - timedelta(days=days - 1)
    day = _DAY[sql.dialect].format(col="created_at")
    query = (
        f"SELECT {day}, count(DISTINCT task_id), sum(requests), sum(input_tokens),"
        " sum(output_tokens), sum(cost_usd), sum(api_cost_usd) FROM usage_records"
        f" WHERE provider = :provider AND created_at >= :start GROUP BY {day}"
    )
    with sql.transaction(write=False):
        rows = {
            d: row for d, *row in sql.rows(query, {"provider": provider, "start": sql.time(start)})
        }
    empty = (0, 0, 0, 0, 0.0, 0.0)
    return [
        {
            "date": d,
            "tasks": int(rows.get(d, empty)[0]),
            "requests": int(rows.get(d, empty)[1] or 0),
            "inputTokens": int(rows.get(d, empty)[2] or 0),
            "outputTokens": int(rows.get(d, empty)[3] or 0),
            "costUsd": float(rows.get(d, empty)[4] or 0.0),
            "apiCostUsd": float(rows.get(d, empty)[5] or 0.0),
        }
        for d in _dates(start, days)
    ]


def _dates(start: datetime, days: int) -> list[str]:
    first: date = start.astimezone(UTC).date()
    return [(first + timedelta(days=i)).isoformat() for i in range(days)]


class BrowseMethods:
    """The API's bulk reads and writes, as ``Store`` methods (the functions above)."""

    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    task_page = query(task_page)
    insert_queued_tasks = query(insert_queued_tasks)
    dashboard_stats = query(dashboard_stats)
    usage_history = query(usage_history)
    provider_usage = query(provider_usage)
