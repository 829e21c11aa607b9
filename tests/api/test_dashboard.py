"""/api/dashboard: stat cards with their change, and the seven-day history."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from starlette.testclient import TestClient

from ado.api.schemas import DashboardStats, UsageHistory
from ado.store import Store

from .conftest import add_finished_task


def test_stats_compare_with_the_previous_period(client: TestClient, store: Store) -> None:
    now = datetime.now(UTC)
    day = timedelta(days=1)
    for _ in range(3):
        add_finished_task(store, seconds=30, cost=1.0, finished=now - timedelta(minutes=1))
    # yesterday, earlier in the day than now (completedToday compares the same hours)
    add_finished_task(store, seconds=10, cost=0.0, finished=now - day - timedelta(minutes=1))
    client.post("/api/tasks", json={"prompt": "queued"})
    body = client.get("/api/dashboard/stats").json()
    stats = DashboardStats.model_validate(body)
    assert set(body) == {"activeTasks", "completedToday", "apiCost24h", "avgDurationS"}
    assert stats.active_tasks.value == 1 and stats.active_tasks.change is None
    if now.hour > 0 or now.minute > 2:  # the three tasks finished today
        assert stats.completed_today.value == 3
        assert stats.completed_today.change == 2.0
    assert stats.api_cost_24h.value == 3.0
    assert stats.avg_duration_s.value == 30.0 and stats.avg_duration_s.change == 2.0


def test_stats_of_an_empty_store(client: TestClient) -> None:
    body = client.get("/api/dashboard/stats").json()
    assert all(card == {"value": 0.0, "change": None} for card in body.values())


def test_usage_history(client: TestClient, store: Store) -> None:
    add_finished_task(store, provider="codex", api_cost=0.25)
    add_finished_task(store, mode="api", cost=2.0, api_cost=2.0)
    add_finished_task(store, status="failed", api_cost=0.5)
    history = UsageHistory.model_validate(client.get("/api/dashboard/usage-history").json())
    today = datetime.now(UTC).date().isoformat()
    assert len(history.task_volume) == len(history.cost_trend) == 7
    assert history.task_volume[-1].date == today == history.cost_trend[-1].date
    assert (history.task_volume[-1].total, history.task_volume[-1].succeeded) == (3, 2)
    assert history.task_volume[-1].failed == 1 and history.task_volume[0].total == 0
    assert history.cost_trend[-1].subscription_value_usd == 0.75
    assert history.cost_trend[-1].api_spend_usd == 2.0
    by = {p.provider: p for p in history.usage_by_provider}
    assert by["claude-code"].tasks == 2 and by["codex"].input_tokens == 1000
    assert by["claude-code"].api_cost_usd == 2.5
