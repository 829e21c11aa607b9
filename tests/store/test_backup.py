"""Backup, restore, upgrade and check of the store, on SQLite and PostgreSQL."""

from __future__ import annotations

import socket
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from subprocess import PIPE

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from ado.errors import StoreCorrupt, StoreError, UsageError
from ado.providers.events import AgentEvent, EventKind
from ado.store import HEAD, Store
from ado.store.backup import backup, backup_name, restore, upgrade
from ado.store.database import MIGRATIONS_DIR
from ado.store.integrity import check_file, check_store, known_revisions
from ado.vocab import DbKind, SchemaState, WorkerKind, WorkerLostPolicy
from tests.fixtures.postgres import PostgresServer


@pytest.fixture
def other_url(store_url: str, request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A second empty database of the same kind as ``store_url``."""
    if store_url.startswith("sqlite"):
        (tmp_path / "other").mkdir()
        yield f"sqlite:///{tmp_path / 'other' / 'state.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    name = server.create_database()
    try:
        yield server.url(name)
    finally:
        server.drop_database(name)


@pytest.fixture
def saved_dir(tmp_path: Path) -> Path:
    path = tmp_path / "saved"
    path.mkdir()
    return path


def fill(store: Store) -> list[int]:
    """Three tasks with events, a token and a saved setting."""
    ids = []
    for i, prompt in enumerate(["first", "zweite — ünïcode ✓", "x" * 5000]):
        task_id = store.create_task(prompt=prompt, cwd="/w", hitl_policy="autonomous", options={})
        store.add_events(
            task_id, None, [AgentEvent(EventKind.TEXT, text=f"{i}-{n}") for n in range(5)]
        )
        ids.append(task_id)
    store.finish_task(ids[0], status="succeeded", result_text="DONE", exit_code=0)
    store.create_token(f"ci-{ids[0]}")
    store.set_value("settings", {"routing.strategy": "cost"})
    return ids


def contents(url: str) -> tuple[object, ...]:
    store = Store(url)
    try:
        tasks = store.list_tasks(limit=100)
        return (
            [store.get_task(t.id) for t in tasks],
            [store.list_events(t.id) for t in tasks],
            store.list_tokens(),
            store.get_value("settings"),
        )
    finally:
        store.close()


def test_restore_into_an_empty_store_gives_back_every_row(
    store: Store, store_url: str, other_url: str, tmp_path: Path
) -> None:
    fill(store)
    result = backup(store_url, tmp_path / "b")
    assert result.report.kind is (DbKind.SQLITE if "sqlite" in store_url else DbKind.PG_DUMP)
    assert result.report.revision == HEAD and result.report.ok and result.size > 0
    assert result.path.stat().st_mode & 0o777 == 0o600

    restored = restore(other_url, result.path, saved_dir=tmp_path)
    assert restored.saved is None and restored.revision == HEAD
    assert contents(other_url) == contents(store_url)
    assert check_store(other_url).ok


def test_a_store_migrated_but_empty_counts_as_empty(
    store: Store, store_url: str, other_url: str, tmp_path: Path
) -> None:
    fill(store)
    upgrade(other_url)  # what `ado serve` or `ado db upgrade` leaves: tables, no rows
    restore(other_url, backup(store_url, tmp_path / "b").path, saved_dir=tmp_path)
    assert len(contents(other_url)[0]) == 3  # type: ignore[arg-type]


def test_restore_refuses_a_store_with_data_unless_forced_and_then_keeps_a_copy(
    store: Store, store_url: str, other_url: str, tmp_path: Path, saved_dir: Path
) -> None:
    fill(store)
    copy = backup(store_url, tmp_path / "b").path
    other = Store(other_url)
    other.migrate()
    other.create_task(prompt="precious", cwd="/", hitl_policy="autonomous", options={})
    other.close()

    with pytest.raises(UsageError, match=r"not empty \(1 tasks") as refused:
        restore(other_url, copy, saved_dir=tmp_path)
    assert "--force" in str(refused.value)
    assert [t.prompt for t in contents(other_url)[0]] == ["precious"]  # type: ignore[attr-defined]

    result = restore(other_url, copy, force=True, saved_dir=saved_dir)
    assert contents(other_url) == contents(store_url)
    # What was replaced was backed up first, and restores.
    assert result.saved is not None and result.saved.parent == saved_dir
    assert check_file(result.saved).revision == HEAD
    restore(other_url, result.saved, force=True, saved_dir=tmp_path)
    assert [t.prompt for t in contents(other_url)[0]] == ["precious"]  # type: ignore[attr-defined]


def test_restore_refuses_a_backup_from_a_newer_schema(
    store: Store, store_url: str, other_url: str, tmp_path: Path, saved_dir: Path
) -> None:
    fill(store)
    with store.session() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer = backup(store_url, tmp_path / "newer").path
    assert check_file(newer).schema is SchemaState.NEWER
    other = Store(other_url)
    other.migrate()
    other.create_task(prompt="precious", cwd="/", hitl_policy="autonomous", options={})
    other.close()

    with pytest.raises(StoreError, match="9999, newer than this ADO's") as refused:
        restore(other_url, newer, force=True, saved_dir=saved_dir)
    assert "upgrade ADO" in str(refused.value)
    assert [t.prompt for t in contents(other_url)[0]] == ["precious"]  # type: ignore[attr-defined]
    assert list(saved_dir.iterdir()) == []
    with pytest.raises(StoreError, match="newer than this ADO's"):
        upgrade(store_url)


def test_an_older_backup_is_migrated_when_restored(
    store: Store, store_url: str, other_url: str, tmp_path: Path
) -> None:
    fill(store)
    previous = known_revisions()[-2]
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.session() as session:
        config.attributes["connection"] = session.connection()
        command.downgrade(config, previous)
    old = backup(store_url, tmp_path / "old")
    assert old.report.revision == previous and old.report.schema is SchemaState.BEHIND

    result = restore(other_url, old.path, saved_dir=tmp_path)
    assert result.source.revision == previous and result.revision == HEAD
    assert contents(other_url) == contents(_upgraded(store_url))


def _upgraded(url: str) -> str:
    assert upgrade(url)[1] == HEAD
    return url


def test_backup_never_overwrites_a_file_unless_forced(
    store: Store, store_url: str, tmp_path: Path
) -> None:
    dest = tmp_path / "b"
    dest.write_text("keep me")
    with pytest.raises(UsageError, match="already exists"):
        backup(store_url, dest)
    assert dest.read_text() == "keep me"
    backup(store_url, dest, overwrite=True)
    assert check_file(dest).revision == HEAD
    assert [p.name for p in tmp_path.iterdir() if p.name.startswith(".")] == []


def test_a_backup_restores_only_into_its_own_kind_of_store(
    tmp_path: Path, postgres_url: str
) -> None:
    sqlite_url = f"sqlite:///{tmp_path / 'state.db'}"
    upgrade(sqlite_url)
    copy = backup(sqlite_url, tmp_path / "b.db").path
    with pytest.raises(UsageError, match="is a sqlite backup, and the store is on postgresql"):
        restore(postgres_url, copy, saved_dir=tmp_path)
    upgrade(postgres_url)
    archive = backup(postgres_url, tmp_path / "b.dump").path
    with pytest.raises(UsageError, match="is a pg_dump backup, and the store is on sqlite"):
        restore(sqlite_url, archive, saved_dir=tmp_path)


def test_backup_names_carry_the_time_and_the_kind() -> None:
    assert backup_name("sqlite:///x.db").startswith("ado-backup-")
    assert backup_name("sqlite:///x.db").endswith(".db")
    assert backup_name("postgresql://u@h/d").endswith(".dump")


def test_known_revisions_end_at_head() -> None:
    assert known_revisions()[-1] == HEAD and known_revisions()[0] == "0001"


# -- damaged files ----------------------------------------------------------------------------


@pytest.fixture
def sqlite_copy(tmp_path: Path) -> Path:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = Store(url)
    store.migrate()
    for _ in range(50):
        fill(store)
    store.close()
    return backup(url, tmp_path / "copy.db").path


def test_check_finds_a_sqlite_copy_with_damaged_pages(sqlite_copy: Path, tmp_path: Path) -> None:
    page = 4096
    raw = bytearray(sqlite_copy.read_bytes())
    assert len(raw) > 20 * page
    for n in range(3, len(raw) // page, 3):  # every third page after the schema's
        raw[n * page + 8 : n * page + 200] = b"\xa5" * 192
    sqlite_copy.write_bytes(bytes(raw))
    with pytest.raises(StoreCorrupt, match=r"copy\.db") as damaged:
        check_file(sqlite_copy)
    assert "use another backup" in str(damaged.value)
    with pytest.raises(StoreCorrupt):
        restore(f"sqlite:///{tmp_path / 'new.db'}", sqlite_copy, saved_dir=tmp_path)
    assert not (tmp_path / "new.db").exists()


def test_check_finds_a_truncated_sqlite_copy(sqlite_copy: Path) -> None:
    raw = sqlite_copy.read_bytes()
    sqlite_copy.write_bytes(raw[: len(raw) // 2])
    with pytest.raises(StoreCorrupt, match=r"copy\.db"):
        check_file(sqlite_copy)


def test_check_reports_rows_that_refer_to_missing_ones(sqlite_copy: Path) -> None:
    conn = sqlite3.connect(sqlite_copy)
    conn.execute("PRAGMA foreign_keys = OFF")
    conn.execute("DELETE FROM tasks WHERE id = 1")
    conn.commit()
    conn.close()
    report = check_file(sqlite_copy)
    assert not report.ok
    assert "events refer to rows that do not exist" in report.problems[0]


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "is empty"), (b"hello, world\n" * 100, "neither a SQLite database nor a pg_dump")],
)
def test_a_file_that_is_no_backup_is_refused(tmp_path: Path, content: bytes, message: str) -> None:
    path = tmp_path / "notes.txt"
    path.write_bytes(content)
    with pytest.raises(StoreCorrupt, match=message):
        check_file(path)
    with pytest.raises(StoreCorrupt, match=message):
        restore(f"sqlite:///{tmp_path / 'new.db'}", path, saved_dir=tmp_path)


def test_check_finds_a_truncated_pg_dump_archive(postgres_url: str, tmp_path: Path) -> None:
    store = Store(postgres_url)
    store.migrate()
    for _ in range(30):
        fill(store)
    store.close()
    archive = backup(postgres_url, tmp_path / "b.dump").path
    raw = archive.read_bytes()
    archive.write_bytes(raw[: len(raw) * 2 // 3])
    with pytest.raises(StoreCorrupt, match=r"is not a usable backup: .*pg_restore failed"):
        check_file(archive)


def test_a_damaged_sqlite_store_is_moved_aside_by_a_forced_restore(
    sqlite_copy: Path, tmp_path: Path
) -> None:
    store_path = tmp_path / "live" / "state.db"
    store_path.parent.mkdir()
    store_path.write_bytes(b"SQLite format 3\x00" + b"\x00" * 5000)
    url = f"sqlite:///{store_path}"
    with pytest.raises(StoreCorrupt, match="--force to move it aside"):
        restore(url, sqlite_copy, saved_dir=tmp_path)
    result = restore(url, sqlite_copy, force=True, saved_dir=tmp_path)
    assert result.saved is not None and result.saved.name.startswith("state.db.broken-")
    assert result.saved.read_bytes().startswith(b"SQLite format 3\x00")
    assert check_store(url).ok and check_store(url).tasks == 150


def test_restore_refuses_a_store_a_live_worker_pool_uses(
    store: Store, store_url: str, other_url: str, tmp_path: Path, saved_dir: Path
) -> None:
    fill(store)
    copy = backup(store_url, tmp_path / "b").path
    pool = subprocess.Popen([sys.executable, "-c", "import sys; sys.stdin.read()"], stdin=PIPE)
    other = Store(other_url)
    other.migrate()
    for host, pid in ((socket.gethostname(), pool.pid), ("another-host", 1)):
        # another host's pool cannot be told alive from here: not counted
        other.register_worker(
            hostname=host,
            pid=pid,
            kind=WorkerKind.SERVE,
            concurrency=1,
            queues=(),
            on_lost=WorkerLostPolicy.INTERRUPT,
            timeout=3600,
        )
    other.close()
    try:
        with pytest.raises(UsageError, match=rf"on this host \(pid {pool.pid}\)"):
            restore(other_url, copy, force=True, saved_dir=saved_dir)
        assert list(saved_dir.iterdir()) == []
    finally:
        pool.communicate(b"")
    # The pool's process is gone (a crash leaves its row behind): the restore goes ahead.
    restore(other_url, copy, force=True, saved_dir=saved_dir)
    assert contents(other_url) == contents(store_url)
