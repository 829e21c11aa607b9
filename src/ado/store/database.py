"""The store: one SQLAlchemy engine over SQLite (default) or PostgreSQL, migrated on open.

SQLite runs in WAL mode with a 10 s busy timeout so that several ADO processes (CLI runs,
the API server, the dashboard) share one file; writes start with ``BEGIN IMMEDIATE`` so two
writers queue up instead of failing. Every database error is translated into
``ado.errors.StoreError`` in ``_translate_errors()``, the one boundary, with a message that
says what to check and a URL whose password is hidden.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

from sqlalchemy import create_engine, event, make_url, text
from sqlalchemy.engine import URL, Connection, Engine
from sqlalchemy.exc import ArgumentError, DBAPIError, NoSuchModuleError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker
from sqlalchemy.pool import StaticPool

from ado.errors import StoreError
from ado.store.alerts import AlertMethods
from ado.store.browse import BrowseMethods
from ado.store.pgpool import create_pg_engine, lend
from ado.store.queue import QueueMethods
from ado.store.reader import HEAD
from ado.store.sql import SQLITE_BUSY_TIMEOUT_MS, SqlConnection, is_dbapi_error, store_error
from ado.store.tokens import TokenMethods
from ado.store.urls import DATABASE_URL_ENV, DbUrl, normalize_url, redact_url, store_url

if TYPE_CHECKING:
    from ado.config.loader import StrPath
    from ado.config.schema import AdoConfig

__all__ = ["DATABASE_URL_ENV", "HEAD", "Store", "normalize_url", "redact_url"]

MIGRATIONS_DIR = Path(__file__).parent / "migrations"
#: Key of the PostgreSQL advisory lock that serialises concurrent migrations.
_MIGRATION_LOCK = 0x0AD0_0001


class Store(QueueMethods, TokenMethods, BrowseMethods, AlertMethods):
    """Every task, attempt, event, usage record, cooldown and API token ADO persists.

    Methods are synchronous, each runs in its own transaction and returns frozen views
    (``ado.store.views``). Safe to share between threads. The task path, its reads and the
    queue are the plain-SQL ``SqlMethods`` that ``SqlStore`` runs too, here on a connection
    of the engine's pool; API tokens and the alert history use the ORM.
    """

    def __init__(self, url: str) -> None:
        url = normalize_url(url)
        self.url_redacted = redact_url(url)
        try:
            parsed = make_url(url)
        except ArgumentError as exc:
            raise StoreError(
                f"invalid database URL {self.url_redacted!r}",
                hint=f"use sqlite:///path/to/state.db or postgresql://user:pass@host/db "
                f"(storage.connectionString or {DATABASE_URL_ENV})",
            ) from exc
        self._url = parsed
        self.dialect = parsed.get_backend_name()
        if self.dialect not in ("sqlite", "postgresql"):
            raise StoreError(
                f"unsupported database {self.url_redacted!r}: ADO stores into SQLite or PostgreSQL"
            )
        self._db_url = DbUrl.parse(url)
        try:
            self._engine = _create_engine(parsed)
        except (NoSuchModuleError, ImportError) as exc:
            raise StoreError(
                f"cannot load the database driver for {self.url_redacted}: {exc}",
                hint="install PostgreSQL support with: pip install 'ado[postgresql]'",
            ) from exc
        self._reader = sessionmaker(self._engine, expire_on_commit=False)
        self._writer = sessionmaker(
            self._engine.execution_options(ado_immediate=True), expire_on_commit=False
        )

    @classmethod
    def open(cls, config: AdoConfig, base_dir: StrPath) -> Self:
        """The store the configuration names (``ado.store.urls.store_url``), migrated."""
        store = cls(store_url(config, base_dir))
        try:
            store.migrate()
        except BaseException:
            store.close()
            raise
        return store

    # -- schema ---------------------------------------------------------------------------

    def migrate(self) -> None:
        """Bring the schema to ``HEAD``; a plain query when it already is (no alembic import)."""
        with self._translate_errors():
            if self.current_revision() == HEAD:
                return
            self._upgrade()

    def _upgrade(self) -> None:
        from alembic import command
        from alembic.config import Config
        from alembic.util.exc import CommandError

        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with self._engine.connect() as conn:
            raw: Any = conn.connection.driver_connection
            if self.dialect == "sqlite":
                # Batch migrations copy tables: cascades must not fire meanwhile. The pragma
                # is a no-op inside a transaction, hence on the raw connection, before BEGIN.
                raw.execute("PRAGMA foreign_keys=OFF")
                conn.execution_options(ado_immediate=True)
            try:
                with conn.begin():
                    if self.dialect == "postgresql":
                        conn.execute(
                            text("SELECT pg_advisory_xact_lock(:key)"), {"key": _MIGRATION_LOCK}
                        )
                    config.attributes["connection"] = conn
                    command.upgrade(config, "head")
            except CommandError as exc:
                raise StoreError(
                    f"cannot migrate {self.url_redacted}: {exc}",
                    hint="the database was probably written by a newer ADO; upgrade ADO",
                ) from exc
            finally:
                if self.dialect == "sqlite":
                    raw.execute("PRAGMA foreign_keys=ON")

    # -- sessions -------------------------------------------------------------------------

    def close(self) -> None:
        self._engine.dispose()

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A write transaction, committed on success; database errors become StoreError."""
        with self._write() as session:
            yield session

    @contextmanager
    def _write(self) -> Iterator[Session]:
        with self._translate_errors(), self._writer.begin() as session:
            yield session

    @contextmanager
    def _read(self) -> Iterator[Session]:
        with self._translate_errors(), self._reader() as session:
            yield session

    @contextmanager
    def _sql(self) -> Iterator[SqlConnection]:
        """A pooled DB-API connection for the plain-SQL queries (``ado.store.methods``)."""
        with self._translate_errors():
            if self.dialect == "postgresql":  # in autocommit: a read is one round trip
                with lend(self._engine) as lent:
                    yield SqlConnection(lent, self.dialect)
                return
            raw = self._engine.raw_connection()
            try:
                yield SqlConnection(raw, self.dialect)
            finally:
                raw.close()

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except StoreError:
            raise
        except DBAPIError as exc:
            orig = exc.orig if exc.orig is not None else exc
            raise store_error(
                orig, self._db_url, self.url_redacted, invalidated=exc.connection_invalidated
            ) from exc
        except SQLAlchemyError as exc:
            if isinstance(exc.__cause__, ValueError | TypeError):
                raise exc.__cause__ from exc  # a bad argument: the caller's bug, not the DB's
            raise StoreError(f"database error on {self.url_redacted}: {exc}") from exc
        except Exception as exc:
            if is_dbapi_error(exc):  # from the plain-SQL queries, on a raw connection
                raise store_error(exc, self._db_url, self.url_redacted) from exc
            raise


