"""The celery executor as a fleet: ``ado serve --executor celery`` and two real ``ado worker``
subprocesses over PostgreSQL and Redis, scripted agents — a provider limit shared by the
workers, and a worker killed mid-task (SIGKILL of its whole process group)."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ado.store import Store
from tests.distributed.conftest import Agent, Cluster, Worker
from tests.support import group_gone, listed_workers, running_agent, wait_for

pytestmark = pytest.mark.postgres

#: The provider's limit: fewer requests an hour than the tasks submitted.
PER_HOUR = 12
TASKS = 20
#: orchestration.workerTimeout of the fault tests (the shortest allowed: a beat a second).
TIMEOUT = 3
#: What a lost worker's task may take beyond the timeout: the survivor's next beat, the
#: dispatcher's sweep, a loaded 2-core machine.
MARGIN = 5


@pytest.fixture
def store(cluster: Cluster) -> Iterator[Store]:
    """The cluster's PostgreSQL, read directly (what the API does not show: agent pids,
    usage records)."""
    store = Store(cluster.postgres_url)
    store.migrate()
    try:
        yield store
    finally:
        store.close()


def _settled(cluster: Cluster, ids: list[int]) -> dict[int, dict[str, Any]] | None:
    """Every task, once none is queued or running any more."""
    with cluster.client() as client:
        response = client.get("/api/tasks", params={"limit": 100})
    assert response.status_code == 200, response.text
    tasks = {t["id"]: t for t in response.json()["items"] if t["id"] in ids}
    if len(tasks) < len(ids) or any(t["status"] in ("queued", "running") for t in tasks.values()):
        return None
    return tasks


def test_twenty_tasks_on_two_workers_never_overshoot_the_providers_hourly_limit(
    cluster: Cluster, agent: Agent, store: Store
) -> None:
    """20 tasks, 12 requests an hour: exactly 12 agents start, spread over both workers,
    each once; the other 8 are parked until the hour's oldest request ages out (the limit's
    reset), their agents never started."""
    cluster.configure(agent, per_hour=PER_HOUR)
    cluster.serve()
    first = cluster.worker("-c", "2", "--hostname", "one@%h")
    second = cluster.worker("-c", "2", "--hostname", "two@%h")
    before = datetime.now(UTC)
    prompts_by_id = {cluster.submit(f"task-{n}"): f"task-{n}" for n in range(TASKS)}
    ids = list(prompts_by_id)
    # Four agents at once, two per worker: each takes one message per free slot.
    wait_for(lambda: len(agent.starts()) == 4, 60, what="four agents to start")
    assert Counter(parent for _, parent, _ in agent.starts()) == {first.pid: 2, second.pid: 2}
    # Celery's own tools see ADO's workers, by the names they were given, and what they run.
    host = socket.gethostname()
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
    assert f"one@{host}: OK" in active.stdout and f"two@{host}: OK" in active.stdout
    agent.open()
    tasks = wait_for(lambda: _settled(cluster, ids), 120, what="the 20 tasks to settle")
    after = datetime.now(UTC)

    statuses = Counter(t["status"] for t in tasks.values())
    assert statuses == {"succeeded": PER_HOUR, "parked": TASKS - PER_HOUR}, statuses
    ran_ids = [i for i, t in tasks.items() if t["status"] == "succeeded"]
    ran = {prompts_by_id[i] for i in ran_ids}
    prompts = Counter(prompt for _, _, prompt in agent.starts())
    assert prompts == dict.fromkeys(ran, 1)  # each agent started once; none for a parked task
    assert {parent for _, parent, _ in agent.starts()} == {first.pid, second.pid}
    # The limit counted every request once, across both workers: none over, none leaked
    # by the tasks that routed and found it used up.
    used = store.usage_totals("cursor-agent", "subscription", before - timedelta(minutes=1))
    assert used.requests == PER_HOUR
    for task in (t for t in tasks.values() if t["status"] == "parked"):
        assert task["attemptCount"] == 0 and task["parks"] == 1, task
        assert task["parkReason"].startswith("waiting for cursor-agent's "), task
        # Looked at again when the rolling hour's oldest request ages out.
        until = datetime.fromisoformat(task["parkedUntil"])
        assert before + timedelta(hours=1) <= until <= after + timedelta(hours=1, seconds=1)

    workers = wait_for(
        lambda: (w := listed_workers(cluster)) and sum(x["tasksDone"] for x in w) == TASKS and w,
        30,
        what="the workers' beats to count the 20 tasks",
    )
    assert sorted((w["name"], w["hostname"], w["pid"]) for w in workers) == [
        (f"one@{host}", host, first.pid),
        (f"two@{host}", host, second.pid),
    ]
    for worker in workers:
        assert worker["kind"] == "worker" and worker["concurrency"] == 2, worker
        assert worker["queues"] == ["ado"] and worker["running"] == [], worker
        assert worker["tasksDone"] > 0, worker  # both ran some
    for worker in (first, second):
        assert "Traceback" not in worker.output(), worker.output()
    # What the workers recorded, the server's API shows.
    with cluster.client() as client:
        events = client.get(f"/api/tasks/{min(ran_ids)}/events").json()["items"]
    kinds = [event["kind"] for event in events]
    assert {"attempt_started", "result", "attempt_finished", "task_finished"} <= set(kinds), kinds


#: Where the workers run: all on this host, whose pools see at once that a process of their
#: host exited; or each on a machine of its own (its own host name), where only the
#: heartbeat's timeout tells that a worker is gone.
Nodes = tuple[str | None, ...]
HERE: Nodes = (None, None)
NODES: Nodes = ("node-a", "node-b")


@dataclass
class Kill:
    """A worker killed while it ran the task's agent, and the one left (if any)."""

    killed: Worker
    survivor: Worker | None
    #: The killed worker's agent (its process group).
    agent_pid: int
    #: The host name the killed worker registered with.
    host: str
    #: When it was killed (``time.monotonic()``).
    at: float

    def elapsed(self) -> float:
        return time.monotonic() - self.at


