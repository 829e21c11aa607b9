"""Text no encoder accepts, and NUL, through the API on both databases: a prompt with NUL
is stored (U+FFFD), and events stored before agent text was cleaned are served cleaned."""

from __future__ import annotations

import json

from starlette.testclient import TestClient

from ado.api import wire
from ado.providers.events import AgentEvent, EventKind
from ado.store import Store

from .conftest import add_finished_task


def test_a_prompt_with_nul_is_queued_not_refused(client: TestClient, store: Store) -> None:
    response = client.post("/api/tasks", json={"prompt": "fix \u0000 this"})
    assert response.status_code == 201, response.text
    task = store.get_task(response.json()["id"])
    assert task is not None and task.prompt == "fix \ufffd this"
    assert client.get(f"/api/tasks/{task.id}").json()["prompt"] == "fix \ufffd this"


def test_stored_events_with_nul_or_lone_surrogates_are_served_cleaned(
    client: TestClient, store: Store
) -> None:
    bad = ["nul \x00 in an old event", "tool \x00"]
    if store.dialect == "sqlite":  # PostgreSQL's json refuses a lone surrogate escape
        bad += ["cut \ud83d here", "low \udc00"]
    task_id = add_finished_task(  # as a store written before ADO cleaned agent text holds them
        store,
        events=[AgentEvent(EventKind.TEXT, text=text, data={"k\x00": [text]}) for text in bad],
    )
    response = client.get(f"/api/tasks/{task_id}/events")
    assert response.status_code == 200, response.text
    items = response.json()["items"]
    texts = [item["data"]["text"] for item in items]
    assert texts[:2] == ["nul \ufffd in an old event", "tool \ufffd"]
    if store.dialect == "sqlite":
        assert texts[2:] == ["cut \ufffd here", "low \ufffd"]
    assert items[0]["data"]["data"] == {"k\ufffd": ["nul \ufffd in an old event"]}
    assert [e.data["text"] for e in store.list_events(task_id)] == texts
    # The live path sends stored JSON text as it is, but these cleaned, never a raw escape
    live = [wire.event_message_text(e) for e in store.events_since(0) if e.task_id == task_id]
    assert [json.loads(m.json().encode())["event"]["data"]["text"] for m in live] == texts


def test_task_detail_says_what_was_dropped(client: TestClient, store: Store) -> None:
    task_id = add_finished_task(store)
    store.finish_task(task_id, status="succeeded", dropped_events=12, dropped_bytes=3456)
    body = client.get(f"/api/tasks/{task_id}").json()
    assert (body["droppedEvents"], body["droppedBytes"]) == (12, 3456)
    assert body["attempts"][0]["droppedEvents"] == 0
