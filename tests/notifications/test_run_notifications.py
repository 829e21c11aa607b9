"""``ado run`` end to end with the scripted agents: the notifications a task really sends."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.fixtures.ado import Project

from .conftest import Receiver

SAMPLES = Path(__file__).parent.parent / "data" / "agent-samples"


@pytest.fixture
def fake_claude(tmp_path: Path) -> dict[str, Any]:
    """claude-code played by a script printing a recorded successful run."""
    script = tmp_path / "bin" / "claude"
    script.parent.mkdir(exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\n"
        "import sys\n"
        f"sys.stdout.write(open({str(SAMPLES / 'claude.success.jsonl')!r}).read())\n"
    )
    script.chmod(0o755)
    return {
        "enabled": True,
        "command": str(script),
        "accessModes": [{"mode": "subscription", "priority": 2}],
    }


def configure(project: Project, providers: dict[str, Any], receiver: Receiver) -> None:
    project.write_config(
        providers,
        notifications={
            "publicUrl": "https://ado.example.com/",
            "channels": {"webhook": {"enabled": True, "url": receiver.url("/hook")}},
            "delivery": {"timeout": 2, "retries": 1, "backoff": 0.05},
        },
    )


def sent(receiver: Receiver) -> list[dict[str, Any]]:
    return [json.loads(r.body) for r in receiver.at("/hook")]


def run(project: Project, code: int) -> dict[str, Any]:
    proc = project.run("run", "--json", "do it", check_code=code)
    summary: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    return summary


def test_success_sends_started_and_completed(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], receiver: Receiver
) -> None:
    configure(project, {"cursor-agent": fake_cursor()}, receiver)
    task_id = run(project, 0)["taskId"]
    started, completed = sent(receiver)
    assert (started["event"], started["level"]) == ("task.started", "info")
    assert started["title"] == f"Task {task_id} started on cursor-agent/subscription"
    assert (completed["event"], completed["level"]) == ("task.completed", "success")
    meta = completed["metadata"]
    assert meta["task_id"] == task_id and meta["provider"] == "cursor-agent/subscription"
    assert meta["url"] == f"https://ado.example.com/tasks/{task_id}"
    assert meta["status"] == "succeeded" and meta["duration_s"] >= 0 and "cost_usd" in meta
    alerts, _ = project.store().list_alerts()
    assert sorted((a.event, a.status, a.task_id) for a in alerts) == [
        ("task.completed", "delivered", task_id),
        ("task.started", "delivered", task_id),
    ]


def test_crash_sends_task_failed(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], receiver: Receiver
) -> None:
    configure(project, {"cursor-agent": fake_cursor("crash")}, receiver)
    run(project, 1)
    events = [e["event"] for e in sent(receiver)]
    assert events == ["task.started", "task.failed"]
    failed = sent(receiver)[-1]
    assert failed["level"] == "error" and "crash" in failed["message"]


def test_rate_limit_fails_over_and_is_announced_once(
    project: Project,
    fake_cursor: Callable[..., dict[str, Any]],
    fake_claude: dict[str, Any],
    receiver: Receiver,
) -> None:
    providers = {"cursor-agent": fake_cursor("rate_limit"), "claude-code": fake_claude}
    configure(project, providers, receiver)
    first = run(project, 0)
    events = sent(receiver)
    assert [e["event"] for e in events] == ["task.started", "rate_limit.reached", "task.completed"]
    limit = events[1]
    assert limit["level"] == "warning"
    assert limit["title"] == "cursor-agent/subscription hit its usage quota"
    assert limit["metadata"]["failed_over_to"] == "claude-code/subscription"
    assert limit["metadata"]["reset_at"].startswith("2026-12-17")
    assert f"task {first['taskId']} failed over to claude-code/subscription" in limit["message"]

    # the pair's cooldown is lifted (as a reset would) and the next task hits the same limit
    store = project.store()
    store.clear_cooldown("cursor-agent", "subscription")
    run(project, 0)
    kinds = [e["event"] for e in sent(receiver)]
    assert kinds.count("rate_limit.reached") == 1
    assert kinds.count("task.completed") == 2
    throttled = [a for a in store.list_alerts()[0] if a.status == "throttled"]
    assert [a.event for a in throttled] == ["rate_limit.reached"]


def test_no_provider_left_sends_providers_exhausted(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], receiver: Receiver
) -> None:
    configure(project, {"cursor-agent": fake_cursor("rate_limit")}, receiver)
    run(project, 3)
    events = sent(receiver)
    assert [e["event"] for e in events] == [
        "task.started",
        "rate_limit.reached",
        "providers.exhausted",
    ]
    assert "could not fail over" in events[1]["message"]
    assert events[2]["level"] == "error"
    assert events[2]["metadata"]["reset_at"].startswith("2026-12-17")


def test_a_dead_receiver_never_fails_or_hangs_the_task(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], closed_port: int
) -> None:
    project.write_config(
        {"cursor-agent": fake_cursor()},
        notifications={
            "channels": {"webhook": {"enabled": True, "url": f"http://127.0.0.1:{closed_port}/"}},
            "delivery": {"retries": 50, "backoff": 1},
        },
    )
    proc = project.run("run", "--json", "do it", check_code=0, timeout=30)
    assert json.loads(proc.stdout.splitlines()[-1])["status"] == "succeeded"
    assert "abandoned" in proc.stderr  # the flush is bounded (5 s), and says so


def test_a_run_on_the_cached_configuration_notifies_too(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], receiver: Receiver
) -> None:
    """The second run reads the configuration from the cache (no pydantic before the spawn);
    its notifier still gets the channels' real, validated settings."""
    configure(project, {"cursor-agent": fake_cursor()}, receiver)
    first = run(project, 0)["taskId"]
    second = run(project, 0)["taskId"]
    assert [(m["event"], m["metadata"]["task_id"]) for m in sent(receiver)] == [
        ("task.started", first),
        ("task.completed", first),
        ("task.started", second),
        ("task.completed", second),
    ]
