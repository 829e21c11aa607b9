"""The celery executor with real processes: ``ado serve --executor celery``, ``ado worker``
subprocesses, Redis and PostgreSQL started by the fixtures, scripted agents. (Twenty tasks over
two workers, a shared limit and workers killed mid-task: test_fleet.py.)"""

from __future__ import annotations

import signal
from collections import Counter

import pytest

from tests.distributed.conftest import Agent, Cluster
from tests.support import group_gone, wait_for

pytestmark = pytest.mark.postgres

DONE = {"succeeded", "failed", "cancelled", "interrupted"}


def _all_done(cluster: Cluster, ids: list[int]) -> dict[int, str] | None:
    statuses = cluster.statuses(ids)
    return statuses if set(statuses.values()) <= DONE else None


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
