"""``ado run --wait`` parks through the same decision as ``ado serve``
(``ado.routing.parking``): shown by ``ado tasks`` and ``ado status``, cancelled by
``ado tasks cancel``, ``--not-after``, and an orphan when its process dies."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ado.routing.parking import deadline, resume_refused
from tests.cli.helpers import run_json, store_of
from tests.fixtures.ado import FakeCursor, Project
from tests.support import wait_for


def _cool_down(project: Project, until: datetime) -> None:
    store = store_of(project)
    try:
        store.set_cooldown(
            "cursor-agent",
            "subscription",
            until=until,
            kind="rate_limited",
            reason="resets later",
            reset_known=True,
        )
    finally:
        store.close()


def _parked(project: Project) -> int:
    def parked() -> int | None:
        store = store_of(project)
        try:
            tasks = store.list_tasks(limit=1, status="parked")
        finally:
            store.close()
        return tasks[0].id if tasks else None

    return wait_for(parked, what="the run to park its task")


def test_a_waiting_run_is_shown_parked_and_cancel_stops_it(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    _cool_down(project, datetime.now(UTC) + timedelta(hours=1))
    runner = project.popen("run", "--wait", "after the reset")
    try:
        task_id = _parked(project)
        listed = project.run("tasks", "list", check_code=0).stdout
        assert "parked: waiting for cursor-agent's cooldown" in " ".join(listed.split())
        status = json.loads(project.run("status", "--json", check_code=0).stdout)
        recent = {t["id"]: t for t in status["recentTasks"]}
        assert recent[task_id]["status"] == "parked" and recent[task_id]["parks"] == 1
        shown = project.run("tasks", "show", str(task_id), check_code=0).stdout
        assert "parked (1 times): waiting for cursor-agent's cooldown" in " ".join(shown.split())
        proc = project.run("tasks", "cancel", str(task_id), check_code=0)
        assert f"cancel task {task_id}" in proc.stdout
        _, err = runner.communicate(timeout=60)
    finally:
        if runner.poll() is None:
            runner.kill()
            runner.communicate()
    assert runner.returncode == 130, err
    task = project.task(task_id)
    assert task.status == "cancelled" and task.attempts == ()


def test_a_waiting_run_killed_leaves_its_task_interrupted_not_parked(
    project: Project, fake_cursor: FakeCursor
) -> None:
    """Adversarial: ``kill -9`` of a waiting ``ado run``: nobody would resume its task, so
    the next start marks it interrupted (a server's parked task has no owner and stays)."""
    project.write_config({"cursor-agent": fake_cursor()})
    _cool_down(project, datetime.now(UTC) + timedelta(hours=1))
    runner = project.popen("run", "--wait", "after the reset")
    try:
        task_id = _parked(project)
    finally:
        runner.kill()
        runner.communicate()
    project.run("status", check_code=0)
    task = project.task(task_id)
    assert task.status == "interrupted" and "exited" in (task.error or "")


def test_not_after_before_the_reset_fails_at_once(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    _cool_down(project, datetime.now(UTC) + timedelta(hours=2))
    soon = (datetime.now().astimezone() + timedelta(hours=1)).strftime("%H:%M")  # local
    summary = run_json(project, "--not-after", soon, "x", code=3)
    task = project.task(summary["taskId"])
    assert task.status == "failed" and task.parks == 0
    assert task.error is not None and task.error.startswith("Not resumed: the earliest reset")
    assert task.options["not_after"].startswith(soon)  # with the terminal's offset
    assert task.options["wait"] is True  # --not-after waits as --wait does


def test_a_bad_not_after_is_a_usage_error(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    for bad in ("25:00", "tonight", "7"):
        proc = project.run("run", "--not-after", bad, "x", check_code=2)
        assert "HH:MM" in proc.stderr and "Traceback" not in proc.stderr


def test_the_deadline_is_the_next_such_time_after_the_task_was_created() -> None:
    created = datetime(2026, 11, 30, 22, 30, tzinfo=UTC)
    assert deadline("23:00+00:00", created) == datetime(2026, 11, 30, 23, 0, tzinfo=UTC)
    assert deadline("06:00+00:00", created) == datetime(2026, 12, 1, 6, 0, tzinfo=UTC)
    assert deadline("23:30+01:00", created) == datetime(2026, 11, 30, 22, 30, tzinfo=UTC) + (
        timedelta(days=1)
    )
    # due after it (a server down at the time): refused, with the time in the message
    late = resume_refused("23:00+00:00", created, created + timedelta(hours=1))
    assert late is not None and "would start after its not-after time 23:00" in str(late)
    assert resume_refused("23:00+00:00", created, created + timedelta(minutes=20)) is None
    assert resume_refused(None, created, created + timedelta(days=9)) is None
