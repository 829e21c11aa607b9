"""The store's writes in plain SQL: the task path (task, attempts, events, usage, cooldowns),
key-values and the queue.

Functions over a ``SqlConnection``, run by both front doors as the methods of the same name
(``ado.store.methods.SqlMethods`` binds them with ``ado.store.sql.query``): ``ado run``
writes a task through ``SqlStore`` without importing SQLAlchemy, the server through
``Store``, with the same SQL. Each function is one
transaction; a SQLite write takes its lock up front (``BEGIN IMMEDIATE``).
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from functools import cache
from typing import TYPE_CHECKING, Any

from ado.errors import TaskDisowned
from ado.host import hostname
from ado.store.codec import encode_json, utcnow
from ado.store.reader import QUOTA_COLUMNS, WAITING, task_columns
from ado.store.sql import SqlConnection
from ado.vocab import OutcomeKind, TaskStatus

if TYPE_CHECKING:
    from ado.providers.events import AgentEvent, Usage
    from ado.store.limit_views import QuotaWindowView

__all__ = [
    "add_events",
    "cancel_queued",
    "check_owned",
    "claim_task",
    "clear_cooldown",
    "clear_cooldowns",
    "create_task",
    "delete_value",
    "finish_attempt",
    "finish_task",
    "park_task",
    "record_quota",
    "record_usage",
    "set_agent_pid",
    "set_cooldown",
    "set_value",
    "start_attempt",
    "take_values",
    "update_task",
]


@cache
def _updatable() -> frozenset[str]:
    """Columns ``update_task`` may change; the rest are written by dedicated functions."""
    return frozenset(task_columns()) - {"id", "created_at", "updated_at"}


_TOTALS = (
    "input_tokens",
    "output_tokens",
    "cache_read_tokens",
    "cache_write_tokens",
    "cost_usd",
    "api_cost_usd",
)


def _totals(usage: Usage, cost_usd: float, api_cost_usd: float) -> dict[str, Any]:
    """The columns of ``_TOTALS`` for ``usage`` and its costs."""
    return {
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cache_read_tokens": usage.cache_read_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost_usd": cost_usd,
        "api_cost_usd": api_cost_usd,
    }


def _insert(
    sql: SqlConnection, table: str, values: Mapping[str, Any], json: Iterable[str] = ()
) -> int:
    """Insert one row; its new id."""
    as_json = frozenset(json)
    names = ", ".join(values)
    marks = ", ".join(sql.json(k) if k in as_json else f":{k}" for k in values)
    params = {k: encode_json(v) if k in as_json else v for k, v in values.items()}
    ((new_id,),) = sql.rows(f"INSERT INTO {table} ({names}) VALUES ({marks}) RETURNING id", params)
    return int(new_id)


def _upsert(
    sql: SqlConnection, table: str, keys: tuple[str, ...], params: Mapping[str, Any]
) -> None:
    """Insert the row ``params``, or update the other columns of the row with its ``keys``."""
    names = ", ".join(params)
    marks = ", ".join(f":{k}" for k in params)
    updates = ", ".join(f"{k} = excluded.{k}" for k in params if k not in keys)
    sql.execute(
        f"INSERT INTO {table} ({names}) VALUES ({marks})"
        f" ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}",
        params,
    )


# -- the fence -------------------------------------------------------------------------------

#: The task is this process's: running (or parked by an ``ado run --wait``) and owned by its
#: host and pid. A process found lost (``ado.store.registry``) no longer matches: its tasks
#: were interrupted, or re-queued (no owner) and perhaps claimed by another process.
_OWNED = (
    "owner_host = :owner_host AND owner_pid = :owner_pid"
    f" AND status IN ('{TaskStatus.RUNNING}', '{TaskStatus.PARKED}')"
)


def _owner() -> dict[str, Any]:
    """This process, as the owner ``_OWNED`` looks for."""
    return {"owner_host": hostname(), "owner_pid": os.getpid()}


def check_owned(sql: SqlConnection, task_id: int) -> None:
    """Refuse (``TaskDisowned``) a write for ``task_id`` unless it is this process's; call
    it first in the write's transaction. On PostgreSQL the row stays share-locked until the
    commit, so a takeover (``registry``: one UPDATE of the task) comes wholly before the
    write, which is then refused, or wholly after it (SQLite: one writer at a time)."""
    lock = " FOR SHARE" if sql.dialect == "postgresql" else ""
    if not sql.rows(
        f"SELECT 1 FROM tasks WHERE id = :id AND {_OWNED}{lock}", {"id": task_id, **_owner()}
    ):
        raise TaskDisowned(task_id)


# -- tasks and attempts ----------------------------------------------------------------------


def create_task(
    sql: SqlConnection,
    *,
    prompt: str,
    cwd: str,
    hitl_policy: str,
    options: Mapping[str, Any],
    status: str = TaskStatus.RUNNING,
) -> int:
    """A new task owned by this process; ``started_at`` is now when it starts running."""
    now = sql.time(utcnow())
    values = {
        "prompt": prompt,
        "cwd": cwd,
        "status": status,
        "hitl_policy": hitl_policy,
        "options": dict(options),
        "attempt_count": 0,
        "owner_host": hostname(),
        "owner_pid": os.getpid(),
        "created_at": now,
        "updated_at": now,
        "started_at": now if status == TaskStatus.RUNNING else None,
        **dict.fromkeys(_TOTALS, 0),
    }
    with sql.transaction(write=True):
        return _insert(sql, "tasks", values, json=("options",))


def update_task(sql: SqlConnection, /, task_id: int, **fields: Any) -> None:
    unknown = set(fields) - _updatable()
    if unknown:
        raise TypeError(f"update_task() got unknown task fields: {', '.join(sorted(unknown))}")
    params: dict[str, Any] = {"id": task_id, "updated_at": sql.time(utcnow())}
    sets = ["updated_at = :updated_at"]
    for name, value in fields.items():
        if name == "options":
            sets.append(f"options = {sql.json('options')}")
            value = encode_json(value)
        else:
            sets.append(f"{name} = :{name}")
            if isinstance(value, datetime):
                value = sql.time(value)
        params[name] = value
    with sql.transaction(write=True):
        sql.execute(f"UPDATE tasks SET {', '.join(sets)} WHERE id = :id", params)


def set_agent_pid(sql: SqlConnection, attempt_id: int, pid: int, mark: str | None = None) -> None:
    """The running agent's pid (its process group) and ``ADO_AGENT_GROUP`` mark."""
    with sql.transaction(write=True):
        sql.execute(
            "UPDATE attempts SET agent_pid = :pid, agent_mark = :mark WHERE id = :id",
            {"pid": pid, "mark": mark, "id": attempt_id},
        )


