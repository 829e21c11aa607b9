"""The worker registry: registration, heartbeats, lost workers taken once by whoever sees
them first, their tasks interrupted or re-queued — on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import threading
from datetime import timedelta
from typing import Any

import pytest

from ado.store import Store
from ado.store.codec import utcnow
from tests.store.test_tasks import attempt, dead_pid, new_task

HOST = socket.gethostname()


def register(store: Store, hostname: str, pid: int, **kw: Any) -> list[Any]:
    values: dict[str, Any] = {
        "kind": "serve",
        "concurrency": 4,
        "queues": (),
        "on_lost": "interrupt",
        "timeout": 30.0,
    }
    values.update(kw)
    return store.register_worker(hostname=hostname, pid=pid, **values)


def owned_by(store: Store, hostname: str, pid: int) -> int:
    """A running task (with a running attempt) owned by worker (``hostname``, ``pid``)."""
    task_id = new_task(store)
    attempt(store, task_id)  # while this process owns it: the store refuses it after
    store.update_task(task_id, owner_host=hostname, owner_pid=pid)
    return task_id


def test_a_registered_worker_is_listed_with_the_tasks_it_runs(store: Store) -> None:
    assert store.list_workers() == []
    register(store, "host-a", 101, kind="worker", queues=("fast", "slow"), name="w1@host-a")
    register(store, "host-b", 202, concurrency=2)
    runs = [owned_by(store, "host-a", 101), owned_by(store, "host-a", 101)]
    finished = new_task(store)
    store.finish_task(finished, status="succeeded")
    store.update_task(finished, owner_host="host-a", owner_pid=101)
    queued = new_task(store, status="queued")

    first, second = store.list_workers()
    assert (first.hostname, first.pid, first.kind, first.name) == (
        "host-a",
        101,
        "worker",
        "w1@host-a",
    )
    assert first.queues == ("fast", "slow") and first.running == tuple(runs)
    assert first.tasks_done == 0 and first.heartbeat_at == first.started_at
    assert (second.hostname, second.concurrency, second.queues, second.running) == (
        "host-b",
        2,
        (),
        (),
    )
    assert queued not in first.running + second.running
    assert store.is_worker("host-a", 101) and not store.is_worker("host-a", 102)

    assert store.beat("host-a", 101, concurrency=8, tasks_done=3, timeout=30)
    beaten = store.list_workers()[0]
    assert (beaten.concurrency, beaten.tasks_done) == (8, 3)
    assert beaten.heartbeat_at > first.heartbeat_at and beaten.expires_at > first.expires_at

    store.unregister_worker("host-a", 101)
    assert [w.hostname for w in store.list_workers()] == ["host-b"]
    assert not store.beat("host-a", 101, concurrency=8, tasks_done=3, timeout=30)


def test_a_worker_past_its_timeout_is_lost_and_its_tasks_interrupted(store: Store) -> None:
    register(store, "far-host", 7, timeout=-1)  # its heartbeat expired already
    register(store, "live-host", 8)
    lost_task = owned_by(store, "far-host", 7)
    live_task = owned_by(store, "live-host", 8)

    (lost,) = store.take_lost_workers()
    assert (lost.hostname, lost.pid, lost.on_lost, lost.task_ids) == (
        "far-host",
        7,
        "interrupt",
        (lost_task,),
    )
    assert lost.why.startswith("went silent (no heartbeat for")
    task = store.get_task(lost_task)
    assert task is not None and task.status == "interrupted" and task.finished_at is not None
    assert task.error is not None
    assert task.error.startswith("ADO worker pool 7 on far-host went silent (no heartbeat for")
    assert [a.outcome for a in task.attempts] == ["interrupted"]
    other = store.get_task(live_task)
    assert other is not None and other.status == "running"
    assert [w.hostname for w in store.list_workers()] == ["live-host"]
    assert store.take_lost_workers() == []  # taken once
    assert not store.beat("far-host", 7, concurrency=4, tasks_done=0, timeout=30)


def test_requeue_puts_a_lost_workers_task_back_in_the_queue(store: Store) -> None:
    register(store, "far-host", 7, timeout=-1, on_lost="requeue")
    task_id = owned_by(store, "far-host", 7)

    (lost,) = store.take_lost_workers()
    assert lost.on_lost == "requeue" and lost.task_ids == (task_id,)
    task = store.get_task(task_id)
    assert task is not None and task.status == "queued"
    assert (task.owner_host, task.owner_pid, task.finished_at) == (None, None, None)
    assert [a.outcome for a in task.attempts] == ["interrupted"]
    assert store.claim_next() == task_id  # any pool runs it again
    claimed = store.get_task(task_id)
    assert claimed is not None and claimed.owner_pid == os.getpid()


def test_a_dead_worker_on_this_host_is_lost_at_once_by_its_own_policy(store: Store) -> None:
    """The store's opening (``ado status``, ``ado run``) takes it too, before its timeout,
    and applies the worker's policy, not a blanket interrupt."""
    gone = dead_pid()
    register(store, HOST, gone, on_lost="requeue")
    requeued = owned_by(store, HOST, gone)
    gone_too = dead_pid()
    plain_orphan = owned_by(store, HOST, gone_too)  # an `ado run` that died: no worker row
    register(store, HOST, os.getpid())  # this process's own pool is never taken
    mine = owned_by(store, HOST, os.getpid())

    assert store.mark_orphans_interrupted() == 2
    statuses = {i: t.status for i in (requeued, plain_orphan, mine) if (t := store.get_task(i))}
    assert statuses == {requeued: "queued", plain_orphan: "interrupted", mine: "running"}
    assert [(w.hostname, w.pid) for w in store.list_workers()] == [(HOST, os.getpid())]
    assert store.mark_orphans_interrupted() == 0


