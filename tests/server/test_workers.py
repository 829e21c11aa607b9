"""The worker pool in process: queue claims, parallelism, cancel, stop, orphans — on SQLite
and PostgreSQL."""

from __future__ import annotations

import asyncio
import os
import threading
from typing import Any

import pytest

from ado.config.schema import AdoConfig
from ado.errors import NotFoundError, StoreUnavailable, TaskNotCancellable
from ado.orchestrator.cancel import cancel_task
from ado.server.workers import WorkerPool, spec_from_task
from ado.store import Store
from ado.vocab import WorkerKind
from tests.server.conftest import Gate
from tests.support import wait_for_async


def _config(gate: Gate, **provider: Any) -> AdoConfig:
    return AdoConfig.model_validate(
        {"version": "1.1", "providers": {"cursor-agent": gate.provider(**provider)}}
    )


def _queue(store: Store, n: int, cwd: str, **options: Any) -> list[int]:
    return [
        store.create_task(
            prompt=f"task {i}", cwd=cwd, hitl_policy="autonomous", options=options, status="queued"
        )
        for i in range(n)
    ]


def _statuses(store: Store, ids: list[int]) -> list[str]:
    return [t.status for t in store.tasks_by_id(ids)]


def test_claims_from_two_stores_never_overlap(store_url: str) -> None:
    first, second = Store(store_url), Store(store_url)
    first.migrate()
    try:
        ids = _queue(first, 40, "/")
        claimed: list[int] = []
        lock = threading.Lock()

        def claim(store: Store) -> None:
            while (task_id := store.claim_next()) is not None:
                with lock:
                    claimed.append(task_id)

        threads = [threading.Thread(target=claim, args=(s,)) for s in (first, second) * 3]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(claimed) == ids
        task = first.get_task(ids[0])
        assert task is not None and task.status == "running" and task.owner_pid == os.getpid()
        assert not first.claim_task(ids[0])
    finally:
        first.close()
        second.close()


async def test_two_pools_on_one_store_run_each_task_once(store_url: str, gate: Gate) -> None:
    stores = [Store(store_url), Store(store_url)]
    stores[0].migrate()
    config = _config(gate, gated=False)
    pools = [WorkerPool(s, lambda: config, concurrency=3, poll_interval=0.05) for s in stores]
    ids = await asyncio.to_thread(_queue, stores[0], 10, str(gate.script.parent))
    try:
        for pool in pools:
            pool.start()
        await wait_for_async(
            lambda: set(_statuses(stores[0], ids)) == {"succeeded"}, 60, what="all tasks to succeed"
        )
    finally:
        for pool in pools:
            await pool.stop(5)
    tasks = stores[0].tasks_by_id(ids)
    assert all(t.attempt_count == 1 for t in tasks)
    assert gate.starts() == 10
    for task_id in ids:
        kinds = [e.kind for e in stores[0].list_events(task_id)]
        assert kinds.count("attempt_started") == 1 and kinds[-1] == "task_finished"
    for s in stores:
        s.close()


async def test_the_pool_runs_at_most_its_concurrency_and_queues_the_rest(
    store: Store, gate: Gate
) -> None:
    config = _config(gate)
    config.orchestration.max_parallel_agents = 2
    pool = WorkerPool(store, lambda: config, poll_interval=0.05)
    assert pool.concurrency == 2
    ids = await asyncio.to_thread(_queue, store, 5, str(gate.script.parent))
    pool.start()
    try:
        await wait_for_async(lambda: gate.starts() == 2, 60, what="two agents to start")
        assert sorted(_statuses(store, ids)) == ["queued"] * 3 + ["running"] * 2
        assert len(pool.running) == 2
        gate.open()
        await wait_for_async(
            lambda: set(_statuses(store, ids)) == {"succeeded"}, 60, what="all to succeed"
        )
    finally:
        await pool.stop(5)
    assert gate.max_parallel() == 2


async def test_cancel_queued_running_and_finished(store: Store, gate: Gate) -> None:
    config = _config(gate)
    pool = WorkerPool(store, lambda: config, concurrency=1, poll_interval=0.05)
    running, queued = await asyncio.to_thread(_queue, store, 2, str(gate.script.parent))
    pool.start()
    try:
        await wait_for_async(lambda: gate.starts() == 1, 60, what="the agent to start")

        def agent_pid_of_running() -> int | None:
            task = store.get_task(running)
            return task.attempts[0].agent_pid if task and task.attempts else None

        agent_pid = await wait_for_async(agent_pid_of_running, 60, what="the agent's pid")
        assert await cancel_task(store, pool, queued) == "cancelled"
        assert await cancel_task(store, pool, running) == "cancelled"
        task = store.get_task(running)
        assert task is not None and task.status == "cancelled" and task.exit_code == 130
        assert task.attempts[0].outcome == "cancelled"
        with pytest.raises(ProcessLookupError):
            os.killpg(agent_pid, 0)
        assert _statuses(store, [queued]) == ["cancelled"]
        with pytest.raises(TaskNotCancellable) as exc:
            await cancel_task(store, pool, running)
        assert exc.value.http_status == 409 and exc.value.exit_code == 2
        with pytest.raises(NotFoundError):
            await cancel_task(store, pool, 4242)
    finally:
        await pool.stop(5)
    assert gate.starts() == 1  # the cancelled queued task never ran


