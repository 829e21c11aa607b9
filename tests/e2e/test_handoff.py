"""Handing the work over on failover, with the REAL agent CLIs against the scripted model
server: the first agent writes a file and then hits a 429; the next one's first request to
the model (as the server logged it) carries the handoff naming that file."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ado.testing.behaviours import WriteFile, WriteThenLimit
from ado.testing.model_server import RecordedRequest, ScriptedModelServer
from tests.agent_harness import PROVIDERS
from tests.fixtures.ado import Project

pytestmark = pytest.mark.agents

TASK = "Write half-done.txt, then finished.txt"


def _task_id(stdout: str) -> int:
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return int(summary["taskId"])


def _told(request: RecordedRequest) -> str:
    """The request's body as text (the prompt sits inside it, JSON-escaped)."""
    return json.dumps(request.body, ensure_ascii=False)


def _handoff_text(project: Project, task_id: int) -> tuple[int | None, str]:
    store = project.store()
    try:
        (event,) = [e for e in store.list_events(task_id) if e.kind == "handoff"]
        return event.attempt_id, event.to_agent_event().text or ""
    finally:
        store.close()


def test_claude_hands_its_work_over_to_codex(project: Project, tmp_path: Path) -> None:
    written = project.root / "half-done.txt"
    target = project.root / "finished.txt"
    with ScriptedModelServer() as limited, ScriptedModelServer() as working:
        limited.set_default(WriteThenLimit(str(written), "half", retry_after_s=600))
        working.set_default(WriteFile(str(target), "done"))
        claude = PROVIDERS["claude-code"](limited.url, tmp_path / "c")
        codex = PROVIDERS["codex"](working.url, tmp_path / "x")
        codex["accessModes"][0]["priority"] = 2
        project.write_config({"claude-code": claude, "codex": codex})
        proc = project.run("run", "--json", TASK, timeout=240, check_code=0)
        codex_first = working.model_requests[0]
        claude_first = limited.model_requests[0]
    assert written.read_text() == "half" and target.read_text() == "done"
    task = project.task(_task_id(proc.stdout))
    assert [(a.provider, a.outcome) for a in task.attempts] == [
        ("claude-code", "rate_limited"),
        ("codex", "success"),
    ]
    assert str(written) in task.attempts[0].files_changed
    # claude got the task as it is; codex, the handoff: the task, claude's file, and why
    assert "[ADO handoff]" not in _told(claude_first)
    told = _told(codex_first)
    assert "[ADO handoff]" in told and TASK in told
    assert "Files it changed (1): half-done.txt" in told
    assert "claude-code/subscription, stopped: rate_limited" in told
    assert "Continue from here." in told
    # the record says what codex was told, under codex's attempt
    attempt_id, text = _handoff_text(project, task.id)
    assert attempt_id == task.attempts[1].id
    assert "Files it changed (1): half-done.txt" in text
    shown = project.run("tasks", "show", str(task.id), check_code=0).stdout
    assert "handoff" in shown and "half-done.txt" in shown


def _handed_over(requests: list[RecordedRequest]) -> str:
    """The first model request after the 429: the next account's, with its handoff."""
    limited = next(i for i, r in enumerate(requests) if r.status == 429)
    assert not any("[ADO handoff]" in _told(r) for r in requests[: limited + 1])
    after = [r for r in requests[limited + 1 :] if r.answered_by != "aux"]
    return _told(after[0])


def test_two_accounts_of_claude_hand_over_to_each_other(project: Project, tmp_path: Path) -> None:
    """``providers.claude-work`` and ``claude-home``: one CLI, two config directories; work
    hands over to home, then (priorities swapped) home to work."""
    written = project.root / "half-done.txt"
    target = project.root / "finished.txt"
    work_dir, home_dir = tmp_path / "work-config", tmp_path / "home-config"
    with ScriptedModelServer() as server:
        server.script(WriteThenLimit(str(written), "half", retry_after_s=600))
        server.set_default(WriteFile(str(target), "done"))
        accounts: dict[str, Any] = {}
        for name, config_dir, priority in (("work", work_dir, 1), ("home", home_dir, 2)):
            cfg = PROVIDERS["claude-code"](server.url, tmp_path)  # one HOME for both
            cfg["adapter"] = "claude-code"
            cfg["env"]["CLAUDE_CONFIG_DIR"] = str(config_dir)
            cfg["accessModes"][0]["priority"] = priority
            accounts[f"claude-{name}"] = cfg
        project.write_config(accounts)
        first = project.run("run", "--json", TASK, timeout=240, check_code=0)
        told_home = _handed_over(server.model_requests)
        assert written.read_text() == "half" and target.read_text() == "done"
        # each account kept its own state in its own config directory
        assert any(work_dir.iterdir()) and any(home_dir.iterdir())
        store = project.store()
        try:
            one = store.get_task(_task_id(first.stdout))
            assert one is not None
            assert {c.provider for c in store.cooldowns(one.attempts[0].started_at)} == {
                "claude-work"
            }
            store.clear_cooldowns("claude-work")  # and the other way round
        finally:
            store.close()
        accounts["claude-work"]["accessModes"][0]["priority"] = 2
        accounts["claude-home"]["accessModes"][0]["priority"] = 1
        project.write_config(accounts)
        before = len(server.model_requests)
        server.script(WriteThenLimit(str(written), "half again", retry_after_s=600))
        second = project.run("run", "--json", TASK, timeout=240, check_code=0)
        told_work = _handed_over(server.model_requests[before:])
    assert [(a.provider, a.outcome) for a in one.attempts] == [
        ("claude-work", "rate_limited"),
        ("claude-home", "success"),
    ]
    assert "[ADO handoff]" in told_home and "Files it changed (1): half-done.txt" in told_home
    assert "claude-work/subscription, stopped: rate_limited" in told_home
    two = project.task(_task_id(second.stdout))
    assert [(a.provider, a.outcome) for a in two.attempts] == [
        ("claude-home", "rate_limited"),
        ("claude-work", "success"),
    ]
    assert "[ADO handoff]" in told_work and "Files it changed (1): half-done.txt" in told_work
    assert "claude-home/subscription, stopped: rate_limited" in told_work