def start_attempt(
    sql: SqlConnection,
    task_id: int,
    *,
    number: int,
    provider: str,
    access_mode: str,
    model: str | None,
    reason: str,
) -> int:
    """A running attempt; the task now shows this provider, access mode and count. Refused
    (``TaskDisowned``) when the task is no longer this process's: no agent starts for it."""
    now = sql.time(utcnow())
    values = {
        "task_id": task_id,
        "number": number,
        "provider": provider,
        "access_mode": access_mode,
        "model": model,
        "reason": reason,
        "outcome": OutcomeKind.RUNNING.value,
        "files_changed": [],
        "started_at": now,
        **dict.fromkeys(_TOTALS, 0),
    }
    with sql.transaction(write=True):
        check_owned(sql, task_id)
        attempt_id = _insert(sql, "attempts", values, json=("files_changed",))
        sql.execute(
            "UPDATE tasks SET provider = :provider, access_mode = :mode, attempt_count = :number,"
            " routing_reason = :reason, updated_at = :now WHERE id = :id",
            {"provider": provider, "mode": access_mode, "number": number, "reason": reason,
             "now": now, "id": task_id},
        )  # fmt: skip
    return attempt_id


def finish_attempt(
    sql: SqlConnection,
    attempt_id: int,
    *,
    outcome: str,
    message: str,
    exit_code: int | None,
    session_id: str | None,
    reset_at: datetime | None,
    usage: Usage,
    cost_usd: float,
    api_cost_usd: float,
    files: Sequence[str],
    dropped_events: int = 0,
    dropped_bytes: int = 0,
    model: str | None = None,
) -> None:
    """Close the attempt with its totals, and add those totals to its task's (what was
    dropped is counted on the task by ``finish_task``). An attempt ends once: one already
    ended (``interrupted`` when its process was found lost) is left as it is."""
    totals = _totals(usage, cost_usd, api_cost_usd)
    now = sql.time(utcnow())
    params = {
        **totals,
        "id": attempt_id,
        "outcome": outcome,
        "message": message,
        "exit_code": exit_code,
        "session_id": session_id,
        "reset_at": None if reset_at is None else sql.time(reset_at),
        "files": encode_json(list(files)),
        "dropped_events": dropped_events,
        "dropped_bytes": dropped_bytes,
        "model": model,
        "agent_cost": usage.cost_usd,
        "now": now,
    }
    add = ", ".join(f"{name} = {name} + :{name}" for name in totals)
    with sql.transaction(write=True):
        finished = sql.execute(
            "UPDATE attempts SET outcome = :outcome, outcome_message = :message,"
            " exit_code = :exit_code, session_id = :session_id, reset_at = :reset_at,"
            f" files_changed = {sql.json('files')}, finished_at = :now,"
            " dropped_events = :dropped_events, dropped_bytes = :dropped_bytes,"
            " model = COALESCE(:model, model), agent_cost_usd = :agent_cost, "
            + ", ".join(f"{name} = :{name}" for name in totals)
            + f" WHERE id = :id AND outcome = '{OutcomeKind.RUNNING}'",
            params,
        )
        if not finished:  # ended already: interrupted by whoever took its lost process
            return
        session = ", session_id = :session_id" if session_id is not None else ""
        sql.execute(
            f"UPDATE tasks SET {add}{session}, updated_at = :now"
            " WHERE id = (SELECT task_id FROM attempts WHERE id = :id)",
            params,
        )


