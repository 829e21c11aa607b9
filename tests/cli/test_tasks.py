"""``ado tasks list|show|cancel`` over tasks run through the fake cursor-agent."""

from __future__ import annotations

import json

from tests.cli.helpers import run_json
from tests.fixtures.ado import FakeCursor, Project
from tests.support import wait_for


def test_list_newest_first_with_filters(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    first = run_json(project, "first")
    project.write_config({"cursor-agent": fake_cursor("crash")})
    second = run_json(project, "second", code=1)
    rows = json.loads(project.run("tasks", "list", "--json", check_code=0).stdout)
    assert [(r["id"], r["status"]) for r in rows] == [
        (second["taskId"], "failed"),
        (first["taskId"], "succeeded"),
    ]
    failed = json.loads(
        project.run("tasks", "list", "--status", "failed", "--json", check_code=0).stdout
    )
    assert [r["id"] for r in failed] == [second["taskId"]]
    assert (
        json.loads(project.run("tasks", "list", "-n", "1", "--json").stdout)[0]["id"]
        == (second["taskId"])
    )
    table = project.run("tasks", "list", check_code=0).stdout
    assert "first" in table and "second" in table and "cursor-agent/subscription" in table


def test_show_replays_the_event_log_and_prints_attempts(
    project: Project, fake_cursor: FakeCursor
) -> None:
    target = project.root / "notes.txt"
    project.write_config({"cursor-agent": fake_cursor(FAKE_CURSOR_WRITE=f"{target}:hello")})
    summary = run_json(project, "write the notes")
    task_id = summary["taskId"]
    out = project.run("tasks", "show", str(task_id), check_code=0).stdout
    assert f"Task {task_id} · succeeded" in out
    assert "prompt: write the notes" in out
    session = summary["attempts"][0]["sessionId"]
    assert "attempt 1: cursor-agent/subscription → success" in out
    assert f"session {session}" in out
    assert "123 in / 45 out" in out
    # the replayed log: attempt start, the tool call writing the file, the result
    assert "▶ attempt 1: cursor-agent/subscription" in out
    assert "notes.txt" in out
    assert f"✔ succeeded task {task_id}" in out

    data = json.loads(project.run("tasks", "show", str(task_id), "--json", check_code=0).stdout)
    assert data["id"] == task_id and data["status"] == "succeeded"
    assert data["attempts"][0]["sessionId"] == session
    kinds = [e["kind"] for e in data["events"]]
    stored = [e.kind for e in project.store().list_events(task_id)]
    assert kinds == stored
    assert kinds[0] == "attempt_started" and kinds[-1] == "task_finished"


def test_show_prints_every_attempt_of_a_failover(project: Project, fake_cursor: FakeCursor) -> None:
    limited = fake_cursor("rate_limit", priority=1)
    limited["accessModes"].append({"mode": "free", "priority": 2})
    project.write_config({"cursor-agent": limited})
    proc = project.run("run", "go", check_code=3)
    assert "Traceback" not in proc.stderr
    task_id = project.store().list_tasks()[0].id
    out = project.run("tasks", "show", str(task_id), check_code=0).stdout
    assert "attempt 1: cursor-agent/subscription → rate_limit" in out or (
        "attempt 1: cursor-agent/subscription → quota_exhausted" in out
    )
    assert "attempt 2: cursor-agent/free" in out


def test_show_and_cancel_of_unknown_task_exit_2(project: Project) -> None:
    for command in ("show", "cancel"):
        proc = project.run("tasks", command, "4242", check_code=2)
        assert "There is no task 4242." in proc.stderr and "ado tasks list" in proc.stderr


def test_cancel_of_a_finished_task_exits_2(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    task_id = run_json(project, "done already")["taskId"]
    proc = project.run("tasks", "cancel", str(task_id), check_code=2)
    assert f"Task {task_id} is succeeded; only queued, running or parked tasks" in proc.stderr
    assert project.task(task_id).status == "succeeded"


def test_cancel_stops_a_running_task_and_its_run_exits_130(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor("hang")})
    runner = project.popen("run", "never ends")
    try:
        db = project.root / ".ado" / "state.db"
        wait_for(db.exists, what="the store")
        store = project.store()

        def running() -> int | None:
            tasks = store.list_tasks(status="running")
            task = store.get_task(tasks[0].id) if tasks else None
            return task.id if task and task.attempts else None

        task_id = wait_for(running, what="the agent to start")
        proc = project.run("tasks", "cancel", str(task_id), check_code=0)
        assert f"cancel task {task_id}" in proc.stdout
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    assert runner.returncode == 130, err
    task = store.get_task(task_id)
    assert task is not None and task.status == "cancelled" and task.exit_code == 130
    assert task.attempts[0].outcome == "cancelled"
