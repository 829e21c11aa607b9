"""Two ``ado serve`` processes over one PostgreSQL: each in the worker registry, and a pool
killed (SIGKILL) or hung (SIGSTOP) mid-task found lost by the other, its task interrupted
or re-queued per ``orchestration.onWorkerLost`` — never left ``running``."""

from __future__ import annotations

import signal
import socket
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
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


def _configure(
    project: Project, gate: Gate, per_hour: int | None = None, **orchestration: Any
) -> None:
    """The gated agent (``per_hour``: with that limit, so each run reserves its request)."""
    provider = gate.provider()
    if per_hour is not None:
        limits = {"rateLimits": {"requestsPerHour": per_hour}}
        provider["accessModes"][0]["subscription"] = limits
    project.write_config(
        {"cursor-agent": provider},
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


def _task_on_one_of_two(serve: Serve, pg_store: Store) -> tuple[int, int, Server, Server]:
    """Two pools, a task submitted running on one: (task id, its agent's pid, the pool
    running it, the other)."""
    servers = _two_servers(serve)
    task_id = _submit(servers[0])
    owner, agent = wait_for(lambda: running_agent(pg_store, task_id), what="the agent")
    [running] = [s for s in servers if s.pid == owner]
    [other] = [s for s in servers if s.pid != owner]
    return task_id, agent, running, other


def test_a_pool_killed_mid_task_is_lost_and_its_task_interrupted(
    project: Project, gate: Gate, serve: Serve, pg_store: Store
) -> None:
    _configure(project, gate)
    task_id, agent, killed, survivor = _task_on_one_of_two(serve, pg_store)
    owner = killed.pid
    for worker in listed_workers(survivor):
        assert worker["kind"] == "serve" and worker["concurrency"] == 1
        assert worker["onLost"] == "interrupt" and worker["heartbeatAgeS"] < TIMEOUT
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
    task_id, agent, hung, survivor = _task_on_one_of_two(serve, pg_store)
    owner = hung.pid
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


@pytest.mark.parametrize("on_lost", ["interrupt", "requeue"])
def test_a_woken_pool_writes_nothing_to_the_task_it_lost(
    project: Project, gate: Gate, serve: Serve, pg_store: Store, on_lost: str
) -> None:
    """The fence: a pool SIGSTOP'd past workerTimeout is taken as lost (its task interrupted,
    or re-queued and run by the other pool); woken by SIGCONT, its runner finds its agent
    stopped and writes nothing more to the task: none of its events (its attempt's end, its
    ``task_finished``), usage or status lands after the takeover; the task's log and final
    state are the new owner's (or the taker's: interrupted)."""
    _configure(project, gate, per_hour=100, onWorkerLost=on_lost)
    task_id, agent, hung, survivor = _task_on_one_of_two(serve, pg_store)
    owner = hung.pid
    try:
        hung.signal(signal.SIGSTOP)
        released = "interrupted" if on_lost == "interrupt" else "queued"
        taken = wait_for(
            lambda: (
                (t := pg_store.get_task(task_id))
                and t.attempts[0].outcome == "interrupted"
                and (t.status == released or t.owner_pid not in (None, owner))
                and t
            ),
            what="the other pool to take the task",
        )
        # The hung pool is stopped: every event stored from here on is written after the
        # takeover. (It may have been stopped before it stored its attempt's first event,
        # which it stores once its agent runs: then that one must not land either.)
        mark = max((e.id for e in pg_store.list_events(task_id)), default=0)
        first = taken.attempts[0]
        assert first.outcome == "interrupted"
        if on_lost == "requeue":
            wait_for(
                lambda: (r := running_agent(pg_store, task_id, attempt=1)) and r[0] == survivor.pid,
                what="the other pool to run the task again",
            )

            def started_again() -> list[int]:  # stored once its agent runs
                return [
                    e.id
                    for e in pg_store.list_events(task_id)
                    if e.kind == "attempt_started" and e.attempt_id != first.id
                ]

            # The other pool may have started its attempt before the snapshot above: the
            # events after the takeover begin at its attempt_started (the hung pool, stopped,
            # wrote none meanwhile).
            mark = min(wait_for(started_again, what="the other pool's attempt_started")) - 1
        wait_for(lambda: group_gone(agent), what="the hung pool's agent to be stopped")

        hung.signal(signal.SIGCONT)
        wait_for(lambda: "was taken as lost" in hung.output(), what="the pool to notice")
        wait_for(
            lambda: [w["tasksDone"] for w in listed_workers(survivor) if w["pid"] == owner] == [1],
            what="the woken pool's runner to end",
        )
        gate.open()
        final = wait_for(
            lambda: (
                (t := pg_store.get_task(task_id)) and t.status not in ("running", "queued") and t
            ),
            what="the task to end",
        )
        after = pg_store.list_events(task_id, after_id=mark)
        assert [e for e in after if e.attempt_id == first.id] == []
        again = next((a for a in final.attempts if a.id != first.id), None)
        if on_lost == "interrupt":
            assert final.status == "interrupted" and again is None
            assert after == [], [(e.kind, e.data) for e in after]
            assert (final.error, final.finished_at) == (taken.error, taken.finished_at)
        else:
            assert final.status == "succeeded" and again is not None
            assert {e.attempt_id for e in after} <= {again.id, None}
            kinds = [e.kind for e in after]
            assert kinds[0] == "attempt_started" and kinds[-2:] == [
                "attempt_finished",
                "task_finished",
            ], kinds
            assert after[-1].data["data"]["status"] == "succeeded"
        finished = [e for e in pg_store.list_events(task_id) if e.kind == "task_finished"]
        assert len(finished) == (0 if on_lost == "interrupt" else 1)
        [stale] = [a for a in final.attempts if a.id == first.id]
        assert (stale.outcome, stale.finished_at, stale.outcome_message) == (
            first.outcome,
            first.finished_at,
            first.outcome_message,
        )
        # One request reserved per agent started, the woken pool reserving no other.
        since = taken.created_at - timedelta(minutes=1)
        used = pg_store.usage_totals("cursor-agent", "subscription", since)
        assert used.requests == len(final.attempts) == gate.starts()
        assert "Traceback" not in hung.output()
    finally:
        hung.proc.kill()
        hung.proc.wait()