def finish_task(
    sql: SqlConnection,
    task_id: int,
    *,
    status: str,
    error: str | None = None,
    result_text: str | None = None,
    exit_code: int | None = None,
    dropped_events: int = 0,
    dropped_bytes: int = 0,
) -> None:
    """The task's final status; ``dropped_*``: its output not stored (storage caps).

    Only while the task is still this process's, or a running one nobody owns: a process
    found lost (``ado.store.registry``) keeps its tasks' owner but sees them ``interrupted``,
    or loses them (re-queued, perhaps taken by another pool); its late finish overwrites
    neither."""
    now = sql.time(utcnow())
    with sql.transaction(write=True):
        sql.execute(
            "UPDATE tasks SET status = :status, error = :error, result_text = :result_text,"
            " exit_code = :exit_code, dropped_events = :dropped_events,"
            " dropped_bytes = :dropped_bytes, finished_at = :now, updated_at = :now"
            " WHERE id = :id AND ((owner_host = :owner_host AND owner_pid = :owner_pid"
            f" AND status <> '{TaskStatus.INTERRUPTED}') OR (owner_pid IS NULL"
            f" AND status IN ('{TaskStatus.RUNNING}', '{TaskStatus.PARKED}')))",
            {"status": status, "error": error, "result_text": result_text,
             "exit_code": exit_code, "dropped_events": dropped_events,
             "dropped_bytes": dropped_bytes, "now": now, "id": task_id, **_owner()},
        )  # fmt: skip


def add_events(
    sql: SqlConnection,
    task_id: int,
    attempt_id: int | None,
    events: Sequence[AgentEvent],
    at: datetime | None = None,
) -> list[int]:
    """Store ``events`` in one transaction and one driver call; their new ids, in order.
    ``at``: their time (``reader.batch_ids`` finds the batch by it), else now. Refused
    (``TaskDisowned``) when the task is no longer this process's (``check_owned``)."""
    if not events:
        return []
    now = sql.time(at or utcnow())
    rows: list[dict[str, Any]] = []
    for event in events:
        data = event.to_dict()
        kind = data.pop("kind")
        rows.append(
            {"task_id": task_id, "attempt_id": attempt_id, "kind": kind,
             "data": encode_json(data), "now": now}
        )  # fmt: skip
    columns = "task_id, attempt_id, kind, data, created_at"
    values = f":task_id, :attempt_id, :kind, {sql.json('data')}, :now"
    with sql.transaction(write=True):
        check_owned(sql, task_id)
        return sql.insert_many("events", columns, values, rows)