def test_a_reused_pid_takes_its_predecessor_as_lost(store: Store) -> None:
    """A restarted container: same hostname, same pid, a row its dead predecessor left."""
    register(store, "container-1", 1, on_lost="interrupt")
    stale = owned_by(store, "container-1", 1)
    (lost,) = register(store, "container-1", 1, kind="worker")
    assert lost.task_ids == (stale,) and lost.why == "exited"
    task = store.get_task(stale)
    assert task is not None and task.status == "interrupted"
    (worker,) = store.list_workers()
    assert (worker.kind, worker.running) == ("worker", ())


def test_many_pools_racing_take_each_lost_worker_exactly_once(store_url: str) -> None:
    stores = [Store(store_url) for _ in range(4)]
    stores[0].migrate()
    try:
        tasks = {}
        for pid in range(1, 13):
            register(stores[0], "far-host", pid, timeout=-1, on_lost="requeue")
            tasks[pid] = owned_by(stores[0], "far-host", pid)
        taken: list[Any] = []
        lock = threading.Lock()
        start = threading.Barrier(len(stores) * 2)

        def take(store: Store) -> None:
            start.wait()
            found = store.take_lost_workers()
            with lock:
                taken.extend(found)

        threads = [threading.Thread(target=take, args=(s,)) for s in stores * 2]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(w.pid for w in taken) == list(range(1, 13))
        assert sorted(t for w in taken for t in w.task_ids) == sorted(tasks.values())
        assert stores[0].list_workers() == []
        for task_id in tasks.values():
            task = stores[0].get_task(task_id)
            assert task is not None and task.status == "queued"
            assert [a.outcome for a in task.attempts] == ["interrupted"]
    finally:
        for store in stores:
            store.close()


def test_a_lost_workers_late_writes_leave_what_became_of_its_task(store: Store) -> None:
    """The lost process wakes up (a pause, a partition) and finishes its runner: neither the
    interrupted task nor one re-queued and taken by another pool is overwritten."""
    from ado.providers.events import Usage

    register(store, HOST, os.getpid(), timeout=-1)  # this process plays the lost worker
    interrupted = new_task(store)
    first = attempt(store, interrupted)
    requeued = new_task(store)
    store.update_task(requeued, owner_host="other-host", owner_pid=1)  # taken by another pool
    with store._sql() as sql:  # what take_lost_workers did while this process was away
        from ado.store.orphans import release_task

        with sql.transaction(write=True):
            release_task(sql, interrupted, now=sql.time(utcnow()), error="lost")

    store.finish_task(interrupted, status="failed", error="late")
    store.finish_task(requeued, status="cancelled", error="late")
    store.finish_attempt(
        first,
        outcome="crashed",
        message="late",
        exit_code=-9,
        session_id=None,
        reset_at=None,
        usage=Usage(input_tokens=10),
        cost_usd=1.0,
        api_cost_usd=1.0,
        files=[],
    )
    task = store.get_task(interrupted)
    assert task is not None and (task.status, task.error) == ("interrupted", "lost")
    assert [a.outcome for a in task.attempts] == ["interrupted"]
    assert (task.input_tokens, task.cost_usd) == (0, 0.0)
    other = store.get_task(requeued)
    assert other is not None and other.status == "running"
    mine = new_task(store)  # its own task, still its own: finished as ever
    store.finish_task(mine, status="succeeded")
    done = store.get_task(mine)
    assert done is not None and done.status == "succeeded"


