"""``ado db backup``, ``restore`` and ``upgrade``: copies of the store, and its migration.

SQLite is copied through its online backup API (``sqlite3.Connection.backup``) in one step:
one read transaction, so the copy is consistent while tasks keep writing (WAL readers do not
block writers), then switched to a self-contained rollback-journal file. PostgreSQL is
dumped by ``pg_dump --format=custom`` (one repeatable-read snapshot) and loaded by
``pg_restore`` in a single transaction. Every backup is checked (``ado.store.integrity``)
(SQLite: ``quick_check``) before it replaces ``FILE``, and every restore checks its
backup first.

A restore refuses a backup from a newer schema, a backup of the other database kind, and a
store that holds anything unless forced; forced, the replaced store is first backed up
(or, when it is damaged, moved aside), so nothing is lost. A backup from an older schema is
migrated to ``HEAD`` after it is loaded.
"""

from __future__ import annotations

import os
import sqlite3
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from urllib.parse import quote

from ado.errors import StoreCorrupt, StoreError, UsageError
from ado.host import hostname
from ado.store import pgtools
from ado.store.codec import utcnow
from ado.store.integrity import (
    CheckReport,
    check_file,
    file_kind,
    plain_connection,
    schema_state,
    store_tables,
    table_names,
)
from ado.store.orphans import pid_alive
from ado.store.reader import HEAD, current_revision
from ado.store.sql import connect, store_error
from ado.store.urls import DbUrl, redact_url
from ado.vocab import DbKind, SchemaState, TaskStatus

__all__ = [
    "BackupResult",
    "RestoreResult",
    "backup",
    "backup_name",
    "newer_schema_error",
    "restore",
    "upgrade",
]

#: ``pg_dump``: one archive with its own table of contents, restorable by any role.
DUMP_OPTIONS = ("--format=custom", "--no-owner", "--no-privileges")
#: ``pg_restore``: all or nothing, owned by the role that restores.
RESTORE_OPTIONS = ("--no-owner", "--no-privileges", "--single-transaction", "--exit-on-error")


@dataclass(frozen=True, slots=True)
class BackupResult:
    path: Path
    size: int
    #: The check of the copy: its revision and row counts.
    report: CheckReport


@dataclass(frozen=True, slots=True)
class RestoreResult:
    #: The check of the backup that was loaded (its revision as written).
    source: CheckReport
    #: The store's revision after the restore (``HEAD``: older backups are migrated).
    revision: str | None
    #: Where the replaced store went: its backup, or the damaged file moved aside.
    saved: Path | None


def newer_schema_error(what: str, revision: str | None) -> StoreError:
    return StoreError(
        f"{what} has schema revision {revision}, newer than this ADO's ({HEAD}): it was "
        "written by a newer ADO",
        hint="upgrade ADO (pip install -U ado) and run the command again",
    )


def backup_name(url: str, *, prefix: str = "ado-backup", now: datetime | None = None) -> str:
    """A file name for a backup of ``url``, stamped with the UTC time."""
    suffix = "db" if DbUrl.parse(url).dialect == "sqlite" else "dump"
    return f"{prefix}-{(now or utcnow()):%Y%m%dT%H%M%SZ}.{suffix}"


# -- backup -----------------------------------------------------------------------------------


def backup(url: str, dest: Path, *, overwrite: bool = False) -> BackupResult:
    """Copy the store at ``url`` into ``dest`` (written whole or not at all), checked."""
    db, redacted = DbUrl.parse(url), redact_url(url)
    if dest.is_dir():
        raise UsageError(f"{dest} is a directory", hint="name the backup file to write")
    if dest.exists() and not overwrite:
        raise UsageError(
            f"{dest} already exists", hint="name another file, or pass --force to overwrite it"
        )
    if not dest.parent.is_dir():
        raise UsageError(f"cannot write {dest}: {dest.parent} is not a directory")
    tmp = dest.with_name(f".{dest.name}.{os.getpid()}.tmp")
    try:
        # Owner-only from the start, as the store: it holds the API tokens' hashes and the
        # saved settings. (SQLite takes an empty file as an empty database; pg_dump keeps
        # the mode of the file it overwrites.)
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600))
        if db.dialect == "sqlite":
            _sqlite_copy(db, tmp)
        else:
            target = ["--file", str(tmp), "--dbname", pgtools.conninfo(db)]
            pgtools.run_tool(
                "pg_dump", [*DUMP_OPTIONS, *target], url=db, what=f"back up {redacted}"
            )
        report = check_file(tmp, thorough=False)
        if report.schema is SchemaState.NONE:
            raise StoreError(f"{redacted} holds no ADO store: nothing to back up")
        if not report.ok:
            raise StoreCorrupt(
                f"the copy of {db.where} is damaged: {report.problems[0]}",
                hint="the store itself may be damaged: run `ado db check`",
            )
        os.replace(tmp, dest)
    finally:
        tmp.unlink(missing_ok=True)
    return BackupResult(dest, dest.stat().st_size, replace(report, target=str(dest)))


