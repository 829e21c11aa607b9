"""Two ``ado serve`` processes over one PostgreSQL: each in the worker registry, and a pool
killed (SIGKILL) or hung (SIGSTOP) mid-task found lost by the other, its task interrupted
or re-queued per ``orchestration.onWorkerLost`` — never left ``running``."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from ado.store import Store
from tests.fixtures.ado import Project
from tests.server.conftest import Gate, Server
from tests.support import group_gone, listed_workers, running_agent, wait_for

Serve = Callable[..., Server]

pytestmark = pytest.mark.postgres

#: The shortest workerTimeout allowed: pools beat every second.
TIMEOUT = 3


@pytest.fixture
def pg_store(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> Iterator[Store]:
    """The shared store: every ``ado serve`` of the test opens it (``ADO_DATABASE_URL``)."""
    monkeypatch.setenv("ADO_DATABASE_URL", postgres_url)
    store = Store(postgres_url)
    store.migrate()
    yield store
    store.close()


def _configure(project: Project, gate: Gate, **orchestration: Any) -> None:
    project.write_config(
        {"cursor-agent": gate.provider()},
        orchestration={"maxParallelAgents": 1, "workerTimeout": TIMEOUT, **orchestration},
    )


def _submit(server: Server) -> int:
    with server.client() as client:
        response = client.post("/api/tasks", json={"prompt": "do it"})
    assert response.status_code == 201, response.text
    task_id: int = response.json()["id"]
    return task_id


def _two_servers(serve: Serve) -> list[Server]:
    servers = [serve(), serve()]
    wait_for(
        lambda: (
            sorted(w["pid"] for w in listed_workers(servers[0])) == sorted(s.pid for s in servers)
        ),
        what="both pools in the registry",
    )
    return servers


def test_a_pool_killed_mid_task_is_lost_and_its_task_interrupted(
    project: Project, gate: Gate, serve: Serve, pg_store: Store
) -> None:
    _configure(project, gate)
    servers = _two_servers(serve)
    for worker in listed_workers(servers[1]):
        assert worker["kind"] == "serve" and worker["concurrency"] == 1
        assert worker["onLost"] == "interrupt" and worker["heartbeatAgeS"] < TIMEOUT
    task_id = _submit(servers[0])
    owner, agent = wait_for(lambda: running_agent(pg_store, task_id), what="the agent")
    [killed] = [s for s in servers if s.pid == owner]
    [survivor] = [s for s in servers if s.pid != owner]
    assert [w["running"] for w in listed_workers(survivor) if w["pid"] == owner] == [[task_id]]

    killed.proc.kill()
    killed.proc.wait()
    started = time.monotonic()
    task = wait_for(
        lambda: (t := pg_store.get_task(task_id)) and t.status != "running" and t,
        what="the task to leave running",
    )
    taken_after = time.monotonic() - started
    assert task.status == "interrupted" and task.finished_at is not None
    # This host: its process is gone, no need to wait for the timeout.
    assert (
        task.error
        == f"ADO worker pool {owner} on {socket.gethostname()} exited while the task was running"
    )
    assert [a.outcome for a in task.attempts] == ["interrupted"]
    wait_for(lambda: group_gone(agent), what="the lost pool's agent to be stopped")
    assert [w["pid"] for w in listed_workers(survivor)] == [survivor.pid]
    assert taken_after < TIMEOUT, taken_after

    gate.open()  # the survivor goes on taking tasks
    after = _submit(survivor)
    wait_for(
        lambda: (t := pg_store.get_task(after)) is not None and t.status == "succeeded",
        what="the next task to run on the survivor",
    )
    assert "Traceback" not in survivor.output()


def test_a_hung_pool_is_lost_after_the_timeout_and_its_task_requeued(
    project: Project, gate: Gate, serve: Serve, pg_store: Store
) -> None:
    """SIGSTOP: the process is alive but beats no more. After workerTimeout the other pool
    takes it as lost, stops its agent and runs the task again (onWorkerLost: requeue)."""
    _configure(project, gate, onWorkerLost="requeue")
    servers = _two_servers(serve)
    task_id = _submit(servers[0])
    owner, agent = wait_for(lambda: running_agent(pg_store, task_id), what="the agent")
    [hung] = [s for s in servers if s.pid == owner]
    [survivor] = [s for s in servers if s.pid != owner]
    try:
        hung.signal(signal.SIGSTOP)
        started = time.monotonic()
        wait_for(lambda: group_gone(agent), what="the hung pool's agent to be stopped")
        taken_after = time.monotonic() - started
        rerun = wait_for(
            lambda: running_agent(pg_store, task_id, attempt=1), what="the task to run again"
        )
        assert rerun[0] == survivor.pid
        wait_for(lambda: gate.starts() == 2, what="the second agent to start")
        assert [w["pid"] for w in listed_workers(survivor)] == [survivor.pid]
        gate.open()
        task = wait_for(
            lambda: (t := pg_store.get_task(task_id)) and t.status == "succeeded" and t,
            what="the re-queued task to succeed",
        )
        assert [a.outcome for a in task.attempts] == ["interrupted", "success"]
        assert f"worker pool {owner} on" in survivor.output()
        assert "no heartbeat for" in survivor.output() and "re-queued" in survivor.output()
        # Its last beat was at most a beat interval (a third of the timeout, rounded up to
        # the 0.5 s poll) before the SIGSTOP: taken no sooner than that before the timeout.
        assert TIMEOUT - TIMEOUT / 3 - 0.5 <= taken_after < TIMEOUT + 5, taken_after

        # It wakes up to find itself lost: it stops its runner, whose last writes leave what
        # became of the task alone (the status, the attempt the other pool interrupted).
        hung.signal(signal.SIGCONT)
        wait_for(lambda: "was taken as lost" in hung.output(), what="the pool to notice")
        wait_for(
            lambda: (
                sorted(w["pid"] for w in listed_workers(survivor)) == sorted([owner, survivor.pid])
            ),
            what="the woken pool to register again",
        )
        wait_for(
            lambda: [w["tasksDone"] for w in listed_workers(survivor) if w["pid"] == owner] == [1],
            what="the woken pool's runner to end",
        )
        final = pg_store.get_task(task_id)
        assert final is not None and final.status == "succeeded"
        assert [a.outcome for a in final.attempts] == ["interrupted", "success"]
        assert gate.starts() == 2
    finally:
        hung.proc.kill()
        hung.proc.wait()