def test_a_requeued_task_waiting_in_the_queue_is_not_finished_by_its_lost_worker(
    store: Store,
) -> None:
    register(store, HOST, os.getpid(), timeout=-1, on_lost="requeue")
    task_id = new_task(store)
    with store._sql() as sql:  # taken while this process was away: queued, no owner
        from ado.store.orphans import release_task

        with sql.transaction(write=True):
            release_task(sql, task_id, now=sql.time(utcnow()), error="lost", requeue=True)
    store.finish_task(task_id, status="cancelled", error="late")
    task = store.get_task(task_id)
    assert task is not None and (task.status, task.error) == ("queued", None)


def test_a_lost_workers_late_run_writes_are_refused(store: Store) -> None:
    """The fence: events, a new attempt, a reservation, usage and a park of a task this
    process no longer runs (interrupted, re-queued, or re-queued and claimed by another
    pool) are refused with TaskDisowned and leave nothing; its own task takes them all."""
    from ado.errors import TaskDisowned
    from ado.providers.events import AgentEvent, EventKind, Usage
    from ado.store.orphans import release_task

    class Hourly:
        since, unit, limit = utcnow() - timedelta(hours=1), "requests", 100

    register(store, HOST, os.getpid(), timeout=-1)  # this process plays the lost worker
    interrupted, requeued, claimed, mine = (new_task(store) for _ in range(4))
    firsts = {task_id: attempt(store, task_id) for task_id in (interrupted, requeued, claimed)}
    store.add_events(interrupted, firsts[interrupted], [AgentEvent(EventKind.TEXT, text="ok")])
    with store._sql() as sql, sql.transaction(write=True):  # taken while it was away
        now = sql.time(utcnow())
        release_task(sql, interrupted, now=now, error="lost")
        for task_id in (requeued, claimed):
            release_task(sql, task_id, now=now, error="lost", requeue=True)
    store.update_task(claimed, status="running", owner_host="other-host", owner_pid=1)
    before = {t: store.get_task(t) for t in firsts}
    events_before = {t: store.list_events(t) for t in firsts}

    late = [AgentEvent(EventKind.ATTEMPT_FINISHED, text="killed"), AgentEvent(EventKind.TEXT)]
    for task_id, first in firsts.items():
        with pytest.raises(TaskDisowned, match=f"task {task_id} is no longer this process's"):
            store.add_events(task_id, first, late)
        with pytest.raises(TaskDisowned):
            store.add_events(task_id, None, [AgentEvent(EventKind.TASK_FINISHED)])
        with pytest.raises(TaskDisowned):
            attempt(store, task_id, number=2)
        with pytest.raises(TaskDisowned):
            store.reserve_request(
                "claude-code", "subscription", limits=[Hourly()], now=utcnow(), task_id=task_id
            )
        with pytest.raises(TaskDisowned):
            store.record_usage(
                provider="claude-code",
                access_mode="subscription",
                task_id=task_id,
                attempt_id=first,
                model=None,
                usage=Usage(input_tokens=10),
                cost_usd=1.0,
                api_cost_usd=1.0,
            )
        with pytest.raises(TaskDisowned):
            store.park_task(task_id, until=utcnow(), reason="limited", in_queue=True)
        assert store.get_task(task_id) == before[task_id]
        assert store.list_events(task_id) == events_before[task_id]
    used = store.usage_totals("claude-code", "subscription", utcnow() - timedelta(hours=1))
    assert used.requests == 0

    # Its own running task: every write goes through, as ever.
    first = attempt(store, mine)
    assert len(store.add_events(mine, first, late)) == 2
    assert store.reserve_request(
        "claude-code", "subscription", limits=[Hourly()], now=utcnow(), task_id=mine
    )
    assert store.park_task(mine, until=utcnow(), reason="limited", in_queue=True) == 1
    # Parked in the queue it is nobody's: this process's late writes are refused too.
    with pytest.raises(TaskDisowned):
        store.add_events(mine, None, late)