def _sqlite_copy(db: DbUrl, dest: Path) -> None:
    if db.in_memory or db.database is None:
        raise StoreError("an in-memory store cannot be backed up")
    source = Path(db.database)
    if not source.exists():
        raise StoreError(f"there is no store at {source}: nothing to back up")
    file_kind(source)  # refuses a file that is not a SQLite database, before it is opened
    _copy_pages(lambda: connect(db), lambda: sqlite3.connect(dest), db, source, one_file=True)


def _copy_pages(
    src: Callable[[], sqlite3.Connection],
    dst: Callable[[], sqlite3.Connection],
    db: DbUrl,
    where: Path,
    *,
    one_file: bool,
) -> None:
    """Copy every page of ``src`` over ``dst`` with SQLite's backup API, in one step: one
    read transaction on ``src`` (a consistent snapshot; WAL writers go on), ``dst``'s write
    lock held meanwhile. ``one_file``: leave ``dst`` a rollback-journal file, no ``-wal``."""
    try:
        with closing(src()) as source, closing(dst()) as target:
            source.backup(target)
            if one_file:
                target.execute("PRAGMA journal_mode = DELETE")
    except sqlite3.Error as exc:
        raise store_error(exc, db, str(where)) from exc


# -- restore ----------------------------------------------------------------------------------


def restore(url: str, source: Path, *, force: bool = False, saved_dir: Path) -> RestoreResult:
    """Load the backup ``source`` into the store at ``url``, then migrate it to ``HEAD``.

    ``force``: replace a store that holds anything; it is first backed up into
    ``saved_dir`` (a damaged SQLite file is moved aside instead)."""
    db, redacted = DbUrl.parse(url), redact_url(url)
    report = check_file(source, thorough=False)
    if not report.ok:
        raise StoreCorrupt(
            f"{source} is damaged: {report.problems[0]}", hint="restore another backup"
        )
    if report.schema is SchemaState.NONE:
        raise StoreError(f"{source} is not a backup of an ADO store (it has no schema revision)")
    if report.schema is SchemaState.NEWER:
        raise newer_schema_error(str(source), report.revision)
    expected = DbKind.SQLITE if db.dialect == "sqlite" else DbKind.PG_DUMP
    if report.kind is not expected:
        raise UsageError(
            f"{source} is a {report.kind.value} backup, and the store is on {db.dialect}",
            hint="a SQLite backup restores into a SQLite store (storage.path), a pg_dump "
            "archive into PostgreSQL (storage.connectionString or ADO_DATABASE_URL)",
        )
    saved = _make_room(url, db, redacted, force=force, saved_dir=saved_dir)
    if db.dialect == "sqlite":
        _sqlite_load(db, source)
    else:
        _pg_load(db, redacted, source)
    _, after = upgrade(url)
    return RestoreResult(report, after, saved)


def _make_room(url: str, db: DbUrl, redacted: str, *, force: bool, saved_dir: Path) -> Path | None:
    """Refuse a store that holds anything (unless ``force``: save it first); what was saved."""
    try:
        revision, rows = _contents(db, redacted)
    except StoreCorrupt as exc:
        if not force:
            raise StoreCorrupt(
                exc.message, hint="pass --force to move it aside and restore into a new store"
            ) from exc
        return _move_aside(db)
    if schema_state(revision) is SchemaState.NEWER:
        raise newer_schema_error(f"the store at {db.where}", revision)
    users = _live_users(db, redacted)
    if users:
        raise UsageError(
            f"the store at {db.where} is in use by ADO processes on this host "
            f"(pid {', '.join(map(str, users))})",
            hint="stop `ado serve` and every `ado run` on this store, then restore",
        )
    if not rows:
        return None
    if not force:
        tasks = rows.get("tasks", 0)
        raise UsageError(
            f"the store at {db.where} is not empty ({tasks} tasks, "
            f"{sum(rows.values())} rows in all)",
            hint="restore into an empty store, or pass --force to replace it (it is backed "
            "up first)",
        )
    return backup(url, saved_dir / backup_name(url, prefix="ado-before-restore")).path


