"""``ado quota``: the ledger as bars, and as JSON (the shape of ``GET /api/quota``)."""

from __future__ import annotations

import json
from datetime import timedelta

from tests.fixtures.ado import Project
from tests.support.quota import record_reading

PROVIDERS = {
    "claude-code": {
        "enabled": True,
        "command": "/nonexistent/claude",
        "accessModes": [{"mode": "subscription", "priority": 1}],
    }
}


def test_quota_shows_each_window(project: Project) -> None:
    project.write_config(PROVIDERS)
    proc = project.run("quota", check_code=0)
    assert "No usage windows known yet" in proc.stdout
    store = project.store()
    for used, ago in ((0.5, 20), (0.7, 10)):
        record_reading(
            store,
            "claude-code",
            "five_hour",
            used,
            status="warning",
            resets_in=timedelta(hours=2),
            ago=timedelta(minutes=ago),
        )
    store.close()
    proc = project.run("quota", check_code=0)
    assert "5-hour window" in proc.stdout and "70%" in proc.stdout and "warning" in proc.stdout
    assert "runs out at" in proc.stdout and "before the reset" in proc.stdout
    body = json.loads(project.run("quota", "--json", check_code=0).stdout)
    (window,) = body["windows"]
    assert window["usedRatio"] == 0.7 and window["source"] == "agent"
    assert window["runsOutAt"] is not None


def test_quota_shows_thresholds_stale_used_up_and_unknown_resets(project: Project) -> None:
    project.write_config(PROVIDERS, routing={"quota": {"warnAt": 0.5, "stopAt": 0.9}})
    store = project.store()
    hours = timedelta(hours=1)
    ago = 2 * hours
    # no reset time: no countdown, no projection
    record_reading(store, "claude-code", "weekly", 0.4, resets_in=None, ago=ago, minutes=10080)
    # at 100 %, rejected: used up, stops new tasks
    record_reading(
        store, "claude-code", "five_hour", 1.0, status="rejected", resets_in=1.5 * hours, ago=ago
    )
    # a reading from before its window reset: stale
    record_reading(store, "codex", "five_hour", 0.6, resets_in=-hours, ago=ago)
    # markup in the provider id is shown as text
    record_reading(store, "[red]x[/red]", "daily", 0.1, resets_in=3 * hours, ago=ago, minutes=1440)
    store.close()
    out = project.run("quota", check_code=0).stdout
    assert "warn at 50%, stop at 90%" in out
    rows = [line.split("│") for line in out.splitlines() if line.count("│") > 3]
    lines = {cells[1].strip() + cells[2].strip(): "│".join(cells) for cells in rows}
    weekly = lines["claude-codeweekly window"]
    assert "not reported" in weekly and "runs out" not in weekly
    five = lines["claude-code5-hour window"]
    assert "rejected, stops new tasks" in five and "used up" in five and "in 1 h 29 min" in five
    stale = lines["codex5-hour window"]
    assert "reset since" in stale and "(passed)" in stale
    assert "[red]x[/red]daily window" in lines
    body = json.loads(project.run("quota", "--json", check_code=0).stdout)
    assert (body["warnAt"], body["stopAt"]) == (0.5, 0.9)
    by = {(w["provider"], w["window"]): w for w in body["windows"]}
    assert by["claude-code", "five_hour"]["stops"] is True
    assert by["codex", "five_hour"]["current"] is False
    assert by["codex", "five_hour"]["stops"] is False
    assert by["claude-code", "weekly"]["current"] is True  # until observed + 7 days
    assert by["claude-code", "five_hour"]["label"] == "5-hour window"
