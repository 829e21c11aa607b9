"""``ado db check``: is a store, or a backup of one, whole and at which schema revision?

A SQLite file (the store or its backup) gets SQLite's ``PRAGMA integrity_check`` and
``foreign_key_check``; a PostgreSQL database has every table read through; a ``pg_dump``
archive is read to its end by ``pg_restore``. Each reports its schema revision against
``HEAD`` and its tables' row counts. A file SQLite cannot read at all raises
``StoreCorrupt``; damage it can describe is listed in ``CheckReport.problems``.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import quote

from ado.errors import StoreCorrupt, StoreError
from ado.store import pgtools
from ado.store.reader import HEAD, current_revision
from ado.store.sql import SqlConnection, connect, is_dbapi_error, store_error
from ado.store.urls import DbUrl, redact_url
from ado.vocab import DbKind, SchemaState

__all__ = [
    "CheckReport",
    "check_file",
    "check_store",
    "file_kind",
    "known_revisions",
    "plain_connection",
    "schema_state",
    "store_tables",
    "table_names",
]

VERSIONS_DIR = Path(__file__).parent / "migrations" / "versions"
SQLITE_MAGIC = b"SQLite format 3\x00"
PG_DUMP_MAGIC = b"PGDMP"
#: What to do with a damaged copy (not the store: its hint says how to start over).
DAMAGED_COPY_HINT = (
    "this copy cannot be restored: use another backup; to salvage its rows: "
    "sqlite3 {path} .recover | sqlite3 salvaged.db"
)
#: At most this many of SQLite's integrity messages are reported.
MAX_PROBLEMS = 20


@cache
def known_revisions() -> tuple[str, ...]:
    """Every schema revision this ADO can migrate from, oldest first (the migration files
    are named after their revision: ``0001_initial.py``)."""
    return tuple(sorted(p.name.split("_", 1)[0] for p in VERSIONS_DIR.glob("[0-9]*_*.py")))


def schema_state(revision: str | None) -> SchemaState:
    if revision is None:
        return SchemaState.NONE
    if revision == HEAD:
        return SchemaState.CURRENT
    return SchemaState.BEHIND if revision in known_revisions() else SchemaState.NEWER


def store_tables() -> frozenset[str]:
    """The tables of a store at ``HEAD`` (the models' metadata), ``alembic_version`` too."""
    from ado.store.database import Store  # noqa: F401  (maps every model)
    from ado.store.models import Base

    return frozenset({*Base.metadata.tables, "alembic_version"})


@dataclass(frozen=True, slots=True)
class CheckReport:
    #: The file, or the database's URL with its password hidden.
    target: str
    kind: DbKind
    revision: str | None
    schema: SchemaState
    #: Row count of each table (None: an archive, whose rows are not counted).
    tables: dict[str, int | None] = field(default_factory=dict)
    #: What is damaged or missing; empty when the check passed.
    problems: tuple[str, ...] = ()
    head: str = HEAD

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def tasks(self) -> int | None:
        return self.tables.get("tasks")

    def to_dict(self) -> dict[str, Any]:
        return {
            "target": self.target,
            "kind": self.kind.value,
            "revision": self.revision,
            "head": self.head,
            "schema": self.schema.value,
            "ok": self.ok,
            "problems": list(self.problems),
            "tables": self.tables,
        }


def file_kind(path: Path) -> DbKind:
    """What ``path`` holds: a SQLite file or a ``pg_dump`` archive; StoreError otherwise."""
    if not path.exists():
        raise StoreError(f"{path} does not exist")
    if path.is_dir():
        raise StoreCorrupt(f"{path} is a directory, not a backup or a SQLite database")
    try:
        with path.open("rb") as f:
            head = f.read(len(SQLITE_MAGIC))
    except OSError as exc:
        raise StoreError(f"cannot read {path}: {exc.strerror}") from exc
    if head.startswith(SQLITE_MAGIC):
        return DbKind.SQLITE
    if head.startswith(PG_DUMP_MAGIC):
        return DbKind.PG_DUMP
    what = "is empty" if not head else "is neither a SQLite database nor a pg_dump archive"
    raise StoreCorrupt(
        f"{path} {what}",
        hint="a backup is the file `ado db backup` wrote: a SQLite database, or a pg_dump "
        "archive (--format=custom)",
    )


def check_file(path: Path, *, thorough: bool = True) -> CheckReport:
    """Check a SQLite file or a ``pg_dump`` archive (a backup, or a copy of a store).

    ``thorough=False``: SQLite's ``quick_check`` (every page and record, not whether each
    index matches its table; a third of the time), what a backup checks its fresh copy with.
    """
    if file_kind(path) is DbKind.PG_DUMP:
        return _check_archive(path)
    try:
        return _check_sqlite(path, thorough=thorough)
    except StoreCorrupt as exc:
        raise StoreCorrupt(exc.message, hint=DAMAGED_COPY_HINT.format(path=path)) from exc


def check_store(url: str) -> CheckReport:
    """Check the store at ``url`` without changing it (no migration)."""
    db = DbUrl.parse(url)
    if db.dialect == "sqlite":
        if db.in_memory or db.database is None:
            raise StoreError("an in-memory store cannot be checked")
        path = Path(db.database)
        if not path.exists():
            raise StoreError(
                f"there is no store at {path} yet",
                hint="`ado db upgrade` (or any command that opens it) creates it",
            )
        if path.stat().st_size == 0:
            return CheckReport(str(path), DbKind.SQLITE, None, SchemaState.NONE)
        file_kind(path)
        return _check_sqlite(path)
    return _check_postgres(db, redact_url(url))


def _check_sqlite(path: Path, *, thorough: bool = True) -> CheckReport:
    db = DbUrl("sqlite", str(path))
    try:
        raw = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, isolation_level=None)
    except sqlite3.Error as exc:
        raise store_error(exc, db, str(path)) from exc
    try:
        sql = SqlConnection(raw, "sqlite")
        problems: list[str] = []
        pragma = "integrity_check" if thorough else "quick_check"
        found = [str(r[0]) for r in sql.rows(f"PRAGMA {pragma}({MAX_PROBLEMS})")]
        if found != ["ok"]:
            problems.extend(f"{pragma.replace('_', ' ')}: {line}" for line in found)
        orphans = sql.rows("PRAGMA foreign_key_check")
        if orphans:
            tables = sorted({str(r[0]) for r in orphans})
            problems.append(
                f"{len(orphans)} rows of {', '.join(tables)} refer to rows that do not exist"
            )
        return _report(str(path), DbKind.SQLITE, sql, sorted(table_names(sql)), problems)
    except sqlite3.Error as exc:
        raise store_error(exc, db, str(path)) from exc
    finally:
        raw.close()


