"""/api/tasks: queue, list (filters, sort, keyset pagination), show, events, cancel."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ado.api.schemas import EventPage, TaskDetail, TaskPage, TaskSummary
from ado.providers.events import AgentEvent, EventKind
from ado.store import Store

from .conftest import add_finished_task


def error_fields(response: Any) -> list[str | None]:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message", "details"}
    return [d["field"] for d in body["error"]["details"]]


def test_create_queues_the_task_with_its_options(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    response = client.post(
        "/api/tasks",
        json={
            "prompt": "fix the bug",
            "cwd": str(tmp_path),
            "providers": ["codex"],
            "exclude": ["claude-code"],
            "accessMode": "subscription",
            "requireCapabilities": ["python"],
            "maxCost": 2.5,
            "hitlPolicy": "review-edits",
            "model": "m1",
            "maxTurns": 3,
            "yolo": True,
        },
    )
    assert response.status_code == 201, response.text
    body = TaskSummary.model_validate(response.json())
    assert body.status == "queued" and body.cwd == str(tmp_path)
    assert body.hitl_policy == "review-edits" and body.attempt_count == 0
    stored = store.get_task(body.id)
    assert stored is not None and stored.status == "queued" and stored.prompt == "fix the bug"
    assert stored.options == {
        "providers": ["codex"],
        "exclude": ["claude-code"],
        "access_mode": "subscription",
        "require_capabilities": ["python"],
        "model": "m1",
        "max_turns": 3,
        "max_cost": 2.5,
        "yolo": True,
        "hitl_policy": "review-edits",
    }
    assert stored.created_at == body.created_at


def test_create_defaults_and_wakes_the_pool(make_client: Any, store: Store) -> None:
    class Pool:
        woken = 0

        def wake(self) -> None:
            Pool.woken += 1

    client = make_client(pool=Pool())
    ids = {client.post("/api/tasks", json={"prompt": f"t{i}"}).json()["id"] for i in range(5)}
    assert len(ids) == 5 and Pool.woken == 5
    task = store.get_task(min(ids))
    assert (
        task is not None
        and task.hitl_policy == "autonomous"
        and task.options == {"hitl_policy": "autonomous"}
    )


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "prompt"),
        ({"prompt": ""}, "prompt"),
        ({"prompt": "x", "cwd": "/no/such/dir"}, "cwd"),
        ({"prompt": "x", "provider": "nope"}, "provider"),
        ({"prompt": "x", "exclude": ["nope"]}, "exclude.0"),
        ({"prompt": "x", "provider": "codex", "providers": ["codex"]}, "providers"),
        ({"prompt": "x", "maxTurns": 0}, "maxTurns"),
        ({"prompt": "x", "maxCost": -1}, "maxCost"),
        ({"prompt": "x", "accessMode": "paid"}, "accessMode"),
        ({"prompt": "x", "hitlPolicy": "yes"}, "hitlPolicy"),
        ({"prompt": "x", "colour": "red"}, "colour"),
    ],
)
def test_create_refuses_bad_input_naming_the_field(
    client: TestClient, body: dict[str, Any], field: str
) -> None:
    response = client.post("/api/tasks", json=body)
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"
    assert field in error_fields(response)


def test_pages_are_complete_and_stable(client: TestClient) -> None:
    created = [
        client.post("/api/tasks", json={"prompt": f"task {i}"}).json()["id"] for i in range(23)
    ]
    seen: list[int] = []
    cursor = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 10}
        if cursor:
            params["cursor"] = cursor
        page = TaskPage.model_validate(client.get("/api/tasks", params=params).json())
        seen += [t.id for t in page.items]
        pages += 1
        if pages == 1:  # a task added meanwhile does not shift the later pages
            client.post("/api/tasks", json={"prompt": "late"})
        cursor = page.next_cursor
        if cursor is None:
            break
    assert pages == 3
    assert seen == sorted(created, reverse=True)


@pytest.mark.parametrize("sort", ["-createdAt", "createdAt", "-costUsd", "-durationS"])
def test_every_sort_pages_without_duplicates(client: TestClient, store: Store, sort: str) -> None:
    base = datetime.now(UTC) - timedelta(hours=1)
    ids = [
        add_finished_task(
            store, seconds=float(i % 4), api_cost=0.1, cost=float(i % 3), finished=base
        )
        for i in range(12)
    ]
    seen: list[dict[str, Any]] = []
    cursor = None
    while True:
        params: dict[str, Any] = {
            "limit": 5,
            "sort": sort,
            **({"cursor": cursor} if cursor else {}),
        }
        body = client.get("/api/tasks", params=params).json()
        seen += body["items"]
        cursor = body["nextCursor"]
        if cursor is None:
            break
    assert sorted(t["id"] for t in seen) == ids
    key = {"-costUsd": "costUsd", "-durationS": "durationS"}.get(sort, "createdAt")
    values = [(t[key], t["id"]) for t in seen]
    assert values == sorted(values, reverse=sort.startswith("-"))


def test_filters(client: TestClient, store: Store) -> None:
    a = add_finished_task(store, prompt="Refactor the PARSER", provider="codex")
    b = add_finished_task(store, prompt="write docs", status="failed")
    c = client.post("/api/tasks", json={"prompt": "100% parser_coverage"}).json()["id"]

    def ids(**params: Any) -> list[int]:
        response = client.get("/api/tasks", params=params)
        assert response.status_code == 200, response.text
        return [t["id"] for t in response.json()["items"]]

    assert ids(status="failed") == [b]
    assert ids(status="queued") == [c]
    assert ids(provider="codex") == [a]
    assert ids(q="parser") == [c, a]
    assert ids(q="100%") == [c] and ids(q="_cov") == [c] and ids(q="%x") == []
    future = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    assert ids(since=future) == [] and ids(until=past) == []
    assert ids(since=past, until=future) == [c, b, a]


@pytest.mark.parametrize(
    ("params", "field"),
    [
        ({"limit": 0}, "limit"),
        ({"limit": 201}, "limit"),
        ({"status": "done"}, "status"),
        ({"sort": "prompt"}, "sort"),
        ({"since": "yesterday"}, "since"),
        ({"cursor": "garbage!"}, "cursor"),
    ],
)
def test_list_refuses_bad_parameters(
    client: TestClient, params: dict[str, Any], field: str
) -> None:
    response = client.get("/api/tasks", params=params)
    assert response.status_code == 422
    assert error_fields(response) == [field]


def test_a_cursor_belongs_to_its_sort(client: TestClient) -> None:
    for i in range(3):
        client.post("/api/tasks", json={"prompt": f"t{i}"})
    cursor = client.get("/api/tasks", params={"limit": 1}).json()["nextCursor"]
    response = client.get("/api/tasks", params={"limit": 1, "sort": "-costUsd", "cursor": cursor})
    assert response.status_code == 422 and error_fields(response) == ["cursor"]


def test_detail_has_attempts_and_routing_reason(client: TestClient, store: Store) -> None:
    task_id = add_finished_task(store, seconds=12.5)
    body = TaskDetail.model_validate(client.get(f"/api/tasks/{task_id}").json())
    assert body.routing_reason == "test" and body.result_text == "ok"
    assert body.duration_s == 12.5
    (attempt,) = body.attempts
    assert attempt.provider == "claude-code" and attempt.outcome == "success"
    assert attempt.files_changed == ["a.py"] and attempt.input_tokens == 1000


def test_unknown_task_is_a_json_404(client: TestClient) -> None:
    for path in ("/api/tasks/999", "/api/tasks/999/events"):
        response = client.get(path)
        assert response.status_code == 404
        assert response.json()["error"]["code"] == "not_found"
    assert client.post("/api/tasks/999/cancel").status_code == 404


def test_events_page_by_after(client: TestClient, store: Store) -> None:
    task_id = add_finished_task(
        store, events=[AgentEvent(EventKind.TEXT, text=f"line {i}") for i in range(7)]
    )
    body = EventPage.model_validate(
        client.get(f"/api/tasks/{task_id}/events", params={"limit": 5}).json()
    )
    assert len(body.items) == 5 and body.next_after == body.items[-1].id
    assert body.items[0].kind == "text" and body.items[0].data.text == "line 0"
    assert body.items[0].data.model_dump(exclude_none=True) == {"text": "line 0"}
    rest = client.get(f"/api/tasks/{task_id}/events", params={"after": body.next_after}).json()
    assert [e["data"]["text"] for e in rest["items"]] == ["line 5", "line 6"]
    assert rest["nextAfter"] is None


def test_cancel(client: TestClient, store: Store) -> None:
    queued = client.post("/api/tasks", json={"prompt": "wait"}).json()["id"]
    response = client.post(f"/api/tasks/{queued}/cancel")
    assert response.status_code == 202
    assert response.json() == {"id": queued, "status": "cancelled"}
    task = store.get_task(queued)
    assert task is not None and task.status == "cancelled"
    again = client.post(f"/api/tasks/{queued}/cancel")
    assert again.status_code == 409
    assert again.json()["error"]["code"] == "task_not_cancellable"
