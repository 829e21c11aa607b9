"""The plain-SQL reader ``ado status`` uses, against stores written by ``Store``, both backends."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ado.config.schema import AdoConfig, StorageConfig
from ado.providers.events import Usage
from ado.store import DATABASE_URL_ENV, HEAD, SqlStore, Store
from ado.store.models import Cooldown, view_of
from ado.store.views import CooldownView
from tests.fixtures.ado import Project

from .test_tasks import attempt, dead_pid, new_task
from .test_usage import record


@pytest.fixture
def reader(store: Store, store_url: str) -> Iterator[SqlStore]:
    db = SqlStore(store_url)
    try:
        yield db
    finally:
        db.close()


def _fill(store: Store) -> datetime:
    """Tasks in every state, attempts, usage and cooldowns; returns a time before all."""
    start = datetime.now(UTC) - timedelta(seconds=1)
    for i, provider in enumerate(("claude-code", "codex", "claude-code", "gemini-cli")):
        task_id = new_task(store, prompt=f"task {i}: 100% done", options={"n": i, "x": [1]})
        attempt_id = attempt(store, task_id, provider=provider)
        usage = Usage(100 * (i + 1), 50, 10, 5)
        store.finish_attempt(
            attempt_id,
            outcome="success" if i % 2 == 0 else "rate_limited",
            message="done",
            exit_code=0,
            session_id=f"s{i}",
            reset_at=start + timedelta(hours=i) if i % 2 else None,
            usage=usage,
            cost_usd=0.25 * i,
            api_cost_usd=0.5 * i,
            files=["a.py"],
        )
        record(store, provider, task_id=task_id, attempt_id=attempt_id, cost=0.25 * i)
        record(store, provider, "api", cost=1.5, api_cost=1.5, requests=2)
        if i < 3:
            store.finish_task(task_id, status=("succeeded", "failed", "cancelled")[i])
    new_task(store, status="queued", prompt="waiting")
    now = datetime.now(UTC)
    store.set_cooldown(
        "codex", "subscription", until=now + timedelta(hours=1), kind="rate_limited",
        reason="429", reset_known=True,
    )  # fmt: skip
    store.set_cooldown(
        "claude-code", "api", until=now + timedelta(minutes=5), kind="quota_exhausted",
        reason=None, reset_known=False, task_id=1,
    )  # fmt: skip
    store.set_cooldown(
        "gemini-cli", "subscription", until=now - timedelta(minutes=1), kind="rate_limited",
        reason="over", reset_known=False,
    )  # fmt: skip
    return start


def test_every_read_equals_the_stores(store: Store, reader: SqlStore) -> None:
    start = _fill(store)
    now = datetime.now(UTC)
    assert reader.current_revision() == store.current_revision() == HEAD
    assert reader.url_redacted == store.url_redacted

    for kwargs in (
        {},
        {"limit": 2},
        {"status": "running"},
        {"provider": "claude-code"},
        {"since": start},
        {"since": now + timedelta(seconds=1)},
        {"before_id": 3, "limit": 1},
        {"status": "succeeded", "provider": "claude-code", "since": start, "before_id": 99},
    ):
        assert reader.list_tasks(**kwargs) == store.list_tasks(**kwargs), kwargs
    assert reader.cooldowns(now) == store.cooldowns(now)
    for pair in (("claude-code", "subscription"), ("claude-code", "api"), ("copilot", "api")):
        for since in (start, now + timedelta(seconds=1)):
            assert reader.usage_totals(*pair, since) == store.usage_totals(*pair, since)
    reports: list[tuple[datetime | None, str | None]] = [
        (None, None), (start, None), (start, "codex"), (now, None)
    ]  # fmt: skip
    for since_or_all, provider in reports:
        assert reader.usage_report(since_or_all, provider) == store.usage_report(
            since_or_all, provider
        )
    for since_or_all in (None, start, now + timedelta(seconds=1)):
        assert reader.task_status_counts(since_or_all) == store.task_status_counts(since_or_all)


def test_views_decode_what_sqlalchemy_wrote(store: Store, reader: SqlStore) -> None:
    """Times, JSON and booleans read by plain SQL equal what the ORM reads back."""
    _fill(store)
    tasks = reader.list_tasks(limit=100)
    assert len(tasks) == 5
    for task in tasks:
        orm = store.get_task(task.id)
        assert orm is not None
        assert task == orm._replace(attempts=())
        assert task.created_at.tzinfo is UTC and isinstance(task.options, dict)
    assert tasks[-1].options == {"n": 0, "x": [1]} and tasks[-1].prompt == "task 0: 100% done"

    now = datetime.now(UTC)
    with store.session() as session:
        rows = session.scalars(
            select(Cooldown).where(Cooldown.until > now).order_by(Cooldown.provider)
        ).all()
        orm_cooldowns = [view_of(CooldownView, c) for c in rows]
    cooldowns = reader.cooldowns(now)
    assert cooldowns == orm_cooldowns
    assert [(c.provider, c.reset_known) for c in cooldowns] == [
        ("claude-code", False),
        ("codex", True),
    ]
    report = {(r.provider, r.access_mode): r for r in reader.usage_report(None)}
    assert report[("claude-code", "subscription")].tasks == 2
    assert report[("claude-code", "api")].requests == 4
    assert reader.task_status_counts() == {
        "succeeded": 1,
        "failed": 1,
        "cancelled": 1,
        "running": 1,
        "queued": 1,
    }


def test_naive_datetimes_are_refused(reader: SqlStore) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        reader.cooldowns(datetime.now())  # noqa: DTZ005


def test_reader_marks_orphans_interrupted(store: Store, reader: SqlStore) -> None:
    orphan = new_task(store)
    attempt(store, orphan)
    alive = new_task(store)
    store.update_task(orphan, owner_pid=dead_pid())

    assert reader.mark_orphans_interrupted() == 1
    assert reader.mark_orphans_interrupted() == 0
    task = store.get_task(orphan)
    assert task is not None and task.status == "interrupted"
    assert task.error is not None and "exited while the task was running" in task.error
    assert task.finished_at is not None and task.attempts[0].outcome == "interrupted"
    assert task.attempts[0].finished_at is not None
    still = store.get_task(alive)
    assert still is not None and still.status == "running"


# -- opening ------------------------------------------------------------------------------


@pytest.fixture
def no_env_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATABASE_URL_ENV, raising=False)


@pytest.mark.usefixtures("no_env_url")
def test_open_refuses_a_store_that_is_missing_or_not_at_head(tmp_path: Path) -> None:
    config = AdoConfig(storage=StorageConfig(path="state.db"))
    assert SqlStore.open(config, tmp_path) is None
    assert not (tmp_path / "state.db").exists(), "the reader never creates the file"

    sqlite3.connect(tmp_path / "state.db").close()  # empty: no alembic_version
    assert SqlStore.open(config, tmp_path) is None
    Store.open(config, tmp_path).close()
    _set_revision(tmp_path / "state.db", "0001")
    assert SqlStore.open(config, tmp_path) is None

    _set_revision(tmp_path / "state.db", HEAD)
    reader = SqlStore.open(config, tmp_path)
    assert reader is not None
    try:
        assert reader.current_revision() == HEAD
    finally:
        reader.close()


def _set_revision(path: Path, revision: str) -> None:
    conn = sqlite3.connect(path)
    try:
        with conn:
            conn.execute("UPDATE alembic_version SET version_num = ?", (revision,))
    finally:
        conn.close()


# -- ado status ---------------------------------------------------------------------------

_STATUS_WITHOUT_SQLALCHEMY = """\
import atexit, sys
atexit.register(lambda: print(
    "IMPORTED",
    sorted({m.split(".")[0] for m in sys.modules}
           & {"sqlalchemy", "alembic", "asyncio", "fastapi", "starlette"}
           | {m for m in sys.modules if m == "ado.api.schemas"}),
    file=sys.stderr,
))
from ado.cli import main
main(["status", "--json"])
"""


def test_status_never_imports_sqlalchemy_or_asyncio_and_marks_orphans(project: Project) -> None:
    project.write_config({"codex": {"enabled": True, "accessModes": [{"mode": "subscription"}]}})
    store = project.store()
    try:
        orphan = new_task(store)
        store.update_task(orphan, owner_pid=dead_pid())
        record(store, "codex")
    finally:
        store.close()
    done = subprocess.run(
        [sys.executable, "-c", _STATUS_WITHOUT_SQLALCHEMY],
        cwd=project.root,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "IMPORTED []" in done.stderr
    status = json.loads(done.stdout)
    assert status["recentTasks"][0]["id"] == orphan
    assert status["recentTasks"][0]["status"] == "interrupted"
    assert status["today"]["requests"] == 1


def test_status_migrates_through_the_store_when_there_is_none_yet(project: Project) -> None:
    project.write_config({"codex": {"enabled": True, "accessModes": [{"mode": "subscription"}]}})
    status = json.loads(project.run("status", "--json", check_code=0).stdout)
    assert status["recentTasks"] == []
    assert (project.root / ".ado" / "state.db").exists()


def test_a_bound_query_is_its_function_on_the_front_doors_connection(
    store: Store, reader: SqlStore
) -> None:
    import inspect

    from ado.store import reader as queries
    from ado.store.methods import SqlMethods

    assert SqlMethods.__dict__["get_task"].__wrapped__ is queries.get_task
    assert reader.get_task.__doc__ == queries.get_task.__doc__
    assert reader.get_task.__name__ == "get_task"
    assert str(inspect.signature(reader.get_task)) == "(task_id: 'int') -> 'TaskView | None'"
    task_id = new_task(store, prompt="bound")
    view = reader.get_task(task_id)
    assert view is not None and view == store.get_task(task_id)
    assert reader.get_task(task_id + 1000) is None
    # A bad argument fails as the function fails, and the connection stays usable.
    with pytest.raises(TypeError, match="unknown task fields: nope"):
        reader.update_task(task_id, nope=1)
    with pytest.raises(TypeError):
        reader.get_task()  # type: ignore[call-arg]
    assert reader.get_task(task_id) == view