async def test_a_cancel_request_reaches_the_pool_of_another_process(
    store: Store, gate: Gate
) -> None:
    config = _config(gate)
    pool = WorkerPool(store, lambda: config, concurrency=1, poll_interval=0.05)
    (task_id,) = await asyncio.to_thread(_queue, store, 1, str(gate.script.parent))
    pool.start()
    try:
        await wait_for_async(lambda: gate.starts() == 1, 60, what="the agent to start")
        # Another server (no pool of its own for this task) asks through the store.
        assert await cancel_task(store, None, task_id) == "cancelling"
        await wait_for_async(
            lambda: _statuses(store, [task_id]) == ["cancelled"], 60, what="cancelled"
        )
    finally:
        await pool.stop(5)


async def test_stop_lets_tasks_finish_within_grace(store: Store, gate: Gate) -> None:
    config = _config(gate)
    pool = WorkerPool(store, lambda: config, concurrency=2, poll_interval=0.05)
    ids = await asyncio.to_thread(_queue, store, 3, str(gate.script.parent))
    pool.start()
    await wait_for_async(lambda: gate.starts() == 2, 60, what="two agents")
    stopping = asyncio.create_task(pool.stop(60))
    await wait_for_async(lambda: not pool._accepting, 60, what="the pool to stop taking tasks")
    gate.open()
    await stopping
    assert sorted(_statuses(store, ids)) == ["queued", "succeeded", "succeeded"]


async def test_stop_cancels_what_outlives_the_grace(store: Store, gate: Gate) -> None:
    config = _config(gate)
    pool = WorkerPool(store, lambda: config, concurrency=1, poll_interval=0.05)
    (task_id,) = await asyncio.to_thread(_queue, store, 1, str(gate.script.parent))
    pool.start()
    await wait_for_async(lambda: gate.starts() == 1, 60, what="the agent")
    await pool.stop(0.2)
    task = store.get_task(task_id)
    assert task is not None and task.status == "cancelled"
    assert task.attempts[0].outcome == "cancelled"
    assert gate.ends() == 1


async def test_start_marks_orphans_interrupted_and_resumes_the_queue(
    store: Store, gate: Gate
) -> None:
    dead = await asyncio.create_subprocess_exec("true")
    await dead.wait()
    orphan = store.create_task(prompt="orphan", cwd="/", hitl_policy="autonomous", options={})
    store.update_task(orphan, owner_pid=dead.pid)
    (queued,) = _queue(store, 1, str(gate.script.parent))
    config = _config(gate, gated=False)
    pool = WorkerPool(store, lambda: config, concurrency=1, poll_interval=0.05)
    pool.start()
    try:
        await pool.ready()
        assert _statuses(store, [orphan]) == ["interrupted"]
        await wait_for_async(
            lambda: _statuses(store, [queued]) == ["succeeded"], 60, what="the queued task"
        )
    finally:
        await pool.stop(5)


async def test_a_task_with_bad_options_fails_and_the_pool_goes_on(store: Store, gate: Gate) -> None:
    config = _config(gate, gated=False)
    bad = store.create_task(
        prompt="x", cwd="/", hitl_policy="autonomous", options={"resume": "no-such-session"},
        status="queued",
    )  # fmt: skip
    (good,) = _queue(store, 1, str(gate.script.parent))
    pool = WorkerPool(store, lambda: config, concurrency=1, poll_interval=0.05)
    pool.start()
    try:
        await wait_for_async(
            lambda: _statuses(store, [bad, good]) == ["failed", "succeeded"], 60, what="both"
        )
    finally:
        await pool.stop(5)
    task = store.get_task(bad)
    assert task is not None and "no agent issued that session id" in (task.error or "")