# -- usage and cooldowns ---------------------------------------------------------------------


def record_usage(
    sql: SqlConnection,
    *,
    provider: str,
    access_mode: str,
    task_id: int | None,
    attempt_id: int | None,
    model: str | None,
    usage: Usage,
    cost_usd: float,
    api_cost_usd: float,
    requests: int = 1,
    reservation: int | None = None,
) -> None:
    """The usage of an attempt; ``reservation``: the row its request was reserved as
    (``ado.store.reservations``) becomes this usage. Refused (``TaskDisowned``) when
    ``task_id`` is no longer this process's: its reserved request stays counted as it is."""
    values = {
        "provider": provider,
        "access_mode": access_mode,
        "task_id": task_id,
        "attempt_id": attempt_id,
        "model": model,
        "requests": requests,
        **_totals(usage, cost_usd, api_cost_usd),
        "created_at": sql.time(utcnow()),
    }
    with sql.transaction(write=True):
        if task_id is not None:
            check_owned(sql, task_id)
        if reservation is not None:  # counted from the moment it was reserved
            sets = ", ".join(f"{name} = :{name}" for name in values if name != "created_at")
            update = f"UPDATE usage_records SET {sets} WHERE id = :id"
            if sql.execute(update, {**values, "id": reservation}):
                return
        _insert(sql, "usage_records", values)


def record_quota(sql: SqlConnection, reading: QuotaWindowView) -> None:
    """Keep ``reading`` as its window's latest (unless a newer one is kept); the one it
    replaces becomes the ``prev_`` point of the burn rate when it is of the same window
    (the same reset, give or take a minute) and older."""
    params = {
        name: sql.time(value) if isinstance(value, datetime) else value
        for name in QUOTA_COLUMNS
        if not name.startswith("prev_")
        for value in (getattr(reading, name),)
    }
    with sql.transaction(write=True):
        before = sql.rows(
            "SELECT used_ratio, observed_at, resets_at FROM quota_windows"
            " WHERE provider = :provider AND kind = :kind",
            {"provider": reading.provider, "kind": reading.kind},
        )
        prev_ratio, prev_at = None, None
        if before:
            old = sql.values(("used_ratio", "observed_at", "resets_at"), before[0])
            if old["observed_at"] > reading.observed_at:
                return  # a reading older than the kept one, arriving late: not the latest
            same_window = (
                old["resets_at"] is not None
                and reading.resets_at is not None
                and abs((old["resets_at"] - reading.resets_at).total_seconds()) <= 60
            )
            if (
                same_window
                and old["used_ratio"] is not None
                and old["observed_at"] < reading.observed_at
            ):
                prev_ratio, prev_at = old["used_ratio"], sql.time(old["observed_at"])
        params |= {"prev_used_ratio": prev_ratio, "prev_observed_at": prev_at}
        _upsert(sql, "quota_windows", ("provider", "kind"), params)


def set_cooldown(
    sql: SqlConnection,
    provider: str,
    access_mode: str,
    *,
    until: datetime,
    kind: str,
    reason: str | None,
    reset_known: bool,
    task_id: int | None = None,
) -> None:
    """Keep (provider, access mode) out of routing until ``until``; replaces any earlier."""
    params = {
        "provider": provider,
        "access_mode": access_mode,
        "until": sql.time(until),
        "kind": kind,
        "reason": reason,
        "reset_known": reset_known,
        "task_id": task_id,
        "created_at": sql.time(utcnow()),
    }
    with sql.transaction(write=True):
        _upsert(sql, "cooldowns", ("provider", "access_mode"), params)


def clear_cooldown(sql: SqlConnection, provider: str, access_mode: str) -> None:
    with sql.transaction(write=True):
        sql.execute(
            "DELETE FROM cooldowns WHERE provider = :provider AND access_mode = :mode",
            {"provider": provider, "mode": access_mode},
        )


def clear_cooldowns(sql: SqlConnection, provider: str, access_mode: str | None = None) -> int:
    """Remove a provider's cooldowns (of one access mode, or all); how many were active."""
    where = "provider = :provider" + (" AND access_mode = :mode" if access_mode else "")
    params = {"provider": provider, "mode": access_mode, "now": sql.time(utcnow())}
    with sql.transaction(write=True):
        ((active,),) = sql.rows(
            f"SELECT COUNT(*) FROM cooldowns WHERE {where} AND until > :now", params
        )
        sql.execute(f"DELETE FROM cooldowns WHERE {where}", params)
    return int(active)


