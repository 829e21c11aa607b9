"""Parking (``ado.routing.parking``) in a real ``ado serve``: a task whose every candidate is
limited waits, parked, for the earliest known reset, is looked at again once, and is parked
again (never looped) while the quota is still gone — with a scripted agent that refuses with
a short "try again in 2 seconds" and the store's cooldowns and quota ledger."""

from __future__ import annotations

import sys
import textwrap
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from typing import Any

import pytest

from ado.store.views import QuotaWindowView
from tests.fixtures.ado import Project
from tests.server.conftest import Server
from tests.server.test_serve import _post, _task
from tests.support import poll_until, wait_for

Serve = Callable[..., Server]

#: What the scripted agent says when it refuses: a rate limit that resets in 2 s.
REFUSAL = "Error: You've hit your rate limit. Try again in 2 seconds."


class Agent:
    """A cursor-agent that follows ``plan`` run by run (``limit`` refuses, ``ok`` succeeds;
    the last step repeats) and logs the time each run starts."""

    def __init__(self, root: Path) -> None:
        self.script = root / "bin" / "planned-cursor-agent"
        self.log = root / "runs.log"
        self.script.parent.mkdir(exist_ok=True)
        self.script.write_text(
            textwrap.dedent(f"""\
            #!{sys.executable}
            import os, sys, time
            if "--version" not in sys.argv and "-v" not in sys.argv:
                log = os.environ["AGENT_RUNS"]
                with open(log, "a") as f:
                    f.write(f"{{time.time()}}\\n")
                with open(log) as f:
                    n = len(f.read().splitlines())
                plan = os.environ["AGENT_PLAN"].split(",")
                if plan[min(n, len(plan)) - 1] == "limit":
                    print({REFUSAL!r}, file=sys.stderr)
                    raise SystemExit(1)
            from ado.testing.fake_cursor_agent import main
            raise SystemExit(main())
        """)
        )
        self.script.chmod(0o755)

    def provider(self, plan: str) -> dict[str, Any]:
        return {
            "enabled": True,
            "command": str(self.script),
            "timeout": 60,
            "env": {"AGENT_PLAN": plan, "AGENT_RUNS": str(self.log)},
            "accessModes": [{"mode": "subscription", "priority": 1}],
        }

    def runs(self) -> list[datetime]:
        if not self.log.exists():
            return []
        return [datetime.fromtimestamp(float(t), UTC) for t in self.log.read_text().split()]


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    return Agent(tmp_path)


def _configure(project: Project, agent: Agent, plan: str, max_parks: int = 3) -> None:
    project.write_config(
        {"cursor-agent": agent.provider(plan)},
        routing={"quota": {"maxParks": max_parks}},
    )


def _finished(server: Server, task_id: int) -> Callable[[], dict[str, Any] | None]:
    def done() -> dict[str, Any] | None:
        task = _task(server, task_id)
        return task if task["status"] in ("succeeded", "failed", "cancelled") else None

    return done


def _cool_down(project: Project, seconds: float) -> datetime:
    until = datetime.now(UTC) + timedelta(seconds=seconds)
    store = project.store()
    try:
        store.set_cooldown(
            "cursor-agent",
            "subscription",
            until=until,
            kind="rate_limited",
            reason="test",
            reset_known=True,
        )
    finally:
        store.close()
    return until


def _parked_events(project: Project, task_id: int) -> list[str]:
    store = project.store()
    try:
        texts = [e.data.get("text", "") for e in store.list_events(task_id)]
    finally:
        store.close()
    return [t for t in texts if t.startswith("parked: ")]


def test_a_parked_task_resumes_exactly_once_after_the_reset(
    project: Project, agent: Agent, serve: Serve
) -> None:
    """The agent refuses (resets in 2 s): the task is parked with the reason, not failed;
    at the reset it is looked at again and runs once more, to success."""
    _configure(project, agent, "limit,ok")
    server = serve()
    task_id = _post(server)
    parked = wait_for(
        lambda: (t := _task(server, task_id))["status"] == "parked" and t, what="the park"
    )
    assert parked["parks"] == 1 and len(agent.runs()) == 1
    assert parked["parkReason"].startswith("waiting for cursor-agent's cooldown, resets ")
    until = datetime.fromisoformat(parked["parkedUntil"])
    with server.client() as client:  # the listing shows it too
        listed = client.get("/api/tasks").json()["items"]
    assert [t["parkReason"] for t in listed if t["id"] == task_id] == [parked["parkReason"]]
    task = wait_for(_finished(server, task_id), what="the task to resume and finish")
    assert task["status"] == "succeeded" and task["parks"] == 1
    runs = agent.runs()
    assert len(runs) == 2 and runs[1] >= until  # once, and not before the reset
    assert [a["number"] for a in task["attempts"]] == [1, 2]
    assert [a["outcome"] for a in task["attempts"]] == ["rate_limited", "success"]
    assert len(_parked_events(project, task_id)) == 1


