"""PostgreSQL stopped for 3 s while an agent streams: the events are written once it is back,
none lost, none twice, in order (a real ``ado run`` and a real server stopped and started)."""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import pytest

import ado
from ado.errors import StoreUnavailable
from ado.orchestrator import recorder as recorder_module
from ado.orchestrator.recorder import EventRecorder
from ado.providers.events import AgentEvent, EventKind
from ado.store import Store
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


def _configure(url: str, project: Project, fake_cursor: FakeCursor, resume: Path) -> None:
    store = Store(url)
    store.migrate()
    store.close()
    project.write_config(
        {
            "cursor-agent": fake_cursor(
                FAKE_CURSOR_MESSAGES=str(MESSAGES),
                FAKE_CURSOR_PAUSE=f"{PAUSE_AT}:{resume}",
                PYTHONPATH=str(Path(ado.__file__).parents[1]),  # the scripted agent of this ado
            )
        }
    )


def _outage(server: PostgresServer, url: str, resume: Path, alive: Callable[[], bool]) -> None:
    """Once the agent's first messages are stored: PostgreSQL down for ``OUTAGE_S`` while
    the agent goes on streaming, then up again."""
    wait_for(
        lambda: f"message {PAUSE_AT}" in _texts(_events(url)),
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
        (task,) = store.list_tasks()
        assert task.status == "succeeded"
        assert task.attempt_count == 1
    finally:
        store.close()


@pytest.mark.postgres
def test_events_written_while_postgres_is_down_are_stored_once(
    private_postgres: PostgresServer, project: Project, fake_cursor: FakeCursor, tmp_path: Path
) -> None:
    """``ado run``: its own connection, reopened."""
    url = private_postgres.url("ado")
    resume = tmp_path / "resume"
    _configure(url, project, fake_cursor, resume)
    run = project.popen("run", "-y", "stream through an outage", env={DATABASE_URL_ENV: url})
    try:
        _outage(private_postgres, url, resume, lambda: run.poll() is None)
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
    monkeypatch.setattr(recorder_module, "RETRY_FOR", 0.3)
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
