"""``POST /api/tasks`` answered by ``ado.api.fastpath`` and by the FastAPI route alone: the
same answers, case by case; concurrent submissions group-committed with the right ids."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.testclient import TestClient

from ado.api import RateLimit, create_app
from ado.api.fastpath import MAX_BODY
from ado.store import Store

from .conftest import loaded_config

CASES: list[tuple[str, bytes, dict[str, str]]] = [
    ("minimal", b'{"prompt": "fix it"}', {}),
    ("charset", b'{"prompt": "fix it"}', {"content-type": "application/json; charset=utf-8"}),
    ("options", json.dumps({"prompt": "p", "providers": ["codex"], "maxCost": 1}).encode(), {}),
    ("policy", b'{"prompt": "p", "hitlPolicy": "review-edits", "yolo": true}', {}),
    ("unicode", json.dumps({"prompt": "répare ça ✓"}).encode(), {}),
    ("no prompt", b"{}", {}),
    ("empty prompt", b'{"prompt": ""}', {}),
    ("unknown field", b'{"prompt": "p", "colour": "red"}', {}),
    ("unknown provider", b'{"prompt": "p", "provider": "nope"}', {}),
    ("both provider forms", b'{"prompt": "p", "provider": "codex", "providers": ["codex"]}', {}),
    ("no such cwd", b'{"prompt": "p", "cwd": "/no/such/dir"}', {}),
    ("bad number", b'{"prompt": "p", "maxTurns": 0}', {}),
    ("not json", b'{"prompt": ', {}),
    ("json array", b'["prompt"]', {}),
    ("empty body", b"", {}),
    ("form body", b"prompt=p", {"content-type": "application/x-www-form-urlencoded"}),
    ("no content type", b'{"prompt": "p"}', {"content-type": ""}),
    ("big body", json.dumps({"prompt": "x" * (MAX_BODY + 10)}).encode(), {}),
]
VOLATILE = {"id", "createdAt"}


def answer(client: TestClient, body: bytes, headers: dict[str, str]) -> tuple[int, Any]:
    sent = {"content-type": "application/json", **headers}
    if not sent["content-type"]:
        del sent["content-type"]
    response = client.post("/api/tasks", content=body, headers=sent)
    data = response.json()
    if response.status_code == 201:
        data = {k: v for k, v in data.items() if k not in VOLATILE}
    return response.status_code, data


@pytest.mark.parametrize(("case", "body", "headers"), CASES, ids=[c[0] for c in CASES])
def test_fast_path_answers_as_the_route_does(
    make_client: Callable[..., TestClient],
    store: Store,
    case: str,
    body: bytes,
    headers: dict[str, str],
) -> None:
    fast = make_client()
    route = make_client(fast_submit=False)
    before = len(store.list_tasks(limit=1000))
    got_fast = answer(fast, body, headers)
    got_route = answer(route, body, headers)
    assert got_fast == got_route
    status, data = got_fast
    if status == 201:
        assert data["status"] == "queued"
    else:
        assert status in (400, 413, 415, 422) and set(data) == {"error"}, data
        assert len(store.list_tasks(limit=1000)) == before  # nothing stored when refused


def test_fast_path_keeps_auth_and_rate_limit_headers(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(require_auth=True, rate_limit=RateLimit(per_minute=1000))
    response = client.post("/api/tasks", json={"prompt": "p"})
    assert response.status_code == 401
    assert "x-ratelimit-limit" in response.headers
    assert response.json()["error"]["code"] == "unauthorized"


async def test_concurrent_submissions_get_their_own_ids(store: Store, tmp_path: Path) -> None:
    app = create_app(
        loaded_config=loaded_config(tmp_path), store=store, rate_limit=RateLimit(per_minute=10**6)
    )
    transport = httpx.ASGITransport(app=app)
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as http:
            responses = await asyncio.gather(
                *(http.post("/api/tasks", json={"prompt": f"task {i}"}) for i in range(60))
            )
    finally:
        app.state.task_writer.close()
    assert all(r.status_code == 201 for r in responses)
    ids = [r.json()["id"] for r in responses]
    assert len(set(ids)) == 60
    for i, task_id in enumerate(ids):
        task = store.get_task(task_id)
        assert task is not None and task.prompt == f"task {i}" and task.status == "queued"
    writer = app.state.task_writer
    assert writer.written == 60 and writer.batches < 60  # group commit shared transactions


def test_a_valid_submission_does_not_reach_the_route(
    make_client: Callable[..., TestClient], monkeypatch: pytest.MonkeyPatch
) -> None:
    import ado.api.routes.tasks as routes

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("the FastAPI route answered")

    client = make_client()
    monkeypatch.setattr(routes, "json_response", fail)
    assert client.post("/api/tasks", json={"prompt": "p"}).status_code == 201
    with pytest.raises(AssertionError, match="the FastAPI route answered"):
        make_client(fast_submit=False).post("/api/tasks", json={"prompt": "p"})
