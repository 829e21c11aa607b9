"""Tasks, attempts and events, on SQLite and PostgreSQL."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta

import pytest

from ado.providers.events import AgentEvent, EventKind, Usage
from ado.store import Store


def new_task(store: Store, **kw: object) -> int:
    values: dict[str, object] = {
        "prompt": "fix the bug",
        "cwd": "/src",
        "hitl_policy": "autonomous",
        "options": {"model": "sonnet"},
    }
    values.update(kw)
    return store.create_task(**values)  # type: ignore[arg-type]


def attempt(store: Store, task_id: int, number: int = 1, provider: str = "claude-code") -> int:
    return store.start_attempt(
        task_id,
        number=number,
        provider=provider,
        access_mode="subscription",
        model="sonnet",
        reason="first enabled provider",
    )


def dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, text=True
    )
    return int(done.stdout)


def test_create_task_records_owner_and_start(store: Store) -> None:
    task_id = new_task(store)
    queued_id = new_task(store, status="queued")

    task = store.get_task(task_id)
    assert task is not None
    assert task.status == "running"
    assert task.options == {"model": "sonnet"}
    assert task.owner_host == socket.gethostname()
    assert task.owner_pid == os.getpid()
    assert task.started_at is not None and task.started_at.tzinfo is not None
    assert task.attempts == ()
    queued = store.get_task(queued_id)
    assert queued is not None and queued.started_at is None and queued.status == "queued"
    assert store.get_task(999_999) is None


def test_update_task_changes_fields_and_refuses_unknown_ones(store: Store) -> None:
    task_id = new_task(store, status="queued")
    started = datetime.now(UTC)
    store.update_task(task_id, status="running", started_at=started, routing_reason="cheapest")

    task = store.get_task(task_id)
    assert task is not None
    assert (task.status, task.routing_reason) == ("running", "cheapest")
    assert task.started_at == started
    with pytest.raises(TypeError, match="colour"):
        store.update_task(task_id, colour="blue")
    # a view's field that is no column, and the columns only the store itself writes
    for name in ("attempts", "id", "created_at", "updated_at"):
        with pytest.raises(TypeError, match=name):
            store.update_task(task_id, **{name: None})
    task = store.get_task(task_id)
    assert task is not None and task.id == task_id and task.status == "running"


def test_attempt_lifecycle_adds_totals_to_the_task(store: Store) -> None:
    task_id = new_task(store)
    first = attempt(store, task_id)
    reset = datetime(2030, 1, 1, 12, tzinfo=UTC)
    store.finish_attempt(
        first,
        outcome="rate_limited",
        message="5-hour limit reached",
        exit_code=1,
        session_id="sess-1",
        reset_at=reset,
        usage=Usage(input_tokens=10, output_tokens=20, cache_read_tokens=30, cache_write_tokens=40),
        cost_usd=0.0,
        api_cost_usd=0.25,
        files=[],
    )
    second = store.start_attempt(
        task_id, number=2, provider="codex", access_mode="api", model=None, reason="failover"
    )
    store.finish_attempt(
        second,
        outcome="success",
        message="done",
        exit_code=0,
        session_id=None,
        reset_at=None,
        usage=Usage(input_tokens=1, output_tokens=2),
        cost_usd=0.5,
        api_cost_usd=0.5,
        files=["src/a.py", "README.md"],
    )
    store.finish_task(task_id, status="succeeded", result_text="fixed", exit_code=0)

    task = store.get_task(task_id)
    assert task is not None
    assert (task.provider, task.access_mode, task.attempt_count) == ("codex", "api", 2)
    assert task.routing_reason == "failover"
    assert task.session_id == "sess-1"  # an attempt without a session keeps the last one
    assert (task.input_tokens, task.output_tokens) == (11, 22)
    assert (task.cache_read_tokens, task.cache_write_tokens) == (30, 40)
    assert task.cost_usd == pytest.approx(0.5)
    assert task.api_cost_usd == pytest.approx(0.75)
    assert (task.status, task.result_text, task.exit_code) == ("succeeded", "fixed", 0)
    assert task.finished_at is not None

    assert [a.number for a in task.attempts] == [1, 2]
    one, two = task.attempts
    assert (one.outcome, one.outcome_message, one.reset_at) == (
        "rate_limited",
        "5-hour limit reached",
        reset,
    )
    assert one.session_id == "sess-1" and one.finished_at is not None
    assert two.files_changed == ["src/a.py", "README.md"]
    assert (two.input_tokens, two.output_tokens, two.cache_read_tokens) == (1, 2, 0)
    assert two.cache_write_tokens == 0
    assert store.find_session("sess-1") == "claude-code"
    assert store.find_session("nope") is None


def test_finish_task_records_errors(store: Store) -> None:
    task_id = new_task(store)
    store.finish_task(task_id, status="failed", error="every provider is rate limited", exit_code=3)
    task = store.get_task(task_id)
    assert task is not None
    assert (task.status, task.error, task.exit_code) == (
        "failed",
        "every provider is rate limited",
        3,
    )


def test_add_events_returns_ordered_ids_and_round_trips(store: Store) -> None:
    task_id = new_task(store)
    attempt_id = attempt(store, task_id)
    reset = datetime(2030, 1, 1, tzinfo=UTC)
    events = [
        AgentEvent(EventKind.SESSION_STARTED, session_id="s1", data={"model": "sonnet"}),
        AgentEvent(EventKind.TOOL_CALL, tool_id="t1", tool_name="Edit", tool_input={"path": "a"}),
        AgentEvent(EventKind.USAGE, usage=Usage(input_tokens=3, output_tokens=4, cost_usd=0.1)),
        AgentEvent(EventKind.RATE_LIMIT, reset_at=reset, retrying=True, status_code=429),
        *[AgentEvent(EventKind.TEXT, text=f"line {i}") for i in range(400)],
    ]
    ids = store.add_events(task_id, attempt_id, events)

    assert len(ids) == len(events)
    assert ids == sorted(ids) and len(set(ids)) == len(ids)
    stored = store.list_events(task_id)
    assert [e.id for e in stored] == ids
    assert [e.to_agent_event() for e in stored] == events
    assert stored[0].kind == "session_started" and "kind" not in stored[0].data
    assert stored[0].attempt_id == attempt_id and stored[0].task_id == task_id
    assert stored[0].created_at.tzinfo is not None
    assert store.add_events(task_id, None, []) == []


def test_list_events_pages_and_events_since_spans_tasks(store: Store) -> None:
    one, two = new_task(store), new_task(store)
    a = store.add_events(one, None, [AgentEvent(EventKind.TEXT, text=str(i)) for i in range(5)])
    b = store.add_events(two, None, [AgentEvent(EventKind.LOG, text="routed")])
    c = store.add_events(one, None, [AgentEvent(EventKind.TEXT, text="last")])

    assert [e.id for e in store.list_events(one, limit=2)] == a[:2]
    assert [e.id for e in store.list_events(one, after_id=a[1])] == a[2:] + c
    assert [e.id for e in store.events_since(a[-1])] == b + c
    assert [e.task_id for e in store.events_since(0)] == [one] * 5 + [two, one]
    assert [e.id for e in store.events_since(0, limit=3)] == a[:3]
    assert store.last_event_id() == c[0]


def test_list_tasks_newest_first_with_filters_and_pagination(store: Store) -> None:
    ids = [new_task(store) for _ in range(7)]
    attempt(store, ids[1], provider="codex")
    attempt(store, ids[4], provider="codex")
    store.finish_task(ids[2], status="failed")

    assert [t.id for t in store.list_tasks()] == ids[::-1]
    page = store.list_tasks(limit=3)
    assert [t.id for t in page] == ids[6:3:-1]
    page = store.list_tasks(limit=3, before_id=page[-1].id)
    assert [t.id for t in page] == ids[3:0:-1]
    assert [t.id for t in store.list_tasks(limit=3, before_id=page[-1].id)] == [ids[0]]
    assert [t.id for t in store.list_tasks(provider="codex")] == [ids[4], ids[1]]
    assert [t.id for t in store.list_tasks(status="failed")] == [ids[2]]
    assert store.list_tasks(since=datetime.now(UTC) + timedelta(minutes=1)) == []
    assert len(store.list_tasks(since=datetime.now(UTC) - timedelta(minutes=1))) == 7
    assert all(t.attempts == () for t in store.list_tasks())


def test_naive_datetimes_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="naive datetime"):
        store.list_tasks(since=datetime(2030, 1, 1))  # noqa: DTZ001


def test_mark_orphans_interrupted(store: Store) -> None:
    gone = dead_pid()
    orphan = new_task(store)
    orphan_attempt = attempt(store, orphan)  # while this process owns it (the fence)
    store.update_task(orphan, owner_pid=gone)
    ownerless = new_task(store)
    store.update_task(ownerless, owner_pid=None, owner_host=None)
    mine = new_task(store)
    elsewhere = new_task(store)
    store.update_task(elsewhere, owner_host="another-host", owner_pid=gone)
    finished = new_task(store)
    store.finish_task(finished, status="succeeded")
    store.update_task(finished, owner_pid=gone)

    assert store.mark_orphans_interrupted() == 2
    task = store.get_task(orphan)
    assert task is not None
    assert task.status == "interrupted" and task.finished_at is not None
    assert task.error == f"ADO process {gone} exited while the task was running"
    assert [(a.id, a.outcome) for a in task.attempts] == [(orphan_attempt, "interrupted")]
    statuses = {
        i: t.status for i in (ownerless, mine, elsewhere, finished) if (t := store.get_task(i))
    }
    assert statuses == {
        ownerless: "interrupted",
        mine: "running",
        elsewhere: "running",
        finished: "succeeded",
    }
    assert store.mark_orphans_interrupted() == 0


def test_writes_from_many_threads(store: Store) -> None:
    task_id = new_task(store)
    results: list[list[int]] = []
    errors: list[BaseException] = []

    def write() -> None:
        try:
            for _ in range(5):
                events = [AgentEvent(EventKind.TEXT, text="x")] * 20
                results.append(store.add_events(task_id, None, events))
                store.update_task(task_id, routing_reason="busy")
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    ids = [i for batch in results for i in batch]
    assert len(ids) == len(set(ids)) == 800
    assert len(store.list_events(task_id, limit=10_000)) == 800
