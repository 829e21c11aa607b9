"""The store's hot read path in plain SQL over a DB-API connection: no SQLAlchemy import.

``ado status`` must answer in well under a second with 100,000 tasks stored; importing
SQLAlchemy and mapping the models costs more than that budget on a slow machine, while the
queries take ~10 ms. So the queries status needs are written here once, in plain SQL, as
functions over ``SqlConnection`` (a DB-API connection and its dialect):

- ``StoreReader`` runs them on its own connection: stdlib ``sqlite3`` for SQLite URLs,
  psycopg for PostgreSQL URLs;
- ``Store`` runs the very same functions on a connection of its engine's pool.

What SQLAlchemy wrote, read back the same way: on SQLite, times are naive UTC text
``YYYY-MM-DD HH:MM:SS.ffffff``, JSON is text and booleans are 0/1; on PostgreSQL, times are
``timestamp without time zone`` (naive UTC) and JSON comes back decoded. Every time handed
out is timezone-aware UTC. Database errors become ``StoreError`` in ``store_error()``, the
one translation both paths share.
"""

from __future__ import annotations

import json
import os
import re
import socket
import sqlite3
import sys
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import fields
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self
from urllib.parse import quote

from ado.errors import StoreError
from ado.providers.orphans import kill_orphaned_group
from ado.providers.sanitize import clean_value, needs_cleaning
from ado.store.urls import DATABASE_URL_ENV, DbUrl, normalize_url, redact_url, store_url
from ado.store.views import CooldownView, EventView, ReportRow, TaskView, UsageTotals

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig

__all__ = ["HEAD", "SqlConnection", "StoreReader", "store_error"]

#: The newest migration in ``ado/store/migrations/versions``; a test keeps them in step.
HEAD = "0006"
SQLITE_BUSY_TIMEOUT_MS = 10_000
#: How SQLAlchemy's SQLite ``DateTime`` writes a time (always with microseconds).
_SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"

_TASK_COLUMNS = tuple(f.name for f in fields(TaskView) if f.name != "attempts")
_COOLDOWN_COLUMNS = tuple(f.name for f in fields(CooldownView))
_EVENT_COLUMNS = tuple(f.name for f in fields(EventView))
#: ``data`` read as its JSON text on both databases, so a stored lone surrogate or NUL
#: escape can be seen (and cleaned) before it is decoded.
_EVENT_SELECT = ", ".join("CAST(data AS TEXT)" if c == "data" else c for c in _EVENT_COLUMNS)
_EVENT_DATA = _EVENT_COLUMNS.index("data")
_TIMES = frozenset({"created_at", "started_at", "finished_at", "updated_at", "until", "reset_at"})
_JSONS = frozenset({"options", "files_changed", "data"})
_BOOLS = frozenset({"reset_known"})


