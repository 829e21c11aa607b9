"""``ado status`` and ``ado providers list|check`` over tasks run through the fake cursor-agent."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from ado.api._fields import FIELDS
from tests.cli.helpers import run_json
from tests.fixtures.ado import FakeCursor, Project


def limited(cfg: dict[str, Any], **limits: int) -> dict[str, Any]:
    cfg["accessModes"][0]["subscription"] = {"rateLimits": limits, "resetTime": "00:00 UTC"}
    return cfg


def test_status_json_shows_providers_limits_tasks_and_today(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config(
        {"cursor-agent": limited(fake_cursor(), requestsPerDay=50, requestsPerHour=10)}
    )
    first = run_json(project, "first task")
    second = run_json(project, "second task")
    data = json.loads(project.run("status", "--json", check_code=0).stdout)

    assert data["config"] == str(project.config_path)
    assert data["store"].endswith(".ado/state.db")
    rows = {p["id"]: p for p in data["providers"]}
    assert set(rows) >= {"claude-code", "codex", "gemini-cli", "cursor-agent", "copilot"}
    cursor = rows["cursor-agent"]
    assert cursor["installed"] is True and cursor["enabled"] is True
    assert cursor["path"].endswith("/bin/cursor-agent")
    assert rows["codex"]["enabled"] is False and rows["codex"]["accessModes"] == []
    (mode,) = cursor["accessModes"]
    assert (mode["mode"], mode["priority"], mode["enabled"]) == ("subscription", 1, True)
    assert mode["cooldownUntil"] is None
    limits = {lim["name"]: (lim["used"], lim["limit"]) for lim in mode["limits"]}
    assert limits == {"requestsPerDay": (2, 50), "requestsPerHour": (2, 10)}

    assert [t["id"] for t in data["recentTasks"]] == [second["taskId"], first["taskId"]]
    newest = data["recentTasks"][0]
    assert newest["status"] == "succeeded" and newest["prompt"] == "second task"
    assert newest["provider"] == "cursor-agent" and newest["accessMode"] == "subscription"
    assert newest["inputTokens"] == second["usage"]["inputTokens"]

    today = data["today"]
    assert today["tasks"] == {"succeeded": 2}
    assert today["requests"] == 2
    assert today["inputTokens"] == first["usage"]["inputTokens"] * 2
    assert today["outputTokens"] == first["usage"]["outputTokens"] * 2
    assert today["costUsd"] == 0  # a subscription spends nothing
    assert today["apiCostUsd"] == round(first["apiCostUsd"] + second["apiCostUsd"], 6)


def test_status_shows_the_cooldown_after_a_rate_limit(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor("rate_limit")})
    proc = project.run("run", "hit the limit", check_code=3)
    assert "rate limited" in proc.stdout or "limit" in proc.stderr.lower()
    task = project.store().get_task(project.store().list_tasks()[0].id)
    assert task is not None and task.attempts[0].outcome in ("rate_limit", "quota_exhausted")
    assert task.attempts[0].reset_at is not None
    reset = task.attempts[0].reset_at
    data = json.loads(project.run("status", "--json", check_code=0).stdout)
    (mode,) = next(p for p in data["providers"] if p["id"] == "cursor-agent")["accessModes"]
    assert datetime.fromisoformat(mode["cooldownUntil"]) == reset
    assert datetime.fromisoformat(mode["cooldownUntil"]) > datetime.now(UTC)
    assert "usage limit" in mode["cooldownReason"].lower()
    assert data["recentTasks"][0]["status"] == "failed"
    assert data["today"]["tasks"] == {"failed": 1}

    table = project.run("status", check_code=0).stdout
    row = next(line for line in table.splitlines() if "cursor-agent" in line)
    assert "subscription (p1)" in row and "until" in row


def test_status_table_lists_tasks_and_totals(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": limited(fake_cursor(), requestsPerDay=5)})
    run_json(project, "describe the repo")
    out = project.run("status", check_code=0).stdout
    assert "Providers" in out and "Recent tasks" in out
    assert "1/5 requestsPerDay" in out
    assert "describe the repo" in out and "succeeded" in out
    assert "Today: 1 succeeded · 1 requests · 123 in / 45 out · spent $0" in out


def test_status_on_an_empty_store(project: Project) -> None:
    out = project.run("status", check_code=0).stdout
    assert "No tasks yet" in out
    data = json.loads(project.run("status", "--json", check_code=0).stdout)
    assert data["config"] is None and data["recentTasks"] == []
    assert data["today"]["tasks"] == {} and data["today"]["requests"] == 0


# -- providers ----------------------------------------------------------------------------------


def test_providers_list(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor(priority=3)})
    rows = json.loads(project.run("providers", "list", "--json", check_code=0).stdout)
    assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
    cursor = next(r for r in rows if r["id"] == "cursor-agent")
    assert cursor["enabled"] and cursor["installed"]
    assert cursor["accessModes"][0]["priority"] == 3
    table = project.run("providers", "list", check_code=0).stdout
    assert "Cursor Agent" in table and "subscription(p3)" in table


def test_providers_check_passes_when_enabled_agents_work(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    env = {"CURSOR_API_KEY": "key-for-the-check", "PATH": "/nonexistent"}
    proc = project.run("providers", "check", "cursor-agent", env=env, check_code=0)
    assert "cursor-agent" in proc.stdout and "2026.11.20-fake" in proc.stdout
    assert "logged in" in proc.stdout
    rows = json.loads(project.run("providers", "check", "--json", env=env, check_code=0).stdout)
    cursor = next(r for r in rows if r["id"] == "cursor-agent")
    assert list(cursor) == [key for key, _ in FIELDS["ProviderCheck"]]  # camelCase, all of them
    assert (cursor["installed"], cursor["version"], cursor["loggedIn"]) == (
        True,
        "2026.11.20-fake",
        True,
    )
    assert all(not r["installed"] for r in rows if r["id"] != "cursor-agent")


def test_providers_check_exits_1_when_an_enabled_agent_is_missing(
    project: Project, fake_cursor: FakeCursor
) -> None:
    cfg = fake_cursor()
    cfg["command"] = str(project.root / "not-installed" / "cursor-agent")
    project.write_config({"cursor-agent": cfg})
    proc = project.run("providers", "check", env={"PATH": "/nonexistent"}, check_code=1)
    line = next(x for x in proc.stdout.splitlines() if "cursor-agent" in x)
    assert "not installed" in line and "cursor.com/install" in line


def test_providers_check_sees_credentials_given_in_the_config(
    project: Project, fake_cursor: FakeCursor
) -> None:
    """A key in the provider's ``env`` (or an API mode's apiKey) counts as logged in."""
    cfg = fake_cursor(CURSOR_API_KEY="key-from-the-config")
    project.write_config({"cursor-agent": cfg})
    env = {"PATH": "/nonexistent"}
    rows = json.loads(project.run("providers", "check", "--json", env=env, check_code=0).stdout)
    cursor = next(r for r in rows if r["id"] == "cursor-agent")
    assert cursor["loggedIn"] is True
    assert "key-from-the-config" not in json.dumps(rows)


def test_status_json_describes_providers_as_the_api_does(
    project: Project, fake_cursor: FakeCursor
) -> None:
    """``ado status --json`` (no FastAPI) and ``GET /api/providers`` give the same JSON for
    every provider: same keys, casing, values and serialization."""
    from starlette.testclient import TestClient

    from ado.api import create_app
    from ado.config.loader import load_config

    project.write_config({"cursor-agent": limited(fake_cursor(), requestsPerDay=50)})
    run_json(project, "a task")
    project.run("run", "--provider", "cursor-agent", "another", check_code=0)
    status = json.loads(project.run("status", "--json", check_code=0).stdout)
    store = project.store()
    app = create_app(loaded_config=load_config(cwd=project.root), store=store, rate_limit=None)
    app.state.provider_detections = (float("inf"), {})  # no --version probes, as status
    with TestClient(app) as client:
        api = client.get("/api/providers").json()
        tasks = client.get("/api/tasks", params={"limit": 10}).json()["items"]
    store.close()
    assert status["providers"] == api
    assert status["recentTasks"] == tasks
    cursor = next(p for p in api if p["id"] == "cursor-agent")
    assert cursor["usageToday"]["tasks"] == 2 and cursor["accessModes"][0]["limits"]
