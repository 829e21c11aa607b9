"""What a test of the worker registry asks of a running ADO: the workers ``GET /api/workers``
lists, and the task whose agent a worker runs (read from the store: the API shows no pids)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    import httpx

    from ado.store.methods import SqlMethods


class Served(Protocol):
    """An ``ado serve`` a test started: ``tests.server.conftest.Server``, the celery tests'
    ``Cluster``."""

    def client(self) -> httpx.Client: ...


def listed_workers(served: Served) -> list[dict[str, Any]]:
    """``GET /api/workers``: the registry's live workers."""
    with served.client() as client:
        response = client.get("/api/workers")
    assert response.status_code == 200, response.text
    body: list[dict[str, Any]] = response.json()
    return body


def running_agent(store: SqlMethods, task_id: int, attempt: int = 0) -> tuple[int, int] | None:
    """(owner pid, agent pid) once attempt ``attempt`` of the running task has its agent."""
    task = store.get_task(task_id)
    if task is None or task.status != "running" or len(task.attempts) <= attempt:
        return None
    agent = task.attempts[attempt].agent_pid
    return (task.owner_pid, agent) if task.owner_pid and agent else None