def _kill_the_owner(cluster: Cluster, store: Store, nodes: Nodes) -> tuple[int, Kill]:
    """A worker (one slot) on each of ``nodes``, one task: SIGKILL the whole process group of
    the worker that runs its agent. (The task's id, the kill.)"""
    workers = [
        cluster.worker("-c", "1", "--hostname", f"w{n}@%h", node=node)
        for n, node in enumerate(nodes)
    ]
    registered = wait_for(
        lambda: len(w := listed_workers(cluster)) == len(nodes) and w,
        30,
        what="every worker in the registry",
    )
    hosts = {w["pid"]: w["hostname"] for w in registered}
    assert sorted(hosts) == sorted(w.pid for w in workers)
    task_id = cluster.submit("do it")
    owner, agent_pid = wait_for(lambda: running_agent(store, task_id, 0), 60, what="the agent")
    [killed] = [w for w in workers if w.pid == owner]
    survivor = next((w for w in workers if w.pid != owner), None)
    assert [w["running"] for w in listed_workers(cluster) if w["pid"] == owner] == [[task_id]]
    killed.kill_group()
    return task_id, Kill(killed, survivor, agent_pid, hosts[owner], time.monotonic())


def _taken_in_time(kill: Kill, nodes: Nodes) -> None:
    """The killed worker was taken as lost at the first beat after the kill (this host: its
    process is gone) or once its heartbeat expired (another machine)."""
    taken = kill.elapsed()
    if nodes == HERE:
        assert taken < TIMEOUT, taken
    else:  # its last beat came at most a beat interval (+ the 0.5 s poll) before the kill
        assert TIMEOUT - TIMEOUT / 3 - 0.5 <= taken < TIMEOUT + MARGIN, taken


def _taken_by(cluster: Cluster, kill: Kill, what: str, why: str = "") -> list[str]:
    """Who logged taking the killed worker as lost (``server``, ``survivor``: whichever
    looked first; only one may), saying ``why`` and what it did with its task."""
    said = re.compile(
        rf"worker pool {kill.killed.pid} on {kill.host} lost \({why}.*\): {what} its task"
    )
    assert cluster.server is not None
    outputs = {"server": cluster.server.output()}
    if kill.survivor is not None:
        outputs["survivor"] = kill.survivor.output()
    return [who for who, output in outputs.items() if said.search(output)]