def _check_postgres(db: DbUrl, redacted: str) -> CheckReport:
    with plain_connection(db, redacted) as sql:
        return _report(redacted, DbKind.POSTGRESQL, sql, sorted(table_names(sql)), [])


@contextmanager
def plain_connection(db: DbUrl, where: str) -> Iterator[SqlConnection]:
    """A DB-API connection to the store ``db`` (``ado.store.sql.connect``: no SQLAlchemy,
    a SQLite file is never created), closed afterwards; database errors → StoreError."""
    try:
        sql = SqlConnection(connect(db), db.dialect)
    except Exception as exc:
        if is_dbapi_error(exc):
            raise store_error(exc, db, where) from exc
        raise
    try:
        yield sql
    except Exception as exc:
        if is_dbapi_error(exc):
            raise store_error(exc, db, where) from exc
        raise
    finally:
        sql.raw.close()


def table_names(sql: SqlConnection) -> set[str]:
    """The tables of the database (PostgreSQL: of its current schema)."""
    if sql.dialect == "sqlite":
        query = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
    else:
        query = "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
    return {str(row[0]) for row in sql.rows(query)}


def _report(
    target: str, kind: DbKind, sql: SqlConnection, names: list[str], problems: list[str]
) -> CheckReport:
    revision = current_revision(sql)
    state = schema_state(revision)
    with sql.transaction(write=False):
        tables: dict[str, int | None] = {
            name: int(sql.rows(f'SELECT count(*) FROM "{name}"')[0][0]) for name in sorted(names)
        }
    if state is SchemaState.CURRENT:
        missing = sorted(store_tables() - set(names))
        if missing:
            problems.append(f"tables missing: {', '.join(missing)}")
    return CheckReport(target, kind, revision, state, tables, tuple(problems))


def _check_archive(path: Path) -> CheckReport:
    pgtools.find_tool("pg_restore", what=f"read {path}")
    try:
        # Reading the whole archive (into /dev/null) finds truncated or damaged data.
        pgtools.run_tool("pg_restore", ["--file", "/dev/null", str(path)], what=f"read {path}")
    except StoreError as exc:
        raise StoreCorrupt(
            f"{path} is not a usable backup: {exc.message}",
            hint="this archive cannot be restored: use another backup",
        ) from exc
    revision = pgtools.archive_revision(path)
    tables = dict.fromkeys(sorted(pgtools.archive_tables(path)), None)
    return CheckReport(str(path), DbKind.PG_DUMP, revision, schema_state(revision), tables)
