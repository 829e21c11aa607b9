"""The server's pool of PostgreSQL connections, tuned for round trips.

    engine = create_pg_engine(url)             # Store's engine on PostgreSQL
    with lend(engine) as raw: ...              # a pooled connection for the plain-SQL queries

Every store call of a task's start is a PostgreSQL round trip or a few, and a start makes
about twelve (docs/performance.md, "Idle submit → agent start"). What this module saves:

- **No ping before each use.** SQLAlchemy's ``pool_pre_ping`` sends a ``SELECT 1`` at every
  checkout. Here a connection is pinged only when it sat in the pool ``PING_AFTER`` seconds
  or more (a restart or an idle cut while nobody used it); one that fails is replaced, as
  with ``pool_pre_ping``. A connection lost while in use (PostgreSQL restarting between two
  calls) fails that call with ``StoreUnavailable``, which the task path's writes retry
  (``ado.store.sql.retried``); it is then dropped, and every connection opened before it
  with it, so the next call opens a new one.
- **Reads in one round trip.** The plain-SQL queries get their connection in autocommit: a
  read is its ``SELECT``, not ``BEGIN``, ``SELECT`` and the pool's ``ROLLBACK`` at return;
  a write still runs in one transaction (``SqlConnection.transaction`` says ``BEGIN``).
  PostgreSQL reads at READ COMMITTED, so a statement sees what it saw inside a transaction.
  The ORM's sessions (API tokens, the alert history) get the connection as before.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import create_engine, event
from sqlalchemy.engine import URL, Engine
from sqlalchemy.exc import DisconnectionError
from sqlalchemy.pool import PoolProxiedConnection

__all__ = ["PING_AFTER", "create_pg_engine", "lend"]

#: Seconds a connection may sit in the pool and still be used without a ping first.
PING_AFTER = 5.0
_IDLE_SINCE = "ado_idle_since"


def create_pg_engine(url: URL) -> Engine:
    """An engine whose pool pings only connections idle ``PING_AFTER`` seconds, and hands
    out the one used last (LIFO: a start's dozen calls reuse one warm connection)."""
    engine = create_engine(url, pool_use_lifo=True)
    event.listen(engine, "checkin", _on_checkin)
    event.listen(engine, "checkout", _on_checkout)
    return engine


@contextmanager
def lend(engine: Engine) -> Iterator[PoolProxiedConnection]:
    """A pooled connection in autocommit for the plain-SQL queries; back in the pool as it
    was lent (not in autocommit), or dropped when it was lost."""
    raw = engine.raw_connection()
    try:
        raw.dbapi_connection.autocommit = True  # type: ignore[union-attr]
        yield raw
    except BaseException as exc:
        if isinstance(exc, Exception) and _lost(engine, raw, exc):
            # This connection and every one opened before it: PostgreSQL went away.
            engine.pool._invalidate(raw, exc)  # what SQLAlchemy's Connection does on it
            raise
        _give_back(raw)
        raise
    _give_back(raw)


def _give_back(raw: PoolProxiedConnection) -> None:
    try:
        if raw.dbapi_connection is not None:
            raw.dbapi_connection.autocommit = False
    except Exception as exc:  # broken, or left in a transaction: not for the next caller
        raw.invalidate(exc)
        return
    raw.close()


def _lost(engine: Engine, raw: PoolProxiedConnection, exc: Exception) -> bool:
    dbapi = raw.dbapi_connection
    if dbapi is None:
        return False
    if getattr(dbapi, "closed", False) or getattr(dbapi, "broken", False):
        return True
    return bool(engine.dialect.is_disconnect(exc, dbapi, None))  # type: ignore[arg-type]


def _on_checkin(_dbapi: Any, record: Any) -> None:
    if record is not None:
        record.info[_IDLE_SINCE] = time.monotonic()


def _on_checkout(dbapi: Any, record: Any, _proxy: Any) -> None:
    idle_since = record.info.get(_IDLE_SINCE)
    if idle_since is None or time.monotonic() - idle_since < PING_AFTER:
        return  # new, or used moments ago
    try:
        dbapi.autocommit = True  # the ping alone: no BEGIN, nothing to roll back
        try:
            cursor = dbapi.cursor()
            try:
                cursor.execute("SELECT 1")
            finally:
                cursor.close()
        finally:
            dbapi.autocommit = False
    except Exception as exc:  # the pool opens a new connection in its place
        raise DisconnectionError(f"a pooled connection was lost: {exc}") from exc