@pytest.mark.parametrize("nodes", [HERE, NODES], ids=["this-host", "other-machines"])
def test_a_worker_killed_mid_task_has_its_task_interrupted(
    cluster: Cluster, agent: Agent, store: Store, nodes: Nodes
) -> None:
    cluster.configure(agent, workerTimeout=TIMEOUT)
    cluster.serve()
    task_id, kill = _kill_the_owner(cluster, store, nodes)
    assert kill.survivor is not None

    task = wait_for(
        lambda: (t := cluster.task(task_id))["status"] != "running" and t,
        TIMEOUT + MARGIN,
        what="the task to leave running",
    )
    _taken_in_time(kill, nodes)
    assert task["status"] == "interrupted", task
    why = "exited" if nodes == HERE else r"went silent \(no heartbeat for \d+ s\)"
    assert re.fullmatch(
        f"ADO worker pool {kill.killed.pid} on {kill.host} {why} while the task was running",
        task["error"],
    ), task["error"]
    assert [a["outcome"] for a in task["attempts"]] == ["interrupted"]
    wait_for(lambda: group_gone(kill.agent_pid), MARGIN, what="the killed worker's agent to stop")
    assert [w["pid"] for w in listed_workers(cluster)] == [kill.survivor.pid]
    assert len(_taken_by(cluster, kill, "interrupted")) == 1
    # Interrupted is final: nothing runs it again, and the survivor takes the next task.
    agent.open()
    after = cluster.submit("next")
    wait_for(lambda: cluster.task(after)["status"] == "succeeded", 60, what="the next task")
    assert [parent for _, parent, _ in agent.starts()] == [kill.killed.pid, kill.survivor.pid]
    assert cluster.task(task_id)["status"] == "interrupted"
    assert "Traceback" not in kill.survivor.output()


def test_a_worker_killed_mid_task_has_its_task_run_again_on_the_other(
    cluster: Cluster, agent: Agent, store: Store
) -> None:
    """onWorkerLost: requeue, the workers on machines of their own."""
    cluster.configure(agent, workerTimeout=TIMEOUT, onWorkerLost="requeue")
    cluster.serve()
    task_id, kill = _kill_the_owner(cluster, store, NODES)
    assert kill.survivor is not None

    rerun = wait_for(
        lambda: running_agent(store, task_id, 1), TIMEOUT + MARGIN, what="the task to run again"
    )
    assert rerun[0] == kill.survivor.pid and rerun[1] != kill.agent_pid
    wait_for(lambda: group_gone(kill.agent_pid), MARGIN, what="the killed worker's agent to stop")
    assert kill.elapsed() < TIMEOUT + MARGIN
    assert [w["pid"] for w in listed_workers(cluster)] == [kill.survivor.pid]
    assert [(parent, prompt) for _, parent, prompt in agent.starts()] == [
        (kill.killed.pid, "do it"),
        (kill.survivor.pid, "do it"),
    ]
    agent.open()
    task = wait_for(
        lambda: (t := cluster.task(task_id))["status"] == "succeeded" and t,
        60,
        what="the re-run task to succeed",
    )
    assert [a["outcome"] for a in task["attempts"]] == ["interrupted", "success"]
    assert len(agent.starts()) == 2
    assert len(_taken_by(cluster, kill, "re-queued", "went silent")) == 1
    assert "Traceback" not in kill.survivor.output()


def test_the_last_worker_killed_mid_task_is_taken_by_the_server(
    cluster: Cluster, agent: Agent, store: Store
) -> None:
    """No other worker to notice (a fleet of one, its machine lost): ``ado serve`` takes the
    worker as lost once its heartbeat expires; the task, re-queued, waits for the worker
    that replaces it."""
    cluster.configure(agent, workerTimeout=TIMEOUT, onWorkerLost="requeue")
    cluster.serve()
    lone: Nodes = ("node-a",)
    task_id, kill = _kill_the_owner(cluster, store, lone)
    assert kill.survivor is None

    wait_for(
        lambda: cluster.task(task_id)["status"] != "running",
        TIMEOUT + MARGIN,
        what="the task to leave running",
    )
    _taken_in_time(kill, lone)
    assert cluster.task(task_id)["status"] == "queued"
    wait_for(lambda: group_gone(kill.agent_pid), MARGIN, what="the killed worker's agent to stop")
    assert listed_workers(cluster) == []
    assert _taken_by(cluster, kill, "re-queued", "went silent") == ["server"]

    replacement = cluster.worker("-c", "1", node="node-b")
    agent.open()
    task = wait_for(
        lambda: (t := cluster.task(task_id))["status"] == "succeeded" and t,
        60,
        what="the re-queued task to succeed on the new worker",
    )
    assert [a["outcome"] for a in task["attempts"]] == ["interrupted", "success"]
    assert [parent for _, parent, _ in agent.starts()] == [kill.killed.pid, replacement.pid]
