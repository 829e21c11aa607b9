"""The quota ledger on ``/metrics``: ``ado_quota_used_ratio`` and ``ado_quota_reset_seconds``
per provider and window, scraped over real HTTP and parsed with Prometheus' own parser."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
from prometheus_client.parser import text_string_to_metric_families

from ado.config import load_config
from ado.store import QuotaWindowView
from ado.telemetry import start_for_server
from tests.fixtures.ado import Project
from tests.telemetry.test_prometheus import metrics_server  # the fixture

__all__ = ["metrics_server"]


def test_quota_gauges(project: Project, metrics_server: str) -> None:
    project.write_config(
        {
            "codex": {
                "enabled": True,
                "command": "/nonexistent/codex",
                "accessModes": [
                    {
                        "mode": "subscription",
                        "priority": 1,
                        "subscription": {"rateLimits": {"requestsPerDay": 10}},
                    }
                ],
            }
        }
    )
    store = project.store()
    store.record_quota(
        QuotaWindowView(
            provider="claude-work",
            kind="five_hour",
            status="warning",
            source="agent",
            used_ratio=0.87,
            resets_at=datetime.now(UTC) + timedelta(hours=1),
            window_minutes=300,
            observed_at=datetime.now(UTC),
        )
    )
    hooks = start_for_server(load_config(cwd=project.root).config, store)
    try:
        response = httpx.get(f"{metrics_server}/metrics", timeout=10)
        assert response.status_code == 200
        families = {f.name: f for f in text_string_to_metric_families(response.text)}
    finally:
        hooks.shutdown()
        store.close()
    used = {
        (s.labels["provider"], s.labels["window"]): s.value
        for s in families["ado_quota_used_ratio"].samples
    }
    assert used == {("claude-work", "five_hour"): 0.87, ("codex", "daily"): 0.0}
    reset = {
        (s.labels["provider"], s.labels["window"]): s.value
        for s in families["ado_quota_reset_seconds"].samples
    }
    assert 3500 < reset[("claude-work", "five_hour")] <= 3600
    assert ("codex", "daily") in reset
