"""High availability: two ``ado serve`` replicas over one PostgreSQL both accept tasks and both
stream every event of a task, whichever replica's pool runs it, in order; a client resumes
on the other replica after the last event id it saw."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from websockets.sync.client import ClientConnection, connect

import ado
from ado.store import Store
from ado.store.urls import DATABASE_URL_ENV
from tests.fixtures.ado import Project
from tests.server.conftest import Gate, Server

pytestmark = pytest.mark.postgres

MESSAGES, PAUSE_AT = 40, 20


def _events_until(
    ws: ClientConnection, task_id: int, done: Callable[[dict[str, Any]], bool], timeout: float = 60
) -> list[dict[str, Any]]:
    """The task's events the socket sends, up to and including the first that is ``done``."""
    seen: list[dict[str, Any]] = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        if message["type"] != "event" or message["event"]["taskId"] != task_id:
            continue
        seen.append(message["event"])
        if done(message["event"]):
            return seen


def _finished(event: dict[str, Any]) -> bool:
    return bool(event["kind"] == "task_finished")


def _hello(ws: ClientConnection) -> None:
    assert json.loads(ws.recv(timeout=10))["type"] == "hello"


def test_two_replicas_stream_every_event_and_resume_across(
    postgres_url: str,
    project: Project,
    gate: Gate,
    serve: Callable[..., Server],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    store = Store(postgres_url)
    try:
        store.migrate()
    finally:
        store.close()
    resume = tmp_path / "resume"
    agent = gate.provider(gated=False)
    agent["env"].update(
        FAKE_CURSOR_MESSAGES=str(MESSAGES),
        FAKE_CURSOR_PAUSE=f"{PAUSE_AT}:{resume}",
        PYTHONPATH=str(Path(ado.__file__).parents[1]),  # the scripted agent of this ado
    )
    project.write_config({"cursor-agent": agent})
    monkeypatch.setenv(DATABASE_URL_ENV, postgres_url)
    first, second = serve(), serve()
    try:
        with (
            connect(first.ws_url, open_timeout=10) as on_first,
            connect(second.ws_url, open_timeout=10) as on_second,
        ):
            _hello(on_first)
            _hello(on_second)
            with second.client() as client:
                created = client.post("/api/tasks", json={"prompt": "stream to both"})
            assert created.status_code == 201, created.text
            task_id = created.json()["id"]
            # A client of the first replica reads up to the pause, then drops...
            before = _events_until(
                on_first,
                task_id,
                lambda e: e["kind"] == "text" and e["data"].get("text") == "message 20",
            )
            on_first.close()
            resume.touch()
            # ...and resumes on the second after the last event it saw.
            after_url = f"{second.ws_url}?after={before[-1]['id']}"
            with connect(after_url, open_timeout=10) as resumed:
                _hello(resumed)
                rest = _events_until(resumed, task_id, _finished)
            on_both = _events_until(on_second, task_id, _finished)
    finally:
        resume.touch()
    with httpx.Client(base_url=first.url, timeout=30) as client:
        task = client.get(f"/api/tasks/{task_id}").json()
        stored = client.get(f"/api/tasks/{task_id}/events", params={"limit": 1000}).json()["items"]
    assert task["status"] == "succeeded", task
    ids = [e["id"] for e in stored]
    assert ids == sorted(set(ids)) and stored[-1]["kind"] == "task_finished"
    texts = [e["data"].get("text") for e in stored if e["kind"] == "text"]
    assert texts == [f"message {i}" for i in range(MESSAGES)] + ["DONE"]
    assert [e["id"] for e in on_both] == ids  # every event, in order, on the other replica
    assert [e["id"] for e in before + rest] == ids  # resumed across replicas: no gap, no repeat
