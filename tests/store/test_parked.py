"""Parked tasks in the store (migration 0009), on SQLite and PostgreSQL: the queue takes one
parked in it once due, never before and never one an ``ado run --wait`` owns; cancel; orphans."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ado.store import Store
from tests.store.test_tasks import dead_pid, new_task

REASON = "waiting for claude-code's 5-hour window, resets 14:05 UTC"


def test_a_task_parked_in_the_queue_is_claimed_once_due_and_not_before(store: Store) -> None:
    later, due = new_task(store, status="queued"), new_task(store, status="queued")
    assert store.claim_task(later) and store.claim_task(due)
    now = datetime.now(UTC)
    assert store.park_task(later, until=now + timedelta(hours=1), reason=REASON, in_queue=True)
    assert store.park_task(due, until=now - timedelta(seconds=1), reason=REASON, in_queue=True)
    parked = store.get_task(later)
    assert parked is not None and parked.status == "parked" and parked.parks == 1
    assert parked.park_reason == REASON and parked.owner_pid is None
    assert parked.parked_until is not None and parked.parked_until > now
    assert store.next_queued() == [due]
    assert not store.claim_task(later)  # not due yet
    assert store.claim_next() == due and store.claim_next() is None
    resumed = store.get_task(due)
    assert resumed is not None and resumed.status == "running" and resumed.owner_pid is not None
    assert store.park_task(due, until=now, reason="again", in_queue=True) == 2  # counted
    assert [t.id for t in store.active_tasks()] == [later, due]


def test_a_task_parked_by_its_process_is_never_claimed(store: Store) -> None:
    """Adversarial: ``ado run --wait`` keeps its parked task: no pool takes it, even due."""
    task_id = new_task(store)
    store.park_task(task_id, until=datetime.now(UTC) - timedelta(minutes=1), reason=REASON,
                    in_queue=False)  # fmt: skip
    task = store.get_task(task_id)
    assert task is not None and task.status == "parked" and task.owner_pid is not None
    assert store.next_queued() == [] and not store.claim_task(task_id)
    assert not store.cancel_queued(task_id)  # its process is asked instead (SIGINT)


def test_cancel_of_a_task_parked_in_the_queue(store: Store) -> None:
    task_id = new_task(store, status="queued")
    assert store.claim_task(task_id)  # parked by the pool that ran it
    store.park_task(task_id, until=datetime.now(UTC), reason=REASON, in_queue=True)
    assert store.cancel_queued(task_id)
    task = store.get_task(task_id)
    assert task is not None and task.status == "cancelled" and task.parked_until is None
    assert store.next_queued() == [] and not store.claim_task(task_id)


def test_orphans_a_dead_run_s_parked_task_but_never_one_parked_in_the_queue(
    store: Store,
) -> None:
    mine, queued = new_task(store), new_task(store, status="queued")
    # Each parked by the process running it (only the owner may park a task); then the
    # `ado run --wait` that parked ``mine`` dies.
    store.park_task(mine, until=datetime.now(UTC), reason=REASON, in_queue=False)
    store.update_task(mine, owner_pid=dead_pid())
    assert store.claim_task(queued)
    store.park_task(queued, until=datetime.now(UTC), reason=REASON, in_queue=True)
    assert store.mark_orphans_interrupted() == 1
    statuses = {t.id: t.status for t in store.tasks_by_id([mine, queued])}
    assert statuses == {mine: "interrupted", queued: "parked"}
