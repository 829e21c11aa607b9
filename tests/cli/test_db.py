"""``ado db backup|restore|upgrade|check`` run as the real command, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
import re
import shutil
import signal
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ado.store import DATABASE_URL_ENV, HEAD, Store
from ado.store.integrity import check_file
from tests.fixtures.ado import FakeCursor, Project
from tests.fixtures.postgres import PostgresServer
from tests.support import wait_for

#: Events a writer commits per transaction: a consistent copy holds a multiple of it.
BATCH = 10

WRITER = textwrap.dedent(f"""\
    import sys
    from pathlib import Path
    from ado.providers.events import AgentEvent, EventKind
    from ado.store import Store
    store = Store(sys.argv[1])
    task_id = store.create_task(prompt="busy", cwd="/", hitl_policy="autonomous", options={{}})
    started, stop = Path(sys.argv[2]), Path(sys.argv[3])
    n = 0
    while not stop.exists():
        store.add_events(task_id, None, [AgentEvent(EventKind.TEXT, text=f"{{n}}-{{i}}" * 50)
                                         for i in range({BATCH})])
        n += 1
        if n == 20:
            started.touch()
    store.close()
""")


def traceback_free(proc: subprocess.CompletedProcess[str]) -> str:
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.stderr


def test_backup_while_a_task_runs_then_restore_into_an_empty_store(
    project: Project, fake_cursor: FakeCursor, tmp_path: Path
) -> None:
    project.write_config({"cursor-agent": fake_cursor("hang")})
    runner = project.popen("run", "never ends")
    try:
        wait_for((project.root / ".ado" / "state.db").exists, what="the store")
        store = project.store()

        def running() -> int | None:
            tasks = store.list_tasks(status="running")
            task = store.get_task(tasks[0].id) if tasks else None
            return task.id if task and task.attempts and store.list_events(task.id) else None

        task_id = wait_for(running, what="the agent to start")
        store.close()
        out = project.run("db", "backup", "copy.db", check_code=0).stdout
        assert "Backed up the store to copy.db" in out and "1 tasks" in out
        assert runner.poll() is None  # the run went on meanwhile
        # Restoring under the running `ado run` is refused, even forced, naming it.
        refused = project.run("db", "restore", "copy.db", "--force", check_code=2)
        assert f"in use by ADO processes on this host (pid {runner.pid})" in traceback_free(refused)
        assert "stop `ado serve` and every `ado run`" in refused.stderr
        assert list(project.root.glob("ado-before-restore-*")) == []
    finally:
        # Ctrl-C, as a user would: `ado run` stops its agent (a SIGKILL would leave the
        # hanging agent, in its own process group, running after the test).
        runner.send_signal(signal.SIGINT)
        try:
            runner.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            runner.kill()
            runner.communicate()

    copy = project.root / "copy.db"
    assert check_file(copy).ok and check_file(copy).revision == HEAD
    assert not Path(f"{copy}-wal").exists()  # one self-contained file

    other = Project(tmp_path / "elsewhere")
    other.root.mkdir()
    other.write_config({"cursor-agent": fake_cursor()})
    out = other.run("db", "restore", str(copy), check_code=0).stdout
    assert f"Restored {copy} (1 tasks, schema {HEAD})" in out
    task = other.task(task_id)
    assert task.prompt == "never ends" and task.attempts
    restored, original = other.store(), Store(f"sqlite:///{copy}")
    try:
        assert restored.list_events(task_id) == original.list_events(task_id) != []
    finally:
        restored.close()
        original.close()


def test_sqlite_backups_are_consistent_while_a_writer_commits(project: Project) -> None:
    project.write_config({})
    db = project.root / ".ado" / "state.db"
    project.store().close()
    started, stop = project.root / "started", project.root / "stop"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER, f"sqlite:///{db}", str(started), str(stop)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        wait_for(lambda: started.exists() or writer.poll() is not None, what="the writer")
        assert writer.poll() is None, writer.communicate()[1]
        counts = []
        for n in range(3):
            project.run("db", "backup", f"copy{n}.db", check_code=0)
            copy = sqlite3.connect(project.root / f"copy{n}.db")
            counts.append(copy.execute("SELECT count(*) FROM events").fetchone()[0])
            assert copy.execute("PRAGMA integrity_check").fetchall() == [("ok",)]
            copy.close()
    finally:
        stop.touch()
        _, err = writer.communicate(timeout=60)
    assert writer.returncode == 0, err
    print("event counts in the copies:", counts)
    assert all(c % BATCH == 0 for c in counts), counts  # never half a transaction
    assert counts == sorted(counts) and counts[0] >= 20 * BATCH


@pytest.mark.postgres
def test_postgresql_backup_and_restore_into_an_empty_database(
    project: Project, postgres_server: PostgresServer, postgres_url: str
) -> None:
    project.write_config({})
    store = Store(postgres_url)
    store.migrate()
    ids = [
        store.create_task(
            prompt=f"task {i}", cwd="/", hitl_policy="autonomous", options={}, status="queued"
        )
        for i in range(3)
    ]
    store.close()
    source = {DATABASE_URL_ENV: postgres_url}
    out = project.run("db", "backup", env=source, check_code=0).stdout
    (archive,) = project.root.glob("ado-backup-*.dump")
    assert f"Backed up the store to {archive}" in out

    empty = postgres_server.create_database()
    target = {DATABASE_URL_ENV: postgres_server.url(empty)}
    try:
        out = project.run("db", "restore", archive.name, env=target, check_code=0).stdout
        assert f"Restored {archive.name} (schema {HEAD})" in out
        listed = project.run("tasks", "list", "--json", env=target, check_code=0).stdout
        assert sorted(t["id"] for t in json.loads(listed)) == ids
        report = json.loads(project.run("db", "check", "--json", env=target).stdout)
        assert report["ok"] and report["revision"] == HEAD and report["tables"]["tasks"] == 3
        # A second restore finds a store with data and refuses, saying how to force it.
        again = project.run("db", "restore", archive.name, env=target, check_code=2)
        assert "is not empty (3 tasks" in traceback_free(again) and "--force" in again.stderr
    finally:
        postgres_server.drop_database(empty)


@pytest.mark.postgres
def test_postgresql_backup_without_pg_dump_says_what_to_install(
    project: Project, postgres_url: str, tmp_path: Path
) -> None:
    project.write_config({})
    Store(postgres_url).close()
    empty_path = tmp_path / "empty-bin"
    empty_path.mkdir()
    env = {DATABASE_URL_ENV: postgres_url, "PATH": str(empty_path)}
    proc = project.run("db", "backup", "b.dump", env=env, check_code=1)
    assert "pg_dump was not found on PATH" in traceback_free(proc)
    assert "postgresql-client" in proc.stderr
    assert list(project.root.glob("*.dump")) == [] and list(project.root.glob(".*tmp")) == []


@pytest.mark.postgres
def test_postgresql_backup_with_a_wrong_password_hides_it_and_leaves_no_file(
    project: Project, postgres_url: str
) -> None:
    project.write_config({})
    wrong = postgres_url.replace("pg-test-s3cret", "wrong-s3cret-pw")
    proc = project.run("db", "backup", "b.dump", env={DATABASE_URL_ENV: wrong}, check_code=1)
    err = traceback_free(proc)
    assert "pg_dump failed" in err and "password authentication failed" in err
    assert "wrong-s3cret-pw" not in err + proc.stdout
    assert list(project.root.iterdir()) == [project.config_path]


def test_check_on_a_corrupted_copy_exits_non_zero_with_a_clear_message(
    project: Project,
) -> None:
    project.write_config({})
    store = project.store()
    for i in range(300):
        store.create_task(prompt=f"task {i} " * 40, cwd="/", hitl_policy="autonomous", options={})
    store.close()
    project.run("db", "backup", "copy.db", check_code=0)
    assert project.run("db", "check", "copy.db", check_code=0).stdout.endswith("integrity: ok\n")

    copy = project.root / "copy.db"
    raw = bytearray(copy.read_bytes())
    middle = len(raw) // 2 // 4096 * 4096
    raw[middle : middle + 3 * 4096] = b"\xff" * 3 * 4096
    copy.write_bytes(bytes(raw))
    proc = project.run("db", "check", "copy.db", check_code=2)
    err = traceback_free(proc)
    assert "copy.db" in err and ("damaged" in err or "not a usable SQLite database" in err)
    assert "use another backup" in err or "restore a backup" in err
    # The store itself is untouched and passes.
    assert "integrity: ok" in project.run("db", "check", check_code=0).stdout


def test_check_of_the_store_itself_when_damaged(project: Project) -> None:
    project.write_config({})
    (project.root / ".ado").mkdir()
    (project.root / ".ado" / "state.db").write_bytes(b"SQLite format 3\x00" + b"\x07" * 9000)
    proc = project.run("db", "check", check_code=2)
    assert "state.db is not a usable SQLite database" in traceback_free(proc)


def test_upgrade_is_idempotent_and_check_says_when_it_is_needed(project: Project) -> None:
    project.write_config({})
    proc = project.run("db", "check", check_code=1)
    assert "there is no store" in traceback_free(proc) and "ado db upgrade" in proc.stderr
    proc = project.run("db", "backup", check_code=1)
    assert "there is no store at" in traceback_free(proc) and "nothing to back up" in proc.stderr
    proc = project.run("db", "restore", "missing.db", check_code=1)
    assert "missing.db does not exist" in traceback_free(proc)
    assert not (project.root / ".ado" / "state.db").exists()
    assert project.run("db", "upgrade", check_code=0).stdout == (
        f"Migrated the store from schema (empty) to {HEAD}.\n"
    )
    assert project.run("db", "upgrade", check_code=0).stdout == (
        f"The store is up to date (schema {HEAD}).\n"
    )
    db = sqlite3.connect(project.root / ".ado" / "state.db")
    db.execute("UPDATE alembic_version SET version_num = '0001'")
    db.commit()
    db.close()
    proc = project.run("db", "check", check_code=1)
    assert "older than this ADO's" in traceback_free(proc) and "ado db upgrade" in proc.stderr


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_two_upgrades_at_once_both_succeed(
    project: Project, backend: str, request: pytest.FixtureRequest
) -> None:
    project.write_config({})
    env: dict[str, str] = {}
    if backend == "postgresql":
        env[DATABASE_URL_ENV] = request.getfixturevalue("postgres_url")
    procs = [project.popen("db", "upgrade", env=env) for _ in range(3)]
    results = [(p.wait(timeout=120), *p.communicate()) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    for _, out, _ in results:
        assert out in (
            f"Migrated the store from schema (empty) to {HEAD}.\n",
            f"The store is up to date (schema {HEAD}).\n",
        )
    report = json.loads(project.run("db", "check", "--json", env=env, check_code=0).stdout)
    assert report["revision"] == HEAD and report["ok"]


def doc_examples() -> list[list[str]]:
    """The ``sh`` blocks of docs/backup.md, as lists of lines (crontab lines left out)."""
    text = (Path(__file__).parents[2] / "docs" / "backup.md").read_text(encoding="utf-8")
    blocks = re.findall(r"```sh\n(.*?)```", text, re.S)
    return [[ln for ln in b.splitlines() if ln and not ln[0].isdigit()] for b in blocks]


def test_the_backup_docs_examples_run(project: Project, tmp_path: Path) -> None:
    backup_block, restore_block = [b for b in doc_examples() if b]
    assert backup_block[0].startswith("ado db backup") and "restore" in restore_block[0]
    project.write_config({})
    store = project.store()
    store.create_task(prompt="kept", cwd="/", hitl_policy="autonomous", options={}, status="queued")
    store.close()
    other = Project(tmp_path / "other")
    other.root.mkdir()
    other.write_config({})
    for where, block in ((project, backup_block), (other, restore_block)):
        script = "\n".join(re.sub(r"^ado ", f"{sys.executable} -m ado ", ln) for ln in block)
        done = subprocess.run(
            ["bash", "-ec", script], cwd=where.root, capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, done.stdout + done.stderr
        if where is project:
            shutil.copy(project.root / "nightly.db", other.root / "nightly.db")
    restored = other.store()
    try:
        assert restored.list_tasks()[0].prompt == "kept"
    finally:
        restored.close()
