"""``ado workers``: the registry as a table, and as JSON (the shape of ``GET /api/workers``);
a lost worker it finds is taken on the way (its task interrupted), not listed."""

from __future__ import annotations

import json
from typing import Any

from ado.api import schemas
from tests.fixtures.ado import Project


def test_workers_lists_the_live_pools(project: Project) -> None:
    project.write_config({})  # no agent needed
    assert "No worker pool is running" in project.run("workers", check_code=0).stdout
    assert json.loads(project.run("workers", "--json", check_code=0).stdout) == []

    store = project.store()
    common: dict[str, Any] = {"concurrency": 2, "queues": ("fast",), "on_lost": "requeue"}
    store.register_worker(hostname="box-1", pid=11, kind="worker", timeout=600, **common)
    store.register_worker(hostname="box-2", pid=22, kind="serve", timeout=-1, **common)
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    store.update_task(task_id, owner_host="box-1", owner_pid=11)
    lost_task = store.create_task(prompt="q", cwd="/", hitl_policy="autonomous", options={})
    store.update_task(lost_task, owner_host="box-2", owner_pid=22)
    store.close()

    table = project.run("workers", check_code=0).stdout
    assert "box-1" in table and f"1/2 #{task_id}" in table and "fast" in table
    assert "box-2" not in table  # past its timeout: taken as lost, its task re-queued
    assert project.task(lost_task).status == "queued"
    [worker] = json.loads(project.run("workers", "--json", check_code=0).stdout)
    schemas.WorkerOut.model_validate(worker)
    assert (worker["hostname"], worker["kind"], worker["running"]) == ("box-1", "worker", [task_id])
