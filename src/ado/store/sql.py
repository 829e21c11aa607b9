"""The one query layer: plain SQL over a DB-API connection, the same on SQLite and PostgreSQL.

``SqlConnection`` wraps a DB-API connection — stdlib ``sqlite3`` or psycopg, opened by
``connect()`` without SQLAlchemy, or one of ``Store``'s pooled connections — and its
dialect. Every query of the store is a function over it (``reader``, ``writes``, ``browse``,
``orphans``), so each query exists once whichever front door runs it; ``query()`` makes
such a function a method of a front door, with the function's own signature. Values cross
it through ``ado.store.codec``; database errors become ``StoreError`` in ``store_error()``.
"""

from __future__ import annotations

import os
import re
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime
from functools import cache, wraps
from typing import Any, Concatenate, ParamSpec, Protocol, TypeVar

from ado.errors import StoreCorrupt, StoreError, StoreUnavailable
from ado.store.codec import decode, encode_time, json_param
from ado.store.urls import DATABASE_URL_ENV, DbUrl

__all__ = [
    "RETRY_FOR",
    "SQLITE_BUSY_TIMEOUT_MS",
    "SqlConnection",
    "connect",
    "corrupt_store",
    "is_dbapi_error",
    "query",
    "retried",
    "retry_pauses",
    "store_error",
]

SQLITE_BUSY_TIMEOUT_MS = 10_000


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

    def execute(self, sql: str, params: Mapping[str, Any] | None = None) -> int:
        """Run ``sql``; how many rows it changed."""
        cursor = self._execute(sql, params)
        try:
            return int(cursor.rowcount)
        finally:
            cursor.close()

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

    def insert_many(
        self, table: str, columns: str, values: str, rows: Sequence[dict[str, Any]]
    ) -> list[int]:
        """Insert ``rows`` (``columns``, with ``values`` their placeholders) in one driver
        call, inside a write transaction; their new ids, in order."""
        if self.dialect == "postgresql":
            text = f"INSERT INTO {table} ({columns}) VALUES ({values}) RETURNING id"
            return [int(row[0]) for row in self.many(text, rows, returning=True)]
        # SQLite: the write transaction holds the lock, so the next ids are max(id) + 1 on
        # (what SQLite itself would pick for a table without AUTOINCREMENT); naming them
        # lets one executemany insert the batch, where RETURNING needs a call per row.
        ((last,),) = self.rows(f"SELECT coalesce(max(id), 0) FROM {table}")
        ids = list(range(int(last) + 1, int(last) + 1 + len(rows)))
        for row, new_id in zip(rows, ids, strict=True):
            row["id"] = new_id
        self.many(f"INSERT INTO {table} (id, {columns}) VALUES (:id, {values})", rows)
        return ids

    @contextmanager
    def transaction(self, *, write: bool) -> Iterator[None]:
        """One transaction; a SQLite write takes its lock up front (``BEGIN IMMEDIATE``) so it
        waits on the busy timeout instead of failing when it upgrades from reading."""
        if self.dialect == "sqlite":
            self.execute("BEGIN IMMEDIATE" if write else "BEGIN")
        elif self.raw.autocommit:  # a pooled connection lent in autocommit (ado.store.pgpool)
            if not write:  # at READ COMMITTED each statement reads its own snapshot anyway
                yield
                return
            self.execute("BEGIN")
        try:
            yield
        except BaseException:
            self._end("ROLLBACK")
            raise
        self._end("COMMIT")

    def time(self, value: datetime) -> Any:
        """``value`` as the store keeps it (``ado.store.codec``)."""
        return encode_time(value, self.dialect)

    def json(self, name: str) -> str:
        """The placeholder of parameter ``name`` holding ``codec.encode_json`` text."""
        return json_param(name, self.dialect)

    def values(self, columns: Sequence[str], row: Sequence[Any]) -> dict[str, Any]:
        """A row of ``columns`` as the views hold it (``ado.store.codec.decode``)."""
        return {c: decode(c, v) for c, v in zip(columns, row, strict=True)}

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


_P = ParamSpec("_P")
_R = TypeVar("_R")


class FrontDoor(Protocol):
    """What runs queries: ``SqlStore`` (its own connection) or ``Store`` (a pooled one)."""

    def _sql(self) -> AbstractContextManager[SqlConnection]: ...


