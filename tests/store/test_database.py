"""Opening, migrating and failing: URLs, Alembic, concurrency and error messages."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.migration import MigrationContext
from alembic.script import ScriptDirectory
from pydantic import SecretStr
from sqlalchemy import inspect, text

from ado.config.schema import AdoConfig, StorageConfig
from ado.errors import ConfigError, StoreError
from ado.store import DATABASE_URL_ENV, HEAD, Store, normalize_url, redact_url
from ado.store.database import MIGRATIONS_DIR
from ado.store.models import Base
from tests.fixtures.postgres import PASSWORD, PostgresServer, find_bin_dir
from tests.support import free_port

TABLES = {
    "alembic_version",
    "alerts",
    "api_tokens",
    "attempts",
    "cooldowns",
    "events",
    "kv",
    "quota_windows",
    "tasks",
    "usage_records",
    "workers",
}


def run_python(code: str, **env: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, **env},
        timeout=60,
        check=False,
    )


@pytest.fixture
def no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


# -- migrations ---------------------------------------------------------------------------


def test_head_is_the_last_migration() -> None:
    assert ScriptDirectory(str(MIGRATIONS_DIR)).get_current_head() == HEAD


def test_migrate_from_empty_creates_every_table(store_url: str) -> None:
    store = Store(store_url)
    try:
        assert store.current_revision() is None
        store.migrate()
        store.migrate()  # the second time is a no-op
        assert store.current_revision() == HEAD
        with store.session() as session:
            assert set(inspect(session.connection()).get_table_names()) == TABLES
    finally:
        store.close()


def test_models_match_the_migrations(store: Store) -> None:
    with store.session() as session:
        context = MigrationContext.configure(session.connection(), opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_downgrade_and_upgrade_again(store: Store) -> None:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    with store.session() as session:
        config.attributes["connection"] = session.connection()
        command.downgrade(config, "base")
        assert set(inspect(session.connection()).get_table_names()) == {"alembic_version"}
        command.upgrade(config, "head")
    assert store.current_revision() == HEAD


def test_a_database_from_a_newer_ado_is_refused(store_url: str, store: Store) -> None:
    with store.session() as session:
        session.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    newer = Store(store_url)
    try:
        with pytest.raises(StoreError, match="newer ADO"):
            newer.migrate()
    finally:
        newer.close()


def test_sqlite_pragmas(tmp_path: Path) -> None:
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        store.migrate()
        with store.session() as session:
            pragma = {
                name: session.execute(text(f"PRAGMA {name}")).scalar()
                for name in ("journal_mode", "synchronous", "busy_timeout", "foreign_keys")
            }
        assert pragma == {
            "journal_mode": "wal",
            "synchronous": 1,
            "busy_timeout": 10_000,
            "foreign_keys": 1,
        }
    finally:
        store.close()


def test_second_open_does_not_import_alembic(store_url: str) -> None:
    code = (
        "import os, sys\n"
        "from ado.store import Store\n"
        "store = Store(os.environ['URL'])\n"
        "store.migrate()\n"
        "store.close()\n"
        "print('alembic' in sys.modules)\n"
    )
    first = run_python(code, URL=store_url)
    second = run_python(code, URL=store_url)
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    assert (first.stdout.strip(), second.stdout.strip()) == ("True", "False")


def test_concurrent_first_open(store_url: str) -> None:
    code = (
        "import os, sys\n"
        "from ado.store import Store\n"
        "store = Store(os.environ['URL'])\n"
        "print('ready', flush=True)\n"
        "sys.stdin.readline()\n"
        "store.migrate()\n"
        "print(store.current_revision(), store.create_task(prompt='p', cwd='/', "
        "hitl_policy='autonomous', options={}))\n"
    )
    env = {**os.environ, "URL": store_url}
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", code],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            env=env,
        )
        for _ in range(4)
    ]
    assert all(p.stdout is not None and p.stdout.readline() == "ready\n" for p in procs)
    for proc in procs:  # release them together
        assert proc.stdin is not None
        proc.stdin.write("go\n")
        proc.stdin.flush()
    outputs = [proc.communicate(timeout=60) for proc in procs]
    assert [p.returncode for p in procs] == [0] * 4, [err for _, err in outputs]
    revisions = sorted(out.split()[0] for out, _ in outputs)
    assert revisions == [HEAD] * 4
    assert sorted(int(out.split()[1]) for out, _ in outputs) == [1, 2, 3, 4]


# -- opening from the configuration -------------------------------------------------------


@pytest.mark.usefixtures("no_env_url")
def test_open_creates_the_sqlite_file_relative_to_base_dir(tmp_path: Path) -> None:
    config = AdoConfig(storage=StorageConfig(path="nested/dir/state.db"))
    store = Store.open(config, tmp_path)
    try:
        assert store.dialect == "sqlite"
        assert (tmp_path / "nested/dir/state.db").is_file()
        assert store.url_redacted.endswith("nested/dir/state.db")
        assert store.current_revision() == HEAD
    finally:
        store.close()


def test_env_url_wins_over_the_configuration(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(DATABASE_URL_ENV, f"sqlite:///{tmp_path / 'from-env.db'}")
    config = AdoConfig(
        storage=StorageConfig(
            driver="postgresql", connection_string=SecretStr("postgresql://u:p@nowhere/db")
        )
    )
    store = Store.open(config, tmp_path)
    store.close()
    assert (tmp_path / "from-env.db").is_file()


@pytest.mark.postgres
@pytest.mark.usefixtures("no_env_url")
def test_open_with_a_postgres_connection_string(postgres_url: str, tmp_path: Path) -> None:
    plain = postgres_url.replace("postgresql+psycopg://", "postgres://")
    config = AdoConfig(
        storage=StorageConfig(driver="postgresql", connection_string=SecretStr(plain))
    )
    store = Store.open(config, tmp_path)
    try:
        assert store.dialect == "postgresql"
        assert store.current_revision() == HEAD
        assert PASSWORD not in store.url_redacted
        assert store.url_redacted.startswith("postgresql+psycopg://ado:***@127.0.0.1:")
    finally:
        store.close()


@pytest.mark.usefixtures("no_env_url")
def test_postgresql_driver_without_connection_string_is_a_config_error(tmp_path: Path) -> None:
    config = AdoConfig(storage=StorageConfig(driver="postgresql"))
    with pytest.raises(ConfigError, match="no connection string"):
        Store.open(config, tmp_path)


def test_url_normalisation_and_redaction() -> None:
    assert normalize_url("postgres://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("postgresql://u:p@h/db") == "postgresql+psycopg://u:p@h/db"
    assert normalize_url("sqlite:///x.db") == "sqlite:///x.db"
    assert (
        redact_url("postgresql+psycopg://u:hunter2@h:5/db") == "postgresql+psycopg://u:***@h:5/db"
    )
    assert redact_url("not a url://u:hunter2@h") == "not a url://u:***@h"
    store = Store("postgres://ado:hunter2@db.example:6543/ado")
    assert store.url_redacted == "postgresql+psycopg://ado:***@db.example:6543/ado"
    assert store.dialect == "postgresql"
    store.close()


# -- errors -------------------------------------------------------------------------------


@pytest.mark.usefixtures("no_env_url")
def test_unwritable_sqlite_path(tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-dir"
    blocker.write_text("")
    config = AdoConfig(storage=StorageConfig(path=str(blocker / "state.db")))
    with pytest.raises(StoreError, match=r"cannot open .*state\.db") as raised:
        Store.open(config, tmp_path)
    assert "check storage.path" in str(raised.value)

    store = Store(f"sqlite:///{tmp_path / 'missing' / 'state.db'}")
    with pytest.raises(StoreError, match=r"cannot open .*state\.db: unable to open") as raised:
        store.migrate()
    assert "check storage.path" in str(raised.value)


def test_unreachable_postgresql() -> None:
    port = free_port()
    store = Store(f"postgresql://ado:hunter2@127.0.0.1:{port}/ado")
    with pytest.raises(StoreError) as raised:
        store.migrate()
    message = str(raised.value)
    assert f"cannot connect to PostgreSQL at 127.0.0.1:{port}" in message
    assert "is it running?" in message and DATABASE_URL_ENV in message
    assert "hunter2" not in message and "***" in message


@pytest.mark.postgres
def test_wrong_postgresql_password(postgres_server: PostgresServer) -> None:
    url = postgres_server.url("postgres").replace(PASSWORD, "wrong-pw-123")
    store = Store(url)
    with pytest.raises(StoreError, match="cannot connect to PostgreSQL") as raised:
        store.migrate()
    assert "wrong-pw-123" not in str(raised.value)
    assert "password authentication failed" in str(raised.value)


def test_invalid_and_unsupported_urls() -> None:
    with pytest.raises(StoreError, match="invalid database URL"):
        Store("::nonsense::")
    with pytest.raises(StoreError, match="unsupported database"):
        Store("mysql://u:p@h/db")


def test_missing_postgres_binaries_fail_loudly(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("ADO_TEST_PG_BIN", "/nonexistent/bin")
    with pytest.raises(pytest.fail.Exception, match="run scripts/test"):
        find_bin_dir()


def test_views_are_json_friendly(store: Store) -> None:
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={"a": [1]})
    task = store.get_task(task_id)
    assert task is not None
    with pytest.raises(AttributeError):
        task.status = "done"  # type: ignore[misc]
    json.dumps(task.options)
