"""``ado run`` against a scripted cursor-agent: each way a run can go wrong.

Every test checks the message a user sees, the exit code, and what the store recorded.
"""

from __future__ import annotations

import json
import os
import signal
import time
from typing import Any

import pytest

from tests.fixtures.ado import FakeCursor, Project
from tests.support import process_gone, wait_for


def test_success_records_task_attempt_events_and_usage(
    project: Project, fake_cursor: FakeCursor
) -> None:
    target = project.root / "hello.txt"
    project.write_config({"cursor-agent": fake_cursor("success", FAKE_CURSOR_WRITE=f"{target}:hi")})
    proc = project.run("run", "--json", "create hello.txt", check_code=0)
    assert target.read_text() == "hi"
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = lines[-1]
    assert summary["kind"] == "summary" and summary["status"] == "succeeded"
    kinds = [line["kind"] for line in lines[:-1]]
    assert kinds[0] == "attempt_started"
    assert "session_started" in kinds and "tool_call" in kinds and "result" in kinds
    store = project.store()
    task = store.get_task(summary["taskId"])
    assert task is not None and task.status == "succeeded" and task.exit_code == 0
    assert task.provider == "cursor-agent" and task.routing_reason
    assert task.input_tokens > 0 and task.output_tokens > 0
    assert task.attempts[0].outcome == "success" and task.attempts[0].session_id
    events = store.list_events(task.id)
    assert [e.kind for e in events][: len(kinds)] == kinds[: len(events)]


def test_bad_config_names_file_line_key_and_fix(project: Project) -> None:
    project.config_path.write_text("version: '1.1'\nrouting:\n  strategy: fastest\n")
    proc = project.run("run", "anything", check_code=2)
    assert "ado.config.yaml:3" in proc.stderr
    assert "routing.strategy" in proc.stderr
    assert "subscription-first" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (project.root / ".ado" / "state.db").exists()


def test_unknown_provider_lists_known_ones(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    proc = project.run("run", "-p", "nope", "do it", check_code=2)
    assert "nope" in proc.stderr and "cursor-agent" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_missing_cli_is_skipped_with_reason(project: Project, fake_cursor: FakeCursor) -> None:
    cfg = fake_cursor()
    cfg["command"] = str(project.root / "no-such-cursor-agent")
    project.write_config({"cursor-agent": cfg})
    proc = project.run("run", "do it", check_code=3)
    assert "not installed" in proc.stderr or "not installed" in proc.stdout
    task = project.store().list_tasks()[0]
    assert task.status == "failed" and task.exit_code == 3
    # Scripts get the task id and the reason as JSON, whatever the exit code.
    as_json = project.run("run", "--json", "do it", check_code=3)
    summary = json.loads(as_json.stdout.splitlines()[-1])
    assert summary["kind"] == "summary" and summary["exitCode"] == 3
    assert summary["taskId"] == task.id + 1 and "not installed" in summary["error"]
    assert "not installed" in as_json.stderr


def test_agent_crash_is_contained(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor("crash")})
    proc = project.run("run", "do it", check_code=1)
    assert "crashed" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    task = project.store().list_tasks()[0]
    full = project.store().get_task(task.id)
    assert full is not None and full.status == "failed"
    assert full.attempts[0].outcome == "crashed"
    assert full.attempts[0].exit_code not in (0, None)


def test_agent_hang_times_out_and_group_is_killed(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor("hang", timeout=2)})
    started = time.monotonic()
    proc = project.run("run", "do it", check_code=1)
    assert time.monotonic() - started < 30
    assert "timed out" in proc.stdout + proc.stderr
    full = project.store().get_task(project.store().list_tasks()[0].id)
    assert full is not None and full.attempts[0].outcome == "timed_out"
    assert full.status == "failed"


def test_garbage_output_is_tolerated(project: Project, fake_cursor: FakeCursor) -> None:
    target = project.root / "g.txt"
    project.write_config({"cursor-agent": fake_cursor("garbage", FAKE_CURSOR_WRITE=f"{target}:ok")})
    proc = project.run("run", "--json", "do it")
    assert "Traceback" not in proc.stderr
    summary = json.loads(proc.stdout.splitlines()[-1])
    full = project.store().get_task(summary["taskId"])
    assert full is not None
    # Garbage lines never break parsing: the run ends with the agent's own verdict.
    assert full.attempts[0].outcome in ("success", "crashed", "failed")
    assert proc.returncode == (0 if full.attempts[0].outcome == "success" else 1)