def test_still_limited_at_the_reset_it_is_parked_again_then_fails_after_max_parks(
    project: Project, agent: Agent, serve: Serve
) -> None:
    """Adversarial: the agent refuses every time. One run per reset (no retry loop), parked
    again each time, and failed with the reason once routing.quota.maxParks is spent."""
    _configure(project, agent, "limit", max_parks=2)
    server = serve()
    task_id = _post(server)
    task = wait_for(_finished(server, task_id), 60, what="the task to give up")
    assert task["status"] == "failed" and task["parks"] == 2
    assert "after 2 park(s) (routing.quota.maxParks: 2)" in task["error"]
    assert "waiting for cursor-agent's cooldown" in task["error"]
    runs = agent.runs()
    assert len(runs) == 3  # the first run, and one after each of the 2 resets
    assert all(later - earlier >= timedelta(seconds=1.5) for earlier, later in pairwise(runs))
    assert len(_parked_events(project, task_id)) == 2
    assert poll_until(lambda: len(agent.runs()) > 3, 1.0) is None  # and nothing after


def test_the_cheap_check_parks_again_without_running_the_agent(
    project: Project, agent: Agent, serve: Serve
) -> None:
    """At the cooldown's reset the quota ledger still says rejected: parked again until the
    window resets, without starting the agent; then it runs once."""
    _configure(project, agent, "ok")
    server = serve()
    _cool_down(project, 2)
    window_reset = datetime.now(UTC) + timedelta(seconds=4)
    store = project.store()
    try:
        store.record_quota(
            QuotaWindowView(
                provider="cursor-agent",
                kind="five_hour",
                status="rejected",
                source="agent",
                used_ratio=1.0,
                resets_at=window_reset,
                window_minutes=300,
                observed_at=datetime.now(UTC),
            )
        )
    finally:
        store.close()
    task_id = _post(server)
    task = wait_for(_finished(server, task_id), 60, what="the task to run")
    assert task["status"] == "succeeded" and task["parks"] == 2
    assert task["parkReason"].startswith("waiting for cursor-agent's 5-hour window, resets ")
    runs = agent.runs()
    assert len(runs) == 1 and runs[0] >= window_reset
    first, second = _parked_events(project, task_id)
    assert "cooldown" in first and "5-hour window" in second


def test_max_parks_0_fails_at_once(project: Project, agent: Agent, serve: Serve) -> None:
    _configure(project, agent, "ok", max_parks=0)
    server = serve()
    _cool_down(project, 3600)
    task = wait_for(_finished(server, _post(server)), what="the task to fail")
    assert task["status"] == "failed" and task["parks"] == 0
    assert "No provider can take this task right now" in task["error"]
    assert agent.runs() == []


def test_not_after_refuses_a_reset_past_it(project: Project, agent: Agent, serve: Serve) -> None:
    """notAfter: a reset after it fails the task at once ("not resumed"); one before it
    parks as usual."""
    _configure(project, agent, "ok")
    server = serve()
    _cool_down(project, 2 * 3600)
    soon = (datetime.now(UTC) + timedelta(hours=1)).strftime("%H:%M+00:00")
    later = (datetime.now(UTC) + timedelta(hours=3)).strftime("%H:%M+00:00")
    refused, waits = _post(server, notAfter=soon), _post(server, notAfter=later)
    task = wait_for(_finished(server, refused), what="the task to be refused")
    assert task["status"] == "failed" and task["parks"] == 0
    assert task["error"].startswith("Not resumed: the earliest reset") and soon in task["error"]
    assert task["options"]["notAfter"] == soon
    wait_for(lambda: _task(server, waits)["status"] == "parked", what="the other to park")
    assert agent.runs() == []
    with server.client() as client:
        bad = client.post("/api/tasks", json={"prompt": "x", "notAfter": "25:00"})
    assert bad.status_code == 422 and "HH:MM" in bad.text


def test_a_parked_task_survives_a_restart(project: Project, agent: Agent, serve: Serve) -> None:
    """Parked in the store, owned by no process: the next server resumes it at its time."""
    _configure(project, agent, "ok")
    server = serve()
    until = _cool_down(project, 4)
    task_id = _post(server)
    wait_for(lambda: _task(server, task_id)["status"] == "parked", what="the park")
    server.stop()
    restarted = serve(port=server.port)
    task = wait_for(_finished(restarted, task_id), what="the task to resume after the restart")
    assert task["status"] == "succeeded" and task["parks"] == 1 and task["error"] is None
    runs = agent.runs()
    assert len(runs) == 1 and runs[0] >= until


def test_cancel_a_parked_task(project: Project, agent: Agent, serve: Serve) -> None:
    _configure(project, agent, "ok")
    server = serve()
    until = _cool_down(project, 10)
    task_id = _post(server)
    wait_for(lambda: _task(server, task_id)["status"] == "parked", what="the park")
    with server.client() as client:
        response = client.post(f"/api/tasks/{task_id}/cancel")
        again = client.post(f"/api/tasks/{task_id}/cancel")
    assert response.status_code == 202 and response.json()["status"] == "cancelled"
    assert again.status_code == 409
    task = _task(server, task_id)
    assert task["status"] == "cancelled" and task["error"] == "cancelled by the user"
    past_reset = (until - datetime.now(UTC)).total_seconds() + 1.5  # no pool takes it back
    assert poll_until(lambda: _task(server, task_id)["status"] != "cancelled", past_reset) is None
    assert agent.runs() == []