def _create_engine(url: URL) -> Engine:
    if url.get_backend_name() == "postgresql":
        return create_pg_engine(url)  # no ping before each use (ado.store.pgpool)
    memory = url.database in (None, "", ":memory:")
    engine = create_engine(
        url,
        connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        **({"poolclass": StaticPool} if memory else {}),
    )
    event.listen(engine, "connect", _on_sqlite_connect)
    event.listen(engine, "begin", _on_sqlite_begin)
    return engine


def _on_sqlite_connect(dbapi_connection: Any, _record: Any) -> None:
    # Let SQLAlchemy, not the sqlite3 module, decide when transactions begin (see below).
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {SQLITE_BUSY_TIMEOUT_MS}")
        _enable_wal(cursor)
        cursor.execute("PRAGMA synchronous = NORMAL")
        cursor.execute("PRAGMA foreign_keys = ON")
    finally:
        cursor.close()


def _enable_wal(cursor: Any) -> None:
    """Switch the file to WAL (persistent); retried, as the switch ignores busy_timeout."""
    deadline = time.monotonic() + SQLITE_BUSY_TIMEOUT_MS / 1000
    while True:
        try:
            if cursor.execute("PRAGMA journal_mode").fetchone()[0] != "wal":
                cursor.execute("PRAGMA journal_mode = WAL")
            return
        except sqlite3.OperationalError as exc:
            if "locked" not in str(exc) or time.monotonic() > deadline:
                raise
            time.sleep(0.02)  # another process is switching it right now


def _on_sqlite_begin(conn: Connection) -> None:
    # A write transaction takes the lock up front, so it waits on busy_timeout instead of
    # failing with "database is locked" when it later upgrades from reading to writing.
    immediate = conn.get_execution_options().get("ado_immediate", False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")