def test_ctrl_c_stops_the_agent_group_and_records_cancelled(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor("hang")})
    proc = project.popen("run", "do it")
    db = project.root / ".ado" / "state.db"
    wait_for(db.exists, what="the store to be created")
    store = project.store()

    def running_attempt() -> Any:
        tasks = store.list_tasks()
        if not tasks:
            return None
        full = store.get_task(tasks[0].id)
        return full if full and full.attempts and store.list_events(full.id) else None

    wait_for(running_attempt, what="the agent to start")
    os.kill(proc.pid, signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 130, err
    task = store.get_task(store.list_tasks()[0].id)
    assert task is not None and task.status == "cancelled"
    assert task.attempts[0].outcome == "cancelled"


@pytest.mark.parametrize("scenario", ["rate_limit"])
def test_rate_limit_without_alternative_exits_3_with_reset(
    project: Project, fake_cursor: FakeCursor, scenario: str
) -> None:
    project.write_config({"cursor-agent": fake_cursor(scenario)})
    first = project.run("run", "do it", check_code=3)
    assert "limit" in (first.stdout + first.stderr).lower()
    cooldowns = project.store().cooldowns(
        __import__("datetime").datetime.now(__import__("datetime").UTC)
    )
    assert [(c.provider, c.access_mode) for c in cooldowns] == [("cursor-agent", "subscription")]
    second = project.run("run", "do it again", check_code=3)
    assert "cooling down" in second.stderr.lower() or "limited" in second.stderr.lower()
    assert "reset" in second.stderr.lower()


def test_run_on_postgresql_via_env(
    project: Project, fake_cursor: FakeCursor, postgres_url: str
) -> None:
    from ado.store import Store

    target = project.root / "pg.txt"
    project.write_config({"cursor-agent": fake_cursor("success", FAKE_CURSOR_WRITE=f"{target}:pg")})
    env = {"ADO_DATABASE_URL": postgres_url}
    proc = project.run("run", "--json", "write it", env=env, check_code=0)
    assert not (project.root / ".ado" / "state.db").exists(), "nothing written to SQLite"
    store = Store(postgres_url)
    try:
        task = store.get_task(json.loads(proc.stdout.splitlines()[-1])["taskId"])
        assert task is not None and task.status == "succeeded"
        assert store.list_events(task.id)
    finally:
        store.close()
    status = json.loads(project.run("status", "--json", env=env, check_code=0).stdout)
    assert status["recentTasks"][0]["status"] == "succeeded"
    assert "postgresql" in status["store"] and "@" not in status["store"].split("//")[1][:3]


def test_kill_9_leaves_a_consistent_store_and_the_task_interrupted(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor("hang")})
    proc = project.popen("run", "do it")
    db = project.root / ".ado" / "state.db"
    wait_for(db.exists, what="the store to be created")
    store = project.store()

    def agent_started() -> Any:
        tasks = store.list_tasks()
        task = tasks and store.get_task(tasks[0].id)
        return task and task.attempts and task.attempts[0].agent_pid

    wait_for(agent_started, what="the agent to start")
    os.kill(proc.pid, signal.SIGKILL)
    proc.communicate(timeout=30)
    with store.session() as s:
        assert s.connection().exec_driver_sql("PRAGMA integrity_check").scalar() == "ok"
    killed = store.get_task(store.list_tasks()[0].id)
    assert killed is not None
    agent_pid = killed.attempts[0].agent_pid
    assert agent_pid is not None and os.path.exists(f"/proc/{agent_pid}"), "the agent outlived ADO"
    status = json.loads(project.run("status", "--json", check_code=0).stdout)
    assert status["recentTasks"][0]["status"] == "interrupted"
    task = store.get_task(status["recentTasks"][0]["id"])
    assert task is not None and task.error and "exited while the task was running" in task.error
    assert task.attempts[0].outcome == "interrupted"
    # The next start stopped the orphaned agent's whole process group.
    wait_for(lambda: process_gone(agent_pid), what="the orphaned agent to be stopped")


def test_resume_continues_the_agents_own_session(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor("success")})
    first = json.loads(project.run("run", "--json", "start", check_code=0).stdout.splitlines()[-1])
    session = first["attempts"][0]["sessionId"]
    # by ADO task id, and by the agent's session id: the agent gets --resume <its session>
    for ref in (str(first["taskId"]), session):
        proc = project.run("run", "--json", "--resume", ref, "continue", check_code=0)
        again = json.loads(proc.stdout.splitlines()[-1])
        assert again["attempts"][0]["sessionId"] == session
        assert again["attempts"][0]["provider"] == "cursor-agent"
    unknown = project.run("run", "--resume", "not-a-session", "continue", check_code=2)
    assert "no agent issued that session id" in unknown.stderr
    missing = project.run("run", "--resume", "999", "continue", check_code=2)
    assert "no task 999." in missing.stderr


def test_prompt_from_stdin(project: Project, fake_cursor: FakeCursor) -> None:
    import subprocess

    project.write_config({"cursor-agent": fake_cursor("success")})
    proc = subprocess.run(
        project.ado_argv("run", "--json", "-"),
        cwd=project.root,
        text=True,
        input="a prompt\nover two lines\n",
        capture_output=True,
        timeout=60,
    )
    assert proc.returncode == 0, proc.stderr
    task_id = json.loads(proc.stdout.splitlines()[-1])["taskId"]
    task = project.store().get_task(task_id)
    assert task is not None and task.prompt == "a prompt\nover two lines"
    empty = subprocess.run(
        project.ado_argv("run", "-"),
        cwd=project.root,
        text=True,
        input="",
        capture_output=True,
        timeout=60,
    )
    assert empty.returncode == 2 and "empty" in empty.stderr


def test_required_capability_filters_providers(project: Project, fake_cursor: FakeCursor) -> None:
    cfg = fake_cursor("success")
    cfg["capabilities"] = {"testing": False, "languages": ["python"]}
    project.write_config({"cursor-agent": cfg})
    refused = project.run("run", "--require", "testing", "write tests", check_code=3)
    assert "testing" in refused.stderr
    ok = project.run("run", "--json", "--require", "python", "fix it", check_code=0)
    task = project.store().get_task(json.loads(ok.stdout.splitlines()[-1])["taskId"])
    assert task is not None and task.options["require_capabilities"] == ["python"]