def _contents(db: DbUrl, redacted: str) -> tuple[str | None, dict[str, int]]:
    """The store's revision and the non-empty tables' row counts (none: no store yet)."""
    if db.dialect == "sqlite":
        if db.in_memory or db.database is None:
            raise StoreError("cannot restore into an in-memory store")
        path = Path(db.database)
        if not path.exists() or path.stat().st_size == 0:
            return None, {}
        file_kind(path)
    with plain_connection(db, redacted) as sql:
        revision = current_revision(sql)
        rows: dict[str, int] = {}
        with sql.transaction(write=False):
            for name in table_names(sql) - {"alembic_version"}:
                (count,) = sql.rows(f'SELECT count(*) FROM "{name}"')[0]
                if count:
                    rows[name] = int(count)
        return revision, rows


def _live_users(db: DbUrl, redacted: str) -> list[int]:
    """The live processes of this host using the store: worker pools (``ado serve``) and
    the owners of its running or parked tasks (``ado run``). Those of other hosts cannot be
    told alive from here."""
    if db.dialect == "sqlite" and not Path(db.database or "").exists():
        return []
    host = hostname()
    with plain_connection(db, redacted) as sql:
        tables = table_names(sql)
        pids: set[int] = set()
        with sql.transaction(write=False):
            if "workers" in tables:  # the worker registry (ado.store.registry)
                pids.update(
                    int(pid)
                    for (pid,) in sql.rows(
                        "SELECT pid FROM workers WHERE hostname = :host", {"host": host}
                    )
                )
            if "tasks" in tables:
                pids.update(
                    int(pid)
                    for (pid,) in sql.rows(
                        "SELECT DISTINCT owner_pid FROM tasks WHERE owner_host = :host"
                        f" AND owner_pid IS NOT NULL AND status IN ('{TaskStatus.RUNNING}',"
                        f" '{TaskStatus.PARKED}')",
                        {"host": host},
                    )
                )
    return sorted(pid for pid in pids if pid != os.getpid() and pid_alive(pid))


def _move_aside(db: DbUrl) -> Path:
    path = Path(db.database or "")
    moved = path.with_name(f"{path.name}.broken-{utcnow():%Y%m%dT%H%M%SZ}")
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            os.replace(part, Path(f"{moved}{suffix}"))
    return moved


def _sqlite_load(db: DbUrl, source: Path) -> None:
    """Copy ``source`` over the store through the backup API: under the store's own lock,
    so a process that has it open sees the old contents or the new, never a mix."""
    target = Path(db.database or "")
    target.parent.mkdir(parents=True, exist_ok=True)
    exists = target.exists()
    _copy_pages(
        lambda: sqlite3.connect(f"file:{quote(str(source))}?mode=ro", uri=True),
        lambda: connect(db) if exists else sqlite3.connect(target),
        db,
        target,
        one_file=False,
    )


def _pg_load(db: DbUrl, redacted: str, source: Path) -> None:
    """Drop the store's tables (they are empty, or were backed up), then ``pg_restore``."""
    pgtools.find_tool("pg_restore", what=f"restore into {redacted}")
    ours = store_tables() | pgtools.archive_tables(source)
    with plain_connection(db, redacted) as sql, sql.transaction(write=True):
        found = sorted(table_names(sql) & ours)
        if found:
            names = ", ".join(f'"{name}"' for name in found)
            sql.execute(f"DROP TABLE {names} CASCADE")
    pgtools.run_tool(
        "pg_restore",
        [*RESTORE_OPTIONS, "--dbname", pgtools.conninfo(db), str(source)],
        url=db,
        what=f"restore {source} into {redacted}",
    )


# -- upgrade ----------------------------------------------------------------------------------


def upgrade(url: str) -> tuple[str | None, str | None]:
    """Migrate the store at ``url`` to ``HEAD`` (created when missing); the revisions before
    and after. Safe to run from several processes at once: the migration takes the store's
    write lock (PostgreSQL: an advisory lock), and the later ones find nothing to do."""
    db = DbUrl.parse(url)
    if _plain_revision(db) == HEAD:
        return HEAD, HEAD  # the usual prestart: answered without importing SQLAlchemy
    from ado.store.database import Store

    if db.dialect == "sqlite" and not db.in_memory and db.database:
        Path(db.database).parent.mkdir(parents=True, exist_ok=True)
    store = Store(url)
    try:
        before = store.current_revision()
        if schema_state(before) is SchemaState.NEWER:
            raise newer_schema_error(f"the store at {db.where}", before)
        store.migrate()
        return before, store.current_revision()
    finally:
        store.close()


def _plain_revision(db: DbUrl) -> str | None:
    """The revision read on a plain DB-API connection; None when that cannot tell (no store
    yet, or an error, which ``Store`` then reports in full)."""
    try:
        with plain_connection(db, db.where) as sql:
            return current_revision(sql)
    except StoreError:
        return None
