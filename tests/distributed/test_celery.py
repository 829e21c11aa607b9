"""The celery executor with real processes: ``ado serve --executor celery``, ``ado worker``
subprocesses, Redis and PostgreSQL started by the fixtures, scripted agents."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections import Counter

import pytest

from tests.distributed.conftest import Agent, Cluster
from tests.support import group_gone, wait_for

pytestmark = pytest.mark.postgres

DONE = {"succeeded", "failed", "cancelled", "interrupted"}


def _all_done(cluster: Cluster, ids: list[int]) -> dict[int, str] | None:
    statuses = cluster.statuses(ids)
    return statuses if set(statuses.values()) <= DONE else None


def test_twenty_tasks_spread_over_two_workers_each_agent_started_once(
    cluster: Cluster, agent: Agent
) -> None:
    cluster.configure(agent)
    cluster.serve()
    first = cluster.worker("-c", "2", "--hostname", "one@%h")
    second = cluster.worker("-c", "2", "--hostname", "two@%h")
    ids = [cluster.submit(f"task-{n}") for n in range(20)]
    # Four agents at once, two per worker: each takes one message per free slot.
    wait_for(lambda: len(agent.starts()) == 4, 60, what="four agents to start")
    assert Counter(parent for _, parent, _ in agent.starts()) == {first.pid: 2, second.pid: 2}
    # Celery's own tools see ADO's workers and what they run.
    active = subprocess.run(
        [sys.executable, "-m", "celery", "--broker", cluster.redis.url, "inspect", "active"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert active.returncode == 0, active.stdout + active.stderr
    assert active.stdout.count("'name': 'ado.run_task'") == 4, active.stdout
    assert "2 nodes online" in active.stdout
    agent.open()
    statuses = wait_for(lambda: _all_done(cluster, ids), 120, what="the 20 tasks to end")
    assert set(statuses.values()) == {"succeeded"}
    prompts = Counter(prompt for _, _, prompt in agent.starts())
    assert prompts == {f"task-{n}": 1 for n in range(20)}  # each agent started exactly once
    # every agent ran on a worker, none in the server
    assert {parent for _, parent, _ in agent.starts()} == {first.pid, second.pid}
    # what the workers recorded, the server's API shows
    with cluster.client() as client:
        events = client.get(f"/api/tasks/{ids[0]}/events").json()["items"]
        listed = client.get("/api/tasks", params={"limit": 50}).json()["items"]
    kinds = [event["kind"] for event in events]
    assert {"attempt_started", "result", "attempt_finished"} <= set(kinds), kinds
    assert {task["id"] for task in listed} >= set(ids)


def test_a_redelivered_message_does_not_start_a_second_agent(
    cluster: Cluster, agent: Agent
) -> None:
    cluster.configure(agent, visibilityTimeout=1)
    cluster.serve()
    worker = cluster.worker("-c", "2")
    task_id = cluster.submit("long")
    wait_for(lambda: len(agent.starts()) == 1, 60, what="the agent to start")
    # The agent outlives the visibility timeout: Redis hands the message out again, and the
    # worker's second slot takes it, finds the task claimed and acknowledges it.
    wait_for(lambda: worker.output().count("] received") == 2, 60, what="a second delivery")
    wait_for(lambda: "] succeeded" in worker.output(), 60, what="the second delivery to end")
    assert len(agent.starts()) == 1 and cluster.task(task_id)["status"] == "running"
    agent.open()
    wait_for(lambda: cluster.task(task_id)["status"] in DONE, 60, what="the task to end")
    assert cluster.task(task_id)["status"] == "succeeded"
    assert len(agent.starts()) == 1


def test_cancel_reaches_the_agent_on_the_worker(cluster: Cluster, agent: Agent) -> None:
    cluster.configure(agent)
    cluster.serve()
    cluster.worker("-c", "1")
    running, queued = cluster.submit("first"), cluster.submit("second")
    wait_for(lambda: len(agent.starts()) == 1, 60, what="the first agent")
    agent_pid = agent.starts()[0][0]
    with cluster.client() as client:
        response = client.post(f"/api/tasks/{queued}/cancel")
        assert response.status_code == 202 and response.json()["status"] == "cancelled"
        response = client.post(f"/api/tasks/{running}/cancel")
        assert response.status_code == 202 and response.json()["status"] == "cancelling"
    wait_for(lambda: cluster.task(running)["status"] == "cancelled", 30, what="it cancelled")
    wait_for(lambda: group_gone(agent_pid), 30, what="the agent's process group to go")
    assert cluster.task(running)["attempts"][0]["outcome"] == "cancelled"
    assert cluster.task(queued)["status"] == "cancelled"
    assert len(agent.starts()) == 1  # the cancelled queued task's message started nothing


def test_redis_restarted_mid_run_loses_nothing(cluster: Cluster, agent: Agent) -> None:
    cluster.configure(agent)
    cluster.serve()
    cluster.worker("-c", "1")
    cluster.worker("-c", "1")
    ids = [cluster.submit(f"task-{n}") for n in range(6)]
    wait_for(lambda: len(agent.starts()) == 2, 60, what="two agents to start")
    cluster.redis.restart()  # no persistence: the four waiting messages are gone
    agent.open()
    statuses = wait_for(lambda: _all_done(cluster, ids), 120, what="the six tasks to end")
    assert set(statuses.values()) == {"succeeded"}
    prompts = Counter(prompt for _, _, prompt in agent.starts())
    assert prompts == {f"task-{n}": 1 for n in range(6)}


def test_a_routed_task_waits_for_a_worker_of_its_queue(cluster: Cluster, agent: Agent) -> None:
    cluster.configure(agent, routes={"cursor-agent": "cursors"})
    cluster.serve()
    default = cluster.worker("-c", "1")  # takes the default queue, "ado"
    with cluster.client() as client:
        response = client.post("/api/tasks", json={"prompt": "routed", "provider": "cursor-agent"})
    assert response.status_code == 201, response.text
    routed = response.json()["id"]
    plain = cluster.submit("plain")
    wait_for(lambda: len(agent.starts()) == 1, 60, what="the plain task's agent")
    assert agent.starts()[0][1:] == (default.pid, "plain")
    agent.open()
    wait_for(lambda: cluster.task(plain)["status"] == "succeeded", 60, what="the plain task")
    assert cluster.task(routed)["status"] == "queued"  # nobody takes "cursors" yet
    cursors = cluster.worker("-c", "1", "--queues", "cursors")
    wait_for(lambda: cluster.task(routed)["status"] == "succeeded", 60, what="the routed task")
    assert agent.starts()[1][1:] == (cursors.pid, "routed")


def test_sigterm_cancels_after_the_grace_and_the_queue_waits_for_the_next_worker(
    cluster: Cluster, agent: Agent
) -> None:
    cluster.configure(agent)
    cluster.serve()
    first = cluster.worker("-c", "1", "--grace", "1")
    running, waiting = cluster.submit("first"), cluster.submit("second")
    wait_for(lambda: len(agent.starts()) == 1, 60, what="the first agent")
    agent_pid = agent.starts()[0][0]
    first.proc.send_signal(signal.SIGTERM)
    assert first.proc.wait(60) == 0, first.output()
    assert cluster.task(running)["status"] == "cancelled"
    assert group_gone(agent_pid)
    assert cluster.task(waiting)["status"] == "queued"  # its message stayed in Redis
    second = cluster.worker("-c", "1")
    agent.open()
    wait_for(lambda: cluster.task(waiting)["status"] == "succeeded", 60, what="the second task")
    assert [start[1:] for start in agent.starts()] == [(first.pid, "first"), (second.pid, "second")]
