"""Database URLs: which one the configuration names, its parts, and how to print it safely.

Plain standard library, so that the read-only path (``ado.store.reader``) never imports
SQLAlchemy; ``Store`` uses the same functions.
"""

from __future__ import annotations

import os
import re
from typing import TYPE_CHECKING

from ado.errors import ConfigError, StoreError
from ado.records import Record

if TYPE_CHECKING:
    from ado.config.loader import StrPath
    from ado.config.schema import AdoConfig

__all__ = ["DATABASE_URL_ENV", "DbUrl", "normalize_url", "redact_url", "store_url"]

DATABASE_URL_ENV = "ADO_DATABASE_URL"


def normalize_url(url: str) -> str:
    """``postgres://`` and ``postgresql://`` mean psycopg 3, the driver ADO ships with."""
    for prefix in ("postgres://", "postgresql://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    return url


def redact_url(url: str) -> str:
    """The URL with its password replaced by ``***``: safe to print and log."""
    return re.sub(r"//([^:/@]*):[^@]*@", r"//\1:***@", url, count=1)


def store_url(config: AdoConfig, base_dir: StrPath) -> str:
    """The database URL the configuration names, normalized.

    ``ADO_DATABASE_URL`` wins over ``storage.connectionString``, which wins over the SQLite
    file ``storage.path`` (relative to ``base_dir``; its directory is created).
    """
    storage = config.storage
    url = os.environ.get(DATABASE_URL_ENV, "").strip()
    if not url and storage.connection_string is not None:
        url = storage.connection_string.get_secret_value().strip()
    if not url and storage.driver == "postgresql":
        raise ConfigError(
            "storage.driver is postgresql but no connection string is set",
            key="storage.connectionString",
            expected="postgresql://user:password@host:5432/database",
            fix=f"set storage.connectionString or the {DATABASE_URL_ENV} environment variable",
        )
    if url:
        return normalize_url(url)
    # os.path, not pathlib: ``ado run`` opens the store before its agent spawns
    # (ado.config.loader)
    path = os.path.join(base_dir, os.path.expanduser(storage.path))
    folder = os.path.dirname(path)
    try:
        os.makedirs(folder, exist_ok=True)
    except OSError as exc:
        raise StoreError(
            f"cannot open {path}: cannot create {folder} ({exc.strerror})",
            hint="check storage.path in ado.config.yaml",
        ) from exc
    return "sqlite:///" + path.replace("%", "%25")


_SQLITE_FILE = "sqlite:///"
#: What makes a ``sqlite:///`` URL more than a plain path: a query, a fragment, an escape, or
#: what ``urlsplit`` removes (tabs and line breaks).
_NOT_PLAIN = "?#%\t\r\n"


class DbUrl(Record):
    """The parts of a ``sqlite:///path`` or ``postgresql+psycopg://...`` URL ADO reads."""

    __slots__ = ("dialect", "database", "host", "port", "user", "password", "query")

    def __init__(
        self,
        dialect: str,
        database: str | None,
        host: str | None = None,
        port: int | None = None,
        user: str | None = None,
        password: str | None = None,
        query: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.dialect = dialect
        #: The SQLite file (None or ``:memory:`` in memory), or the PostgreSQL database name.
        self.database = database
        self.host = host
        self.port = port
        self.user = user
        self.password = password
        self.query = query

    @classmethod
    def parse(cls, url: str) -> DbUrl:
        """Raises ValueError when ``url`` is not such a URL."""
        if url.startswith(_SQLITE_FILE) and not any(c in url for c in _NOT_PLAIN):
            # what ``store_url`` writes for a file: read as ``urlsplit`` would, without
            # loading ``urllib.parse`` (and ``ipaddress``) before ``ado run``'s agent spawns
            return cls("sqlite", url[len(_SQLITE_FILE) :] or None)
        from urllib.parse import parse_qsl, unquote, urlsplit

        parts = urlsplit(normalize_url(url))
        dialect = parts.scheme.split("+", 1)[0]
        if dialect not in ("sqlite", "postgresql"):
            raise ValueError(f"not a SQLite or PostgreSQL URL: {redact_url(url)}")
        query = tuple(parse_qsl(parts.query))
        database = unquote(parts.path[1:]) if parts.path else None
        if dialect == "sqlite":
            return cls("sqlite", database or None, query=query)
        return cls(
            "postgresql",
            database or None,
            host=parts.hostname,
            port=parts.port,
            user=unquote(parts.username) if parts.username is not None else None,
            password=unquote(parts.password) if parts.password is not None else None,
            query=query,
        )

    @property
    def in_memory(self) -> bool:
        return self.dialect == "sqlite" and self.database in (None, ":memory:")

    @property
    def where(self) -> str:
        """``host:port`` of a server, the file of SQLite: what error messages name."""
        if self.dialect == "sqlite":
            return self.database or ":memory:"
        return f"{self.host or 'localhost'}:{self.port or 5432}"