def query(
    fn: Callable[Concatenate[SqlConnection, _P], _R],
) -> Callable[Concatenate[FrontDoor, _P], _R]:
    """A query function (``fn(sql, *args, **kwargs)``) as a method of a front door: calling
    ``door.name(*args, **kwargs)`` runs ``fn`` on ``door._sql()``. The method is the function,
    its signature and docstring included, so the two cannot drift apart; it is a plain
    function, so binding and calling it cost what a hand-written method does::

        class SqlMethods:
            get_task = query(reader.get_task)
    """

    @wraps(fn)
    def method(door: FrontDoor, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        with door._sql() as sql:
            return fn(sql, *args, **kwargs)

    return method


#: How long a write that may be retried is tried again while the database is unreachable
#: (``StoreUnavailable``: PostgreSQL restarting, a network cut), and the longest pause.
RETRY_FOR = 60.0
RETRY_PAUSE_MAX = 1.0


def retry_pauses() -> Iterator[float]:
    """The pauses between tries of a write, from 50 ms doubling to ``RETRY_PAUSE_MAX``, for
    ``RETRY_FOR`` seconds from the first; then none (give up)."""
    deadline = time.monotonic() + RETRY_FOR
    pause = 0.05
    while time.monotonic() + pause <= deadline:
        yield pause
        pause = min(pause * 2, RETRY_PAUSE_MAX)


def retried(
    fn: Callable[Concatenate[SqlConnection, _P], _R],
) -> Callable[Concatenate[FrontDoor, _P], _R]:
    """``query(fn)`` for a write that is the same done twice (an UPDATE to given values, an
    upsert): while the database is unreachable it is tried again (``retry_pauses``), so a
    task's end is recorded even when PostgreSQL restarts at that moment."""

    @wraps(fn)
    def method(door: FrontDoor, /, *args: _P.args, **kwargs: _P.kwargs) -> _R:
        pauses: Iterator[float] | None = None
        while True:
            try:
                with door._sql() as sql:
                    return fn(sql, *args, **kwargs)
            except StoreUnavailable:
                pauses = pauses or retry_pauses()
                pause = next(pauses, None)
                if pause is None:
                    raise
            time.sleep(pause)

    return method


@cache
def _pyformat(sql: str) -> str:
    return re.sub(r"(?<![:\w]):(\w+)", r"%(\1)s", sql.replace("%", "%%"))


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
        if re.search(_CORRUPT, detail, re.I) or (url.database and os.path.isdir(url.database)):
            return corrupt_store(path, detail)
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
        unreachable = invalidated or _is_transient(orig)
        return (StoreUnavailable if unreachable else StoreError)(
            f"cannot connect to PostgreSQL at {url.where}: {detail}",
            hint=f"is it running? check storage.connectionString or {DATABASE_URL_ENV} "
            f"({url_redacted})",
        )
    return StoreError(f"PostgreSQL error on {url.where}: {detail}")


#: What SQLite says of a file that is not (or no longer) a database.
_CORRUPT = r"not a database|malformed|file is encrypted|database corrupt"


def corrupt_store(path: str, detail: str) -> StoreCorrupt:
    """The error for a SQLite store that cannot be read: what it is, and how to start over."""
    hint = (
        f"move it aside (mv {path} {path}.broken) and ADO creates a new one; or set "
        "storage.path to another file"
    )
    if os.path.isdir(path):
        detail = "it is a directory"
    else:
        hint += f". To salvage its data: sqlite3 {path}.broken .recover"
    return StoreCorrupt(f"{path} is not a usable SQLite database ({detail})", hint=hint)


def _is_connect_error(orig: BaseException) -> bool:
    operational = any(c.__name__ == "OperationalError" for c in type(orig).__mro__)
    refused = getattr(orig, "sqlstate", None) in ("28P01", "28000", "3D000")
    return operational and (refused or _is_transient(orig))


#: The server shutting down (admin_shutdown, crash_shutdown) or not yet accepting connections.
_SHUTTING_DOWN = ("57P01", "57P02", "57P03")


def _is_transient(orig: BaseException) -> bool:
    """A connection refused or lost (no SQLSTATE, class 08), or the server going down or
    coming up: it passes. A wrong password or a missing database stays wrong."""
    state = getattr(orig, "sqlstate", None)
    return state is None or state.startswith("08") or state in _SHUTTING_DOWN


def sqlite_uri_path(path: str) -> str:
    """``path`` for a ``file:`` URI (``urllib.parse.quote``). A path of letters, digits and
    ``/._-~`` is its own quoted form: ``ado run`` opens the store before its agent spawns, and
    ``urllib.parse`` loads ``ipaddress`` (docs/performance.md)."""
    if _URI_PLAIN.issuperset(path):
        return path
    from urllib.parse import quote

    return quote(path)


_URI_PLAIN = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._-~")


def connect(url: DbUrl) -> Any:
    if url.dialect == "sqlite":
        if url.in_memory:
            raise sqlite3.OperationalError("unable to open an in-memory store from another process")
        # mode=rw: never create the file; Store.open does, and migrates it.
        uri = f"file:{sqlite_uri_path(url.database or '')}?mode=rw"
        conn = sqlite3.connect(
            uri,
            uri=True,
            timeout=SQLITE_BUSY_TIMEOUT_MS / 1000,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.execute("PRAGMA foreign_keys = ON")
        conn.execute("PRAGMA synchronous = NORMAL")  # as Store's connections: WAL, no fsync
        # per commit
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
