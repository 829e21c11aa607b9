"""``SqlStore``: the store without SQLAlchemy, for the commands that must start at once.

``ado status`` answers in well under a second with 100,000 tasks, and ``ado run`` spawns its
agent within ~150 ms of its exec (docs/performance.md); importing SQLAlchemy and mapping the
models alone costs more than either budget. ``SqlStore`` runs the store's plain-SQL methods
(``ado.store.methods``) on its own connection; ``Store`` runs the same methods on its pool's.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Self

from ado.errors import StoreError
from ado.store.queue import QueueMethods
from ado.store.reader import HEAD
from ado.store.sql import SqlConnection, connect, is_dbapi_error, store_error
from ado.store.urls import DbUrl, normalize_url, redact_url, store_url

if TYPE_CHECKING:
    from ado.config.loader import StrPath
    from ado.config.schema import AdoConfig

__all__ = ["SqlStore"]


class SqlStore(QueueMethods):
    """The store on one plain DB-API connection (stdlib ``sqlite3``, or psycopg): the task
    path, its reads and the queue (``SqlMethods``), the same methods and views as ``Store``,
    without importing SQLAlchemy. What ``ado status`` reads and ``ado run`` writes through.
    It never migrates: ``open()`` refuses a store that is not at ``HEAD``."""

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
            self._conn = SqlConnection(connect(self._url), self.dialect)
        self._lock = threading.RLock()

    @classmethod
    def open(cls, config: AdoConfig, base_dir: StrPath, *, sweep: bool = True) -> Self | None:
        """A store on the database the configuration names, with orphaned tasks marked
        interrupted (unless not ``sweep``: ``ado run`` sweeps once its agent has spawned);
        None when it cannot serve: no database yet, a schema not at ``HEAD``
        (``Store.open`` migrates it), or any error (``Store.open`` reports it)."""
        url = store_url(config, base_dir)
        try:
            store = cls(url)
        except StoreError:
            return None
        try:
            if store.current_revision() != HEAD:
                store.close()
                return None
            if sweep:
                store.mark_orphans_interrupted()
        except (StoreError, ValueError):
            store.close()
            return None
        return store

    def close(self) -> None:
        self._conn.raw.close()

    @contextmanager
    def _sql(self) -> Iterator[SqlConnection]:
        """The connection, one thread at a time (the runner writes from worker threads); a
        PostgreSQL connection lost (a restart, a network cut) is opened again."""
        with self._lock, self._translate_errors():
            if self.dialect == "postgresql" and self._conn.raw.closed:
                self._conn = SqlConnection(connect(self._url), self.dialect)
            yield self._conn

    @contextmanager
    def _translate_errors(self) -> Iterator[None]:
        try:
            yield
        except Exception as exc:
            if is_dbapi_error(exc):
                raise store_error(exc, self._url, self.url_redacted) from exc
            raise