# -- key-values ------------------------------------------------------------------------------


def set_value(sql: SqlConnection, key: str, value: dict[str, Any]) -> None:
    """Store ``value`` (JSON) under ``key``, replacing what was there."""
    params = {"key": key, "value": encode_json(value), "now": sql.time(utcnow())}
    with sql.transaction(write=True):
        sql.execute(
            f"INSERT INTO kv (key, value, updated_at) VALUES (:key, {sql.json('value')}, :now)"
            " ON CONFLICT (key) DO UPDATE SET value = excluded.value,"
            " updated_at = excluded.updated_at",
            params,
        )


def delete_value(sql: SqlConnection, key: str) -> None:
    with sql.transaction(write=True):
        sql.execute("DELETE FROM kv WHERE key = :key", {"key": key})


def take_values(sql: SqlConnection, keys: Iterable[str]) -> set[str]:
    """Which of ``keys`` exist; those are removed, in the same transaction."""
    names = {f"k{i}": key for i, key in enumerate(keys)}
    if not names:
        return set()
    listed = ", ".join(":" + n for n in names)
    with sql.transaction(write=True):
        rows = sql.rows(f"SELECT key FROM kv WHERE key IN ({listed})", names)
        found = {str(row[0]) for row in rows}
        if found:
            sql.execute(f"DELETE FROM kv WHERE key IN ({listed})", names)
    return found


# -- the queue -------------------------------------------------------------------------------


def claim_task(sql: SqlConnection, task_id: int) -> bool:
    """Take a waiting task (``reader.WAITING``) for this process: True when this call, and no
    other, got it."""
    now = sql.time(utcnow())
    with sql.transaction(write=True):
        changed = sql.execute(
            f"UPDATE tasks SET status = '{TaskStatus.RUNNING}', owner_host = :host,"
            " owner_pid = :pid, started_at = :now, updated_at = :now"
            f" WHERE id = :id AND {WAITING}",
            {"host": hostname(), "pid": os.getpid(), "now": now, "id": task_id},
        )
    return changed == 1


def cancel_queued(sql: SqlConnection, task_id: int) -> bool:
    """Cancel a task queued or parked in the queue; False when it no longer is."""
    now = sql.time(utcnow())
    with sql.transaction(write=True):
        changed = sql.execute(
            f"UPDATE tasks SET status = '{TaskStatus.CANCELLED}', error = 'cancelled by the user',"
            " exit_code = 130, finished_at = :now, updated_at = :now, parked_until = NULL"
            f" WHERE id = :id AND (status = '{TaskStatus.QUEUED}'"
            f" OR (status = '{TaskStatus.PARKED}' AND owner_pid IS NULL))",
            {"now": now, "id": task_id},
        )
    return changed == 1


def park_task(
    sql: SqlConnection, task_id: int, *, until: datetime, reason: str, in_queue: bool
) -> int:
    """Park the task until ``until`` for ``reason``; how many times it has been parked now.

    ``in_queue``: any worker pool takes it again once due (its owner is cleared, so a
    restart finds it parked, not orphaned); otherwise its process (``ado run --wait``) keeps
    it and resumes it itself. Refused (``TaskDisowned``) when the task is no longer this
    process's.
    """
    now = sql.time(utcnow())
    owner = ", owner_host = NULL, owner_pid = NULL" if in_queue else ""
    with sql.transaction(write=True):
        parked = sql.execute(
            f"UPDATE tasks SET status = '{TaskStatus.PARKED}', parked_until = :until,"
            f" park_reason = :reason, parks = parks + 1, updated_at = :now{owner}"
            f" WHERE id = :id AND {_OWNED}",
            {"until": sql.time(until), "reason": reason, "now": now, "id": task_id, **_owner()},
        )
        if not parked:
            raise TaskDisowned(task_id)
        ((parks,),) = sql.rows("SELECT parks FROM tasks WHERE id = :id", {"id": task_id})
    return int(parks)
