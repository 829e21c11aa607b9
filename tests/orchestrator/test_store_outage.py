"""PostgreSQL stopped for 3 s while an agent streams: the events are written once it is back,
none lost, none twice, in order (a real ``ado run`` and a real server stopped and started)."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

import ado
from ado.errors import StoreUnavailable
from ado.orchestrator.recorder import EventRecorder
from ado.providers.events import AgentEvent, EventKind
from ado.store import SqlStore, Store
from ado.store import sql as sql_module
from ado.store.sql import SqlConnection
from ado.store.urls import DATABASE_URL_ENV
from ado.store.views import EventView
from tests.fixtures.ado import FakeCursor, Project
from tests.fixtures.postgres import PostgresServer
from tests.server.conftest import start_server
from tests.support import wait_for

if TYPE_CHECKING:
    from ado.store.methods import SqlMethods

#: The agent's messages; it pauses after ``PAUSE_AT`` until the test has stopped the server.
MESSAGES, PAUSE_AT = 60, 19
OUTAGE_S = 3.0


def _events(url: str) -> list[EventView]:
    store = Store(url)
    try:
        tasks = store.list_tasks()
        return store.list_events(tasks[0].id, limit=10_000) if tasks else []
    finally:
        store.close()


def _texts(events: list[EventView]) -> list[str]:
    return [e.data.get("text", "") for e in events if e.kind == "text"]


def _configure(
    url: str, project: Project, fake_cursor: FakeCursor, resume: Path, pause_at: int = PAUSE_AT
) -> None:
    store = Store(url)
    store.migrate()
    store.close()
    project.write_config(
        {
            "cursor-agent": fake_cursor(
                FAKE_CURSOR_MESSAGES=str(MESSAGES),
                FAKE_CURSOR_PAUSE=f"{pause_at}:{resume}",
                PYTHONPATH=str(Path(ado.__file__).parents[1]),  # the scripted agent of this ado
            )
        }
    )


def _outage(
    server: PostgresServer,
    url: str,
    resume: Path,
    alive: Callable[[], bool],
    pause_at: int = PAUSE_AT,
) -> None:
    """Once the agent's messages up to ``pause_at`` are stored: PostgreSQL down for
    ``OUTAGE_S`` while the agent goes on (streaming, or ending), then up again."""
    wait_for(
        lambda: f"message {pause_at}" in _texts(_events(url)),
        60,
        what="the first messages to be stored",
    )
    server.stop()
    resume.touch()  # the agent goes on streaming into a store that is down
    time.sleep(OUTAGE_S)  # the outage's length, not a wait for a condition
    assert alive(), "ADO gave up while PostgreSQL was down"
    server.start()


def _stored_once(url: str) -> None:
    events = _events(url)
    assert _texts(events) == [f"message {i}" for i in range(MESSAGES)] + ["DONE"]
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))
    assert [e.kind for e in events].count("task_finished") == 1
    store = Store(url)
    try:
        (listed,) = store.list_tasks()
        task = store.get_task(listed.id)
        assert task is not None and task.status == "succeeded"
        assert task.attempt_count == 1
        assert [a.outcome for a in task.attempts] == ["success"]
        usage = store.usage_totals("cursor-agent", "subscription", task.created_at)
        assert (usage.requests, usage.tokens) == (1, 168)
    finally:
        store.close()


@pytest.mark.postgres
@pytest.mark.parametrize("pause_at", [PAUSE_AT, MESSAGES - 1], ids=["mid-stream", "at-the-end"])
def test_events_written_while_postgres_is_down_are_stored_once(
    private_postgres: PostgresServer,
    project: Project,
    fake_cursor: FakeCursor,
    tmp_path: Path,
    pause_at: int,
) -> None:
    """``ado run``: its own connection, reopened. At the end: the attempt's last events wait
    for the store, and its outcome, usage and the task's status are written after them."""
    url = private_postgres.url("ado")
    resume = tmp_path / "resume"
    _configure(url, project, fake_cursor, resume, pause_at)
    run = project.popen("run", "-y", "stream through an outage", env={DATABASE_URL_ENV: url})
    try:
        _outage(private_postgres, url, resume, lambda: run.poll() is None, pause_at)
        _, err = run.communicate(timeout=120)
    finally:
        resume.touch()
        if run.poll() is None:
            run.kill()
            run.communicate()
    assert run.returncode == 0, err
    _stored_once(url)