def test_spec_from_task_reads_every_option(store: Store) -> None:
    options = {
        "provider": None,
        "providers": ["codex", "claude-code"],
        "exclude": ["gemini-cli"],
        "access_mode": "subscription",
        "capabilities": ["python"],
        "max_cost": 1.5,
        "hitl_policy": "review-edits",
        "model": "m",
        "max_turns": 3,
        "yolo": True,
    }
    task_id = store.create_task(
        prompt="p", cwd="/tmp", hitl_policy="review-edits", options=options, status="queued"
    )
    task = store.get_task(task_id)
    assert task is not None
    spec = spec_from_task(task)
    assert spec.filters.providers == ("codex", "claude-code")
    assert spec.filters.exclude == ("gemini-cli",)
    assert spec.filters.access_mode == "subscription"
    assert spec.filters.capabilities == ("python",)
    opts = spec.options
    assert (opts.max_cost, opts.hitl_policy, opts.model, opts.max_turns, opts.yolo) == (
        1.5,
        "review-edits",
        "m",
        3,
        True,
    )


async def test_every_pool_is_in_the_registry_while_it_runs(store: Store, gate: Gate) -> None:
    """What it is (an ``ado worker`` passes its kind, queues and name), what it runs and has
    done; pools of one process share its row; gone from the list once stopped."""
    config = _config(gate)
    pool = WorkerPool(
        store,
        lambda: config,
        concurrency=2,
        poll_interval=0.05,
        kind=WorkerKind.WORKER,
        queues=("fast",),
        name="w1@here",
    )
    sibling = WorkerPool(store, lambda: config, concurrency=1, poll_interval=0.05)
    ids = await asyncio.to_thread(_queue, store, 1, str(gate.script.parent))
    pool.start()
    try:
        await pool.ready()  # registered first: the process's row is the worker's
        sibling.start()
        await sibling.ready()
        await wait_for_async(lambda: gate.starts() == 1, 60, what="the agent to start")
        (worker,) = await asyncio.to_thread(store.list_workers)
        assert (worker.pid, worker.kind, worker.queues, worker.name) == (
            os.getpid(),
            "worker",
            ("fast",),
            "w1@here",
        )
        assert worker.running == tuple(ids) and worker.on_lost == "interrupt"
        idle = pool if sibling.running else sibling  # either may have claimed the task
        await idle.stop(5)
        assert len(await asyncio.to_thread(store.list_workers)) == 1  # the other still runs
        gate.open()
        await wait_for_async(
            lambda: set(_statuses(store, ids)) == {"succeeded"}, 60, what="the task to succeed"
        )
        assert pool.tasks_done + sibling.tasks_done == 1
    finally:
        await pool.stop(5)
        await sibling.stop(5)
    assert await asyncio.to_thread(store.list_workers) == []


async def test_stop_waits_for_a_task_whose_start_is_under_way(
    store: Store, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A message's task is the pool's from before its claim: a stop during the start waits
    for it, and its agent's run is recorded (not left ``running`` with nobody to end it)."""
    config = _config(gate, gated=False)
    (task_id,) = await asyncio.to_thread(_queue, store, 1, str(gate.script.parent))
    claimed, release = threading.Event(), threading.Event()
    claim = store.claim_task

    def slow_claim(task_id: int) -> bool:
        taken = claim(task_id)
        claimed.set()
        release.wait(60)
        return taken

    monkeypatch.setattr(store, "claim_task", slow_claim)
    pool = WorkerPool(store, lambda: config, concurrency=1, claims=False)
    pool.start()
    await pool.ready()
    running = asyncio.create_task(pool.run_task(task_id))
    await asyncio.to_thread(claimed.wait, 60)
    assert pool.running == [task_id]
    stopping = asyncio.create_task(pool.stop(60))
    await wait_for_async(lambda: not pool._accepting, 60, what="the pool to stop taking tasks")
    release.set()
    assert await running == "ran"
    await stopping
    assert _statuses(store, [task_id]) == ["succeeded"]
    assert gate.starts() == 1


async def test_a_claim_that_fails_leaves_the_task_queued_for_the_next_message(
    store: Store, gate: Gate, monkeypatch: pytest.MonkeyPatch
) -> None:
    config = _config(gate, gated=False)
    (task_id,) = await asyncio.to_thread(_queue, store, 1, str(gate.script.parent))

    def unreachable(task_id: int) -> bool:
        raise StoreUnavailable("cannot connect to PostgreSQL: connection refused")

    monkeypatch.setattr(store, "claim_task", unreachable)
    pool = WorkerPool(store, lambda: config, concurrency=1, claims=False)
    pool.start()
    await pool.ready()
    try:
        with pytest.raises(StoreUnavailable):  # the message is not taken: Celery's to redo
            await pool.run_task(task_id)
        assert pool.running == []
        assert _statuses(store, [task_id]) == ["queued"]
        monkeypatch.delattr(store, "claim_task")  # the store is back
        assert await pool.run_task(task_id) == "ran"
    finally:
        await pool.stop(5)
    assert _statuses(store, [task_id]) == ["succeeded"]