class SqlConnection:
    """A DB-API connection (sqlite3 with ``isolation_level=None``, or psycopg) and its dialect.

    SQL is written once with ``:name`` parameters; psycopg gets them as ``%(name)s``.
    """

    def __init__(self, raw: Any, dialect: str) -> None:
        self.raw = raw
        self.dialect = dialect

    def rows(self, sql: str, params: Mapping[str, Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self._execute(sql, params)
        try:
            return [tuple(row) for row in cursor.fetchall()]
        finally:
            cursor.close()

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> None:
        self._execute(sql, params).close()

    def many(
        self, sql: str, params: Sequence[Mapping[str, Any]], *, returning: bool = False
    ) -> list[tuple[Any, ...]]:
        """``sql`` once per set of ``params`` in one driver call; with ``returning``
        (PostgreSQL only: sqlite3's ``executemany`` refuses RETURNING), the first row each
        execution returned, in order."""
        if returning and self.dialect != "postgresql":
            raise ValueError("RETURNING with executemany needs PostgreSQL")
        cursor = self.raw.cursor()
        try:
            if self.dialect != "postgresql":
                cursor.executemany(sql, params)
                return []
            cursor.executemany(_pyformat(sql), params, returning=returning)
            found: list[tuple[Any, ...]] = []
            while returning:
                found.append(tuple(cursor.fetchone()))
                if not cursor.nextset():
                    break
            return found
        finally:
            cursor.close()

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        """One transaction; a SQLite write takes its lock up front (``BEGIN IMMEDIATE``) so it
        waits on the busy timeout instead of failing when it upgrades from reading."""
        if self.dialect == "sqlite":
            self.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        try:
            yield
        except BaseException:
            self._end("ROLLBACK")
            raise
        self._end("COMMIT")

    def time(self, value: datetime) -> Any:
        """``value`` as the store keeps it: naive UTC (text on SQLite)."""
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store; use ado.store.models.utcnow()")
        naive = value.astimezone(UTC).replace(tzinfo=None)
        return naive.strftime(_SQLITE_TIME) if self.dialect == "sqlite" else naive

    def value(self, column: str, value: Any) -> Any:
        """A stored value of ``column`` as the views hold it."""
        if value is None:
            return None
        if column in _TIMES:
            if isinstance(value, str):
                value = datetime.fromisoformat(value)
            return value.replace(tzinfo=UTC)
        if column in _JSONS:
            return json.loads(value) if isinstance(value, str | bytes) else value
        if column in _BOOLS:
            return bool(value)
        return value

    def _execute(self, sql: str, params: Mapping[str, Any] | None) -> Any:
        cursor = self.raw.cursor()
        try:
            if self.dialect == "postgresql":
                cursor.execute(_pyformat(sql), params or {})
            else:
                cursor.execute(sql, params or {})
        except BaseException:
            cursor.close()
            raise
        return cursor

    def _end(self, verb: str) -> None:
        if self.dialect == "sqlite":
            if self.raw.in_transaction:
                self.execute(verb)
        elif verb == "COMMIT":
            self.raw.commit()
        else:
            self.raw.rollback()


@cache
def _pyformat(sql: str) -> str:
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


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


def events(
    sql: SqlConnection, *, after_id: int, limit: int, task_id: int | None = None
) -> list[EventView]:
    """Events after ``after_id`` (of one task, or of all: what live views poll), oldest first."""
    where = "id > :after" + (" AND task_id = :task_id" if task_id is not None else "")
    query = f"SELECT {_EVENT_SELECT} FROM events WHERE {where} ORDER BY id LIMIT :limit"
    with sql.transaction(write=False):
        found = sql.rows(query, {"after": after_id, "task_id": task_id, "limit": limit})
    views = []
    for row in found:
        values = _values(sql, _EVENT_COLUMNS, row)
        if needs_cleaning(row[_EVENT_DATA]):
            # stored before agent text was cleaned where it enters (ado.providers.sanitize)
            values["data"] = clean_value(values["data"])
        views.append(EventView(**values))
    return views


def tasks_where(
    sql: SqlConnection,
    where: list[str],
    params: Mapping[str, Any],
    limit: int = 1000,
    *,
    newest_first: bool = False,
) -> list[TaskView]:
    """Tasks (without attempts) matching every clause of ``where``, by id."""
    order = "DESC" if newest_first else "ASC"
    query = (
        f"SELECT {', '.join(_TASK_COLUMNS)} FROM tasks{_where(where)}"
        f" ORDER BY id {order} LIMIT :limit"
    )
    with sql.transaction(write=False):
        found = sql.rows(query, {**params, "limit": limit})
    return [TaskView(**_values(sql, _TASK_COLUMNS, row)) for row in found]


def get_value(sql: SqlConnection, key: str) -> dict[str, Any] | None:
    """The key-value row ``key`` (saved settings, provider switches...), or None."""
    rows = sql.rows("SELECT value FROM kv WHERE key = :key", {"key": key})
    if not rows:
        return None
    value = rows[0][0]
    decoded: dict[str, Any] | None = json.loads(value) if isinstance(value, str) else value
    return decoded


def cooldowns(sql: SqlConnection, now: datetime) -> list[CooldownView]:
    """The cooldowns still running at ``now``."""
    query = (
        f"SELECT {', '.join(_COOLDOWN_COLUMNS)} FROM cooldowns WHERE until > :now"
        " ORDER BY provider, access_mode"
    )
    with sql.transaction(write=False):
        found = sql.rows(query, {"now": sql.time(now)})
    return [CooldownView(**_values(sql, _COOLDOWN_COLUMNS, row)) for row in found]


def usage_totals(
    sql: SqlConnection, provider: str, access_mode: str, since: datetime
) -> UsageTotals:
    """What one (provider, access mode) used since ``since``: what limits are checked on."""
    query = (
        "SELECT coalesce(sum(requests), 0),"
        " coalesce(sum(input_tokens + output_tokens + cache_read_tokens + cache_write_tokens), 0),"
        " coalesce(sum(cost_usd), 0.0), coalesce(sum(api_cost_usd), 0.0)"
        " FROM usage_records"
        " WHERE provider = :provider AND access_mode = :access_mode AND created_at >= :since"
    )
    params = {"provider": provider, "access_mode": access_mode, "since": sql.time(since)}
    with sql.transaction(write=False):
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


def mark_orphans_interrupted(sql: SqlConnection) -> int:
    """Mark 'interrupted' the running tasks of this host whose ADO process is gone.

    A task with no owner counts as orphaned too; the process groups of their running agents
    are stopped. Returns how many tasks were marked. Takes the write lock only when there
    are some, so ``ado status`` does not queue behind a running ``ado run`` for nothing.
    Their unfinished notifications are marked abandoned too (``ado.store.alert_orphans``).
    """
    from ado.store.alert_orphans import abandon_orphaned_alerts

    abandon_orphaned_alerts(sql, _pid_alive)
    with sql.transaction(write=False):
        if not _orphans(sql):
            return 0
    now = sql.time(datetime.now(UTC))
    with sql.transaction(write=True):
        orphans = _orphans(sql)
        for task_id, pid in orphans:
            owner = pid if pid is not None else "(unknown)"
            sql.execute(
                "UPDATE tasks SET status = 'interrupted', finished_at = :now, updated_at = :now,"
                " error = :error WHERE id = :id AND status = 'running'",
                {"now": now, "id": task_id, "error": f"ADO process {owner} exited while the "
                 "task was running"},
            )  # fmt: skip
            running = "task_id = :id AND outcome = 'running'"
            for agent_pid, mark in sql.rows(
                f"SELECT agent_pid, agent_mark FROM attempts WHERE {running}"
                " AND agent_pid IS NOT NULL",
                {"id": task_id},
            ):
                kill_orphaned_group(int(agent_pid), mark)
            sql.execute(
                f"UPDATE attempts SET outcome = 'interrupted', finished_at = :now WHERE {running}",
                {"now": now, "id": task_id},
            )
        return len(orphans)


def _orphans(sql: SqlConnection) -> list[tuple[int, int | None]]:
    host = socket.gethostname()
    return [
        (task_id, pid)
        for task_id, owner_host, pid in sql.rows(
            "SELECT id, owner_host, owner_pid FROM tasks WHERE status = 'running' ORDER BY id"
        )
        if pid is None or owner_host is None or (owner_host == host and not _pid_alive(pid))
    ]


def _pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True


def _unindexed(column: str, since: datetime | None) -> str:
    """``column || ''`` when a time range is asked: the same value, but not the indexed column.

    Grouping a time-range query by an indexed column makes SQLite walk that index over the
    whole table (to skip a sort) instead of searching the ``created_at`` range: with 100k
    tasks, ~100 ms instead of ~1 ms for today's figures in ``ado status``.
    """
    return column if since is None else f"{column} || ''"


def _where(clauses: list[str]) -> str:
    return f" WHERE {' AND '.join(clauses)}" if clauses else ""


def _values(sql: SqlConnection, columns: tuple[str, ...], row: tuple[Any, ...]) -> dict[str, Any]:
    return {column: sql.value(column, value) for column, value in zip(columns, row, strict=True)}


def _empty_row(**values: Any) -> dict[str, Any]:
    row: dict[str, Any] = dict.fromkeys(
        ("tasks", "attempts", "requests", "input_tokens", "output_tokens", "cache_read_tokens"),
        0,
    )
    row.update(cache_write_tokens=0, cost_usd=0.0, api_cost_usd=0.0)
    row.update(values)
    return row


# -- errors ---------------------------------------------------------------------------------


def is_dbapi_error(exc: BaseException) -> bool:
    """An error raised by the sqlite3 module or psycopg."""
    if isinstance(exc, sqlite3.Error):
        return True
    psycopg = sys.modules.get("psycopg")
    return psycopg is not None and isinstance(exc, psycopg.Error)


def store_error(
    orig: BaseException, url: DbUrl, url_redacted: str, *, invalidated: bool = False
) -> StoreError:
    """The StoreError for a database error, with what to check; the password scrubbed."""
    detail = str(orig).strip().splitlines()[0] if str(orig).strip() else type(orig).__name__
    if url.password:
        detail = detail.replace(url.password, "***")
    if url.dialect == "sqlite":
        path = url.where
        if "unable to open" in detail or "readonly" in detail or "disk I/O" in detail:
            return StoreError(
                f"cannot open {path}: {detail}",
                hint="check storage.path and that its directory is writable",
            )
        if "locked" in detail or "busy" in detail:
            return StoreError(
                f"{path} stayed locked for {SQLITE_BUSY_TIMEOUT_MS // 1000} s: {detail}",
                hint="another ADO process holds a long write; retry, or use PostgreSQL",
            )
        return StoreError(f"SQLite error on {path}: {detail}")
    if invalidated or _is_connect_error(orig):
        return StoreError(
            f"cannot connect to PostgreSQL at {url.where}: {detail}",
            hint=f"is it running? check storage.connectionString or {DATABASE_URL_ENV} "
            f"({url_redacted})",
        )
    return StoreError(f"PostgreSQL error on {url.where}: {detail}")


def _is_connect_error(orig: BaseException) -> bool:
    return type(orig).__name__ == "OperationalError" and getattr(orig, "sqlstate", None) in (
        None,
        "08001",
        "08006",
        "28P01",
        "28000",
        "3D000",
    )


# -- the reader -----------------------------------------------------------------------------


class StoreReader:
    """What ``ado status`` reads, on a plain DB-API connection; same methods and views as
    ``Store``. It never migrates: ``open()`` refuses a store that is not at ``HEAD``."""

    def __init__(self, url: str) -> None:
        url = normalize_url(url)
        self.url_redacted = redact_url(url)
        try:
            self._url = DbUrl.parse(url)
        except ValueError as exc:
            raise StoreError(
                f"unsupported database {self.url_redacted!r}: ADO stores into SQLite or PostgreSQL"
            ) from exc
        self.dialect = self._url.dialect
        with self._translate_errors():
            self._sql = SqlConnection(_connect(self._url), self.dialect)

    @classmethod
    def open(cls, config: AdoConfig, base_dir: Path) -> Self | None:
        """A reader on the store the configuration names, with orphaned tasks marked
        interrupted; None when it cannot serve: no database yet, a schema not at ``HEAD``
        (``Store.open`` migrates it), or any error (``Store.open`` reports it)."""
        url = store_url(config, base_dir)
        try:
            reader = cls(url)
        except StoreError:
            return None
        try:
            if reader.current_revision() != HEAD:
                reader.close()
                return None
            reader.mark_orphans_interrupted()
        except (StoreError, ValueError):
            reader.close()
            return None
        return reader

    def close(self) -> None:
        self._sql.raw.close()

    def current_revision(self) -> str | None:
        with self._translate_errors():
            return current_revision(self._sql)

    def list_tasks(
        self,
        *,
        limit: int = 20,
        status: str | None = None,
        provider: str | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
    ) -> list[TaskView]:
        """Newest first, without attempts; page on with ``before_id=<last id>``."""
        with self._translate_errors():
            return list_tasks(
                self._sql,
                limit=limit,
                status=status,
                provider=provider,
                since=since,
                before_id=before_id,
            )

    def cooldowns(self, now: datetime) -> list[CooldownView]:
        with self._translate_errors():
            return cooldowns(self._sql, now)

    def get_value(self, key: str) -> dict[str, Any] | None:
        with self._translate_errors():
            return get_value(self._sql, key)

    def usage_totals(self, provider: str, access_mode: str, since: datetime) -> UsageTotals:
        with self._translate_errors():
            return usage_totals(self._sql, provider, access_mode, since)

    def usage_report(self, since: datetime | None, provider: str | None = None) -> list[ReportRow]:
        with self._translate_errors():
            return usage_report(self._sql, since, provider)

    def task_status_counts(self, since: datetime | None = None) -> dict[str, int]:
        with self._translate_errors():
            return task_status_counts(self._sql, since)

    def mark_orphans_interrupted(self) -> int:
        with self._translate_errors():
            return mark_orphans_interrupted(self._sql)

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if is_dbapi_error(exc):
                raise store_error(exc, self._url, self.url_redacted) from exc
            raise


def _connect(url: DbUrl) -> Any:
    if url.dialect == "sqlite":
        if url.in_memory:
            raise sqlite3.OperationalError("unable to open an in-memory store from another process")
        # mode=rw: never create the file; Store.open does, and migrates it.
        uri = f"file:{quote(url.database or '')}?mode=rw"
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA foreign_keys = ON")
        return conn
    try:
        import psycopg
    except ImportError as exc:
        raise StoreError(
            f"cannot load the database driver for PostgreSQL: {exc}",
            hint="install PostgreSQL support with: pip install 'ado[postgresql]'",
        ) from exc
    params: dict[str, Any] = {"dbname": url.database, "user": url.user, "password": url.password}
    params.update(host=url.host, port=url.port, **dict(url.query))
    return psycopg.connect(**{k: v for k, v in params.items() if v is not None})
