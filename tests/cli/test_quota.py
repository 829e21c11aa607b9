"""``ado quota``: the ledger as bars, and as JSON (the shape of ``GET /api/quota``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from ado.store import QuotaWindowView
from tests.fixtures.ado import Project

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
    now = datetime.now(UTC)
    store = project.store()
    for used, ago in ((0.5, 20), (0.7, 10)):
        store.record_quota(
            QuotaWindowView(
                provider="claude-code",
                kind="five_hour",
                status="warning",
                source="agent",
                used_ratio=used,
                resets_at=now + timedelta(hours=2),
                window_minutes=300,
                observed_at=now - timedelta(minutes=ago),
            )
        )
    store.close()
    proc = project.run("quota", check_code=0)
    assert "five_hour" in proc.stdout and "70%" in proc.stdout and "warning" in proc.stdout
    assert "runs out at" in proc.stdout and "before the reset" in proc.stdout
    body = json.loads(project.run("quota", "--json", check_code=0).stdout)
    (window,) = body["windows"]
    assert window["usedRatio"] == 0.7 and window["source"] == "agent"
    assert window["runsOutAt"] is not None