@pytest.mark.postgres
def test_a_server_rides_out_a_postgres_restart(
    private_postgres: PostgresServer,
    project: Project,
    fake_cursor: FakeCursor,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """``ado serve``: its pool's connections, its worker pool and live bus."""
    url = private_postgres.url("ado")
    resume = tmp_path / "resume"
    _configure(url, project, fake_cursor, resume)
    monkeypatch.setenv(DATABASE_URL_ENV, url)
    server = start_server(project)
    try:
        with server.client() as client:
            created = client.post("/api/tasks", json={"prompt": "stream through an outage"})
            assert created.status_code == 201, created.text
            task_id = created.json()["id"]
            _outage(private_postgres, url, resume, lambda: server.proc.poll() is None)
            wait_for(
                lambda: client.get(f"/api/tasks/{task_id}").json().get("status") == "succeeded",
                120,
                what="the task to succeed",
            )
            # and the server takes new work after the outage
            again = client.post("/api/tasks", json={"prompt": "after"}).json()["id"]
            wait_for(
                lambda: client.get(f"/api/tasks/{again}").json().get("status") == "succeeded",
                60,
                what="a task submitted after the outage to succeed",
            )
    finally:
        resume.touch()
        server.stop()
    store = Store(url)
    try:
        events = store.list_events(task_id, limit=10_000)
    finally:
        store.close()
    assert _texts(events) == [f"message {i}" for i in range(MESSAGES)] + ["DONE"]
    ids = [e.id for e in events]
    assert ids == sorted(set(ids))


class _LostAnswer:
    """A real store whose first ``add_events`` commits, then loses the answer: what a
    connection cut between the COMMIT and its acknowledgement looks like to ADO."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.lost = 0

    def __getattr__(self, name: str) -> Any:
        return getattr(self.store, name)

    def add_events(self, *args: Any, **kwargs: Any) -> list[int]:
        ids: list[int] = self.store.add_events(*args, **kwargs)
        if not self.lost:
            self.lost += 1
            raise StoreUnavailable("cannot connect to PostgreSQL: server closed the connection")
        return ids


async def test_a_batch_whose_commit_answer_was_lost_is_not_stored_twice(store: Store) -> None:
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    flaky = _LostAnswer(store)
    recorder = EventRecorder(cast("SqlMethods", flaky), lambda _update: None)
    for text in ("one", "two", "three"):
        await recorder.emit(task_id, None, AgentEvent(EventKind.TEXT, text=text), flush=True)
    assert flaky.lost == 1
    events = store.list_events(task_id)
    assert _texts(events) == ["one", "two", "three"]


async def test_a_store_down_for_good_fails_the_write_after_the_retries(
    store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Not forever: past ``RETRY_FOR`` the error reaches the runner (which fails the task)."""
    monkeypatch.setattr(sql_module, "RETRY_FOR", 0.3)
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})

    class Down(_LostAnswer):
        def add_events(self, *args: Any, **kwargs: Any) -> list[int]:
            self.lost += 1
            raise StoreUnavailable("cannot connect to PostgreSQL: connection refused")

    down = Down(store)
    recorder = EventRecorder(cast("SqlMethods", down), lambda _update: None)
    with pytest.raises(StoreUnavailable):
        await recorder.emit(task_id, None, AgentEvent(EventKind.TEXT, text="x"), flush=True)
    assert down.lost >= 3  # tried again before giving up
    assert store.list_events(task_id) == []


class _Flaky(SqlStore):
    """A real SQLite store whose connection is unreachable for its next ``down`` uses."""

    down = 0

    @contextmanager
    def _sql(self) -> Iterator[SqlConnection]:
        if self.down:
            self.down -= 1
            raise StoreUnavailable("cannot connect to PostgreSQL: connection refused")
        with super()._sql() as sql:
            yield sql


def test_writes_that_are_the_same_twice_are_retried_others_are_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    created = Store(url)
    created.migrate()
    created.close()
    store = _Flaky(url)
    try:
        task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
        store.down = 3
        store.finish_task(task_id, status="succeeded", exit_code=0)  # retried through it
        assert store.down == 0
        task = store.get_task(task_id)
        assert task is not None and task.status == "succeeded"
        store.down = 1
        with pytest.raises(StoreUnavailable):  # an insert: not retried (it could double)
            store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
        monkeypatch.setattr(sql_module, "RETRY_FOR", 0.2)
        store.down = 1000
        with pytest.raises(StoreUnavailable):  # down for good: given up after RETRY_FOR
            store.update_task(task_id, status="failed")
        assert 1000 - store.down >= 3
    finally:
        store.down = 0
        store.close()
