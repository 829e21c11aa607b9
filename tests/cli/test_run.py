"""``ado run`` and ``ado --help``: flags, ``--wait``, and every exit code.

130 (interrupted) is asserted in ``test_tasks.py``, where ``ado tasks cancel`` stops a run.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ado.api.schemas import EventData, RunEvent, RunSummary
from ado.cli import COMMANDS, cli
from tests.cli.helpers import api_mode, record_usage, run_json, store_of
from tests.fixtures.ado import FakeCursor, Project
from tests.support import wait_for

README = Path(__file__).resolve().parents[2] / "README.md"


def test_top_level_help_lists_every_command() -> None:
    result = CliRunner().invoke(cli, ["--help"])
    assert result.exit_code == 0
    listed = re.findall(r"^  (\w+)\s{2,}", result.output.split("Commands:")[1], re.MULTILINE)
    assert listed == sorted(COMMANDS)
    for name in ("run", "status", "tasks", "providers", "report", "config", "init"):
        assert name in listed


def test_run_help_lists_every_flag_of_the_readme() -> None:
    row = next(line for line in README.read_text().splitlines() if line.startswith("| `ado run"))
    spans = re.findall(r"`([^`]*)`", row)
    flags = [f for span in spans for f in re.findall(r"(?<![\w-])-{1,2}[a-z][a-z-]*", span)]
    assert len(flags) == 18, flags  # -p/--provider ... --json
    result = CliRunner().invoke(cli, ["run", "--help"])
    assert result.exit_code == 0
    for flag in flags:
        assert re.search(rf"(^|[\s,]){re.escape(flag)}[\s,=]", result.output), flag


def test_subcommand_help_in_a_real_process(project: Project) -> None:
    for group, subs in (("tasks", "cancel list show"), ("config", "set show validate")):
        out = project.run(group, "--help", check_code=0).stdout
        for sub in subs.split():
            assert f"  {sub} " in out


# -- exit codes -----------------------------------------------------------------------------------


def test_exit_0_on_success(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    proc = project.run("run", "say hi", check_code=0)
    assert "✔ succeeded task 1" in proc.stdout


def test_exit_1_when_the_task_fails(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor("crash")})
    summary = run_json(project, "crash please", code=1)
    assert summary["status"] == "failed" and summary["exitCode"] == 1
    assert project.task(summary["taskId"]).exit_code == 1


def test_json_lines_are_the_models(project: Project, fake_cursor: FakeCursor) -> None:
    """``ado run --json``: a ``RunEvent`` per event, a ``RunSummary`` last; ADO's keys are
    camelCase (the agent's, in ``toolInput`` and copied into ``data``, are its own)."""
    written = project.root / "hello.txt"
    project.write_config({"cursor-agent": fake_cursor(FAKE_CURSOR_WRITE=f"{written}:hi")})
    proc = project.run("run", "--json", "write a file", check_code=0)
    *events, summary = [json.loads(line) for line in proc.stdout.splitlines()]
    _model_keys(RunSummary, summary)
    (attempt,) = summary["attempts"]
    assert attempt["accessMode"] == "subscription" and attempt["filesChanged"] == [str(written)]
    assert "_" not in "".join(summary["usage"]) and summary["usage"]["inputTokens"] > 0
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "attempt_started" and "tool_call" in kinds and kinds[-1] == "task_finished"
    for line in events:
        _model_keys(RunEvent, line)
        assert line["taskId"] == summary["taskId"]
        _model_keys(EventData, line["data"], exclude_none=True)
    started = next(e for e in events if e["kind"] == "attempt_started")
    assert started["accessMode"] == "subscription"
    assert started["data"]["data"]["accessMode"] == "subscription"
    finished = next(e for e in events if e["kind"] == "attempt_finished")["data"]["data"]
    assert finished["exitCode"] == 0 and finished["durationS"] >= 0 and "costUsd" in finished
    call = next(e for e in events if e["kind"] == "tool_call")["data"]
    assert set(call) >= {"toolId", "toolName", "toolInput"} and "fileText" in call["toolInput"]
    # the stored events are the lines' events: one form, stored and shown
    stored = store_of(project).list_events(summary["taskId"])
    assert [(e.kind, e.data) for e in stored] == [(e["kind"], e["data"]) for e in events]


def _model_keys(model: type[Any], body: dict[str, Any], *, exclude_none: bool = False) -> None:
    """``body`` validates as ``model`` and has exactly its keys."""
    dumped = model.model_validate(body).model_dump(by_alias=True, exclude_none=exclude_none)
    assert list(body) == list(dumped), (model.__name__, body)


@pytest.mark.parametrize(
    "args",
    [
        ("run",),  # no prompt
        ("run", "-p", "cursor-agent", "--providers", "codex", "x"),
        ("run", "--hitl", "sometimes", "x"),
        ("frobnicate",),
        ("run", "-p", "no-such-agent", "x"),
    ],
)
def test_exit_2_on_usage_errors(
    project: Project, fake_cursor: FakeCursor, args: tuple[str, ...]
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    proc = project.run(*args, check_code=2)
    assert proc.stderr.strip() and "Traceback" not in proc.stderr


def test_exit_2_on_a_bad_config(project: Project) -> None:
    project.config_path.write_text("routing:\n  strategy: fastest\n")
    proc = project.run("run", "x", check_code=2)
    assert "routing.strategy" in proc.stderr


def test_exit_3_when_every_provider_cools_down(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    until = datetime.now(UTC) + timedelta(hours=2)
    store_of(project).set_cooldown(
        "cursor-agent",
        "subscription",
        until=until,
        kind="rate_limit",
        reason="test",
        reset_known=True,
    )
    proc = project.run("run", "x", check_code=3)
    assert until.strftime("%Y-%m-%d %H:%M UTC") in proc.stderr and "--wait" in proc.stderr


def test_exit_4_when_the_daily_api_budget_is_spent(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config(
        {"cursor-agent": api_mode(fake_cursor())},
        routing={"apiFallback": {"enabled": True, "maxDailyCost": 1.0}},
    )
    record_usage(store_of(project), cost=1.5)
    proc = project.run("run", "-y", "x", check_code=4)
    assert "$1.50" in proc.stderr and "maxDailyCost" in proc.stderr
    task = project.store().list_tasks()[0]
    assert task.status == "failed" and task.exit_code == 4
    assert project.task(task.id).attempts == ()  # the agent never started


def test_exit_4_when_max_cost_is_below_the_estimate(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config(
        {"cursor-agent": api_mode(fake_cursor())}, routing={"apiFallback": {"enabled": True}}
    )
    proc = project.run("run", "-y", "--max-cost", "0.0001", "x", check_code=4)
    assert "--max-cost" in proc.stderr and "per-task limit" in proc.stderr


def test_api_modes_are_skipped_without_api_fallback(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": api_mode(fake_cursor())})
    proc = project.run("run", "x", check_code=3)
    assert "Traceback" not in proc.stderr


# -- --wait ---------------------------------------------------------------------------------------


def test_wait_sits_out_a_cooldown_then_runs(project: Project, fake_cursor: FakeCursor) -> None:
    """--wait waits while the only provider cools down, and runs once it is free again.

    Condition-driven, never a race against the clock: the cooldown lasts an hour, the test
    waits for the run to say it is waiting, then ends the cooldown (as
    ``clear_cooldown`` does); the run looks again and starts the agent."""
    project.write_config({"cursor-agent": fake_cursor()})
    store = store_of(project)
    until = datetime.now(UTC) + timedelta(hours=1)
    store.set_cooldown(
        "cursor-agent",
        "subscription",
        until=until,
        kind="rate_limit",
        reason="resets later",
        reset_known=True,
    )
    proc = project.popen("run", "--json", "--wait", "after the reset")
    try:

        def waiting() -> bool:  # the event is stored first, then the task parked
            tasks = store.list_tasks(limit=1)
            return (
                bool(tasks)
                and tasks[0].status == "parked"
                and any(
                    "waiting until" in e.data.get("text", "")
                    for e in store.list_events(tasks[0].id)
                )
            )

        wait_for(waiting, what="the run to wait for the reset")
        assert proc.poll() is None  # still waiting: the cooldown holds
        held = store.list_tasks(limit=1)[0]
        assert held.status == "parked" and held.attempt_count == 0 and held.parks == 1
        assert held.park_reason is not None
        assert held.park_reason.startswith("waiting for cursor-agent's cooldown, resets ")
        freed = datetime.now(UTC)
        store.clear_cooldown("cursor-agent", "subscription")
        out, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 0, err
    summary = json.loads(out.splitlines()[-1])
    task = store.get_task(summary["taskId"])
    assert task is not None and task.status == "succeeded"
    assert task.attempts[0].started_at >= freed
    events = store.list_events(task.id)
    waits = [e for e in events if "waiting until" in e.data.get("text", "")]
    assert len(waits) == 1  # said once, however many times it looked again
    store.close()


def test_wait_without_a_known_reset_fails_at_once(
    project: Project, fake_cursor: FakeCursor
) -> None:
    """Adversarial: a provider disabled (no reset time to wait for) is not waited on."""
    project.write_config({"cursor-agent": {**fake_cursor(), "enabled": False}})
    summary = run_json(project, "--wait", "nothing can run", code=3)
    events = store_of(project).list_events(summary["taskId"])
    assert not [e for e in events if "waiting until" in e.data.get("text", "")]
