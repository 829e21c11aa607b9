"""``GET /api/quota``: the quota ledger as the API serves it (the same shape as
``ado quota --json``)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from fastapi.testclient import TestClient

from ado.api import schemas, wire
from ado.config.schema import AdoConfig
from ado.routing.quota import snapshot
from ado.store import QuotaWindowView, Store
from tests.routing.routing_helpers import record

from .conftest import CONFIG, loaded_config


def _reading(store: Store, used: float, minutes_ago: float, resets_in: timedelta) -> None:
    now = datetime.now(UTC)
    store.record_quota(
        QuotaWindowView(
            provider="claude-code",
            kind="five_hour",
            status="warning",
            source="agent",
            used_ratio=used,
            resets_at=(now + resets_in).replace(microsecond=0),
            window_minutes=300,
            observed_at=now - timedelta(minutes=minutes_ago),
        )
    )


def test_quota_lists_agent_and_counted_windows(
    store: Store, make_client: Callable[..., TestClient], tmp_path: Path
) -> None:
    _reading(store, 0.5, 20, timedelta(hours=2))
    _reading(store, 0.6, 10, timedelta(hours=2))
    data = {**CONFIG, "providers": {**CONFIG["providers"]}}
    data["providers"]["codex"] = {
        **CONFIG["providers"]["codex"],
        "accessModes": [
            {
                "mode": "subscription",
                "priority": 2,
                "subscription": {"rateLimits": {"requestsPerHour": 10}},
            }
        ],
    }
    record(store, "codex", "subscription", requests=9)
    client = make_client(loaded_config=loaded_config(tmp_path, data))
    response = client.get("/api/quota")
    assert response.status_code == 200
    body = response.json()
    schemas.QuotaOut.model_validate(body)
    agent, counted = body["windows"]
    assert agent["provider"] == "claude-code" and agent["window"] == "five_hour"
    assert agent["source"] == "agent" and agent["status"] == "warning"
    assert agent["usedRatio"] == 0.6 and 590 <= agent["ageS"] <= 700
    assert 7000 <= agent["resetInS"] <= 7200
    # 10 points in the last 10 minutes, 40 left: out 40 minutes after the reading
    runs_out = datetime.fromisoformat(agent["runsOutAt"])
    expected = datetime.now(UTC) + timedelta(minutes=30)
    assert abs((runs_out - expected).total_seconds()) < 60
    assert counted["provider"] == "codex" and counted["source"] == "counted"
    assert counted["window"] == "hourly" and counted["limitName"] == "requestsPerHour"
    assert (counted["used"], counted["limit"], counted["usedRatio"]) == (9, 10, 0.9)
    assert counted["accessMode"] == "subscription"


def test_quota_is_empty_before_any_reading(client: TestClient) -> None:
    response = client.get("/api/quota")
    assert response.status_code == 200 and response.json()["windows"] == []


def test_the_wire_shape_is_its_model(store: Store) -> None:
    _reading(store, 0.3, 1, timedelta(hours=1))
    now = datetime.now(UTC)
    body = wire.QUOTA(snapshot(store, AdoConfig.model_validate(CONFIG), now))
    parsed = schemas.QuotaOut.model_validate(body)
    assert list(body) == list(parsed.model_dump(by_alias=True))
    assert list(body["windows"][0]) == list(parsed.windows[0].model_dump(by_alias=True))
