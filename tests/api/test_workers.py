"""``GET /api/workers``: the worker registry as the API serves it (``ado workers --json``
prints the same shape)."""

from __future__ import annotations

from datetime import datetime

from fastapi.testclient import TestClient

from ado.api import schemas
from ado.store import Store


def test_workers_lists_each_pool_with_what_it_runs(store: Store, client: TestClient) -> None:
    assert client.get("/api/workers").json() == []
    store.register_worker(
        hostname="host-a",
        pid=41,
        kind="worker",
        concurrency=3,
        queues=("fast",),
        on_lost="requeue",
        timeout=30,
        name="w1@host-a",
    )
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    store.update_task(task_id, owner_host="host-a", owner_pid=41)
    store.beat("host-a", 41, concurrency=3, tasks_done=5, timeout=30)

    response = client.get("/api/workers")
    assert response.status_code == 200
    body = response.json()
    [worker] = [w for w in body if w["hostname"] == "host-a"]
    assert {k: worker[k] for k in ("pid", "name", "kind", "concurrency", "queues")} == {
        "pid": 41,
        "name": "w1@host-a",
        "kind": "worker",
        "concurrency": 3,
        "queues": ["fast"],
    }
    assert worker["onLost"] == "requeue" and worker["running"] == [task_id]
    assert worker["tasksDone"] == 5 and 0 <= worker["heartbeatAgeS"] < 30
    assert datetime.fromisoformat(worker["expiresAt"]) > datetime.fromisoformat(
        worker["heartbeatAt"]
    )
    schemas.WorkerOut.model_validate(worker)
    assert "listWorkers" in client.get("/api/openapi.json").text


def test_a_lost_worker_leaves_the_list(store: Store, client: TestClient) -> None:
    store.register_worker(
        hostname="far-host",
        pid=9,
        kind="serve",
        concurrency=1,
        queues=(),
        on_lost="interrupt",
        timeout=-1,
    )
    assert [w["hostname"] for w in client.get("/api/workers").json()] == ["far-host"]
    store.take_lost_workers()
    assert [w["hostname"] for w in client.get("/api/workers").json()] == []
