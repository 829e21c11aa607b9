"""The quota ledger: readings from events, the projection, counted windows from the config."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ado.providers.events import AgentEvent, EventKind
from ado.routing.quota import ledger, projected_exhaustion, reading_of, record_event
from ado.store import QuotaWindowView, Store
from ado.vocab import QuotaSource, QuotaStatus, QuotaWindow
from tests.routing.routing_helpers import make_config, provider, record, sub

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def view(
    used: float | None,
    *,
    minutes: int = 300,
    resets_in: timedelta = timedelta(hours=2),
    prev: tuple[float, timedelta] | None = None,
) -> QuotaWindowView:
    return QuotaWindowView(
        provider="claude-code",
        kind="five_hour",
        status="allowed",
        source="agent",
        used_ratio=used,
        resets_at=NOW + resets_in,
        window_minutes=minutes,
        observed_at=NOW,
        prev_used_ratio=prev[0] if prev else None,
        prev_observed_at=NOW - prev[1] if prev else None,
    )


def test_projection_from_two_readings() -> None:
    # 10 points in 10 minutes, 40 left: out in 40 minutes, before the reset in 2 h
    at = projected_exhaustion(view(0.6, prev=(0.5, timedelta(minutes=10))))
    assert at == NOW + timedelta(minutes=40)
    # a pace that lasts past the reset: no projection
    assert projected_exhaustion(view(0.51, prev=(0.5, timedelta(minutes=10)))) is None


def test_projection_from_the_window_start_with_one_reading() -> None:
    # a 5 h window resetting in 2 h began 3 h ago; 75 % in 3 h: the rest in 1 h
    assert projected_exhaustion(view(0.75)) == NOW + timedelta(hours=1)
    # 30 % in 3 h: 7 more hours, after the reset
    assert projected_exhaustion(view(0.3)) is None


def test_no_projection_without_what_it_needs() -> None:
    assert projected_exhaustion(view(None)) is None
    assert projected_exhaustion(view(0.0)) is None
    assert projected_exhaustion(view(1.0)) == NOW  # already out
    # usage going down (a reading of a fresh window): fall back to the window start
    assert projected_exhaustion(view(0.75, prev=(0.9, timedelta(minutes=5)))) == NOW + timedelta(
        hours=1
    )


def test_reading_of_refuses_unknown_windows() -> None:
    event = AgentEvent(EventKind.QUOTA, data={"window": "fortnightly", "status": "allowed"})
    assert reading_of("claude-code", event, NOW) is None
    event = AgentEvent(EventKind.QUOTA, data={"window": "weekly", "status": "odd"})
    assert reading_of("claude-code", event, NOW) is None


def test_ledger_has_agent_readings_and_counted_limits(store: Store) -> None:
    event = AgentEvent(
        EventKind.QUOTA,
        reset_at=datetime.now(UTC) + timedelta(hours=1),
        data={
            "window": "five_hour",
            "status": "warning",
            "usedRatio": 0.87,
            "windowMinutes": 300,
        },
    )
    record_event(store, "claude-work", event)
    config = make_config(
        {
            "claude-code": provider(sub()),
            "codex": provider(sub(subscription={"rateLimits": {"requestsPerDay": 4}})),
        }
    )
    for _ in range(3):
        record(store, "codex", "subscription")
    entries = ledger(store, config, datetime.now(UTC))
    agent = next(e for e in entries if e.source is QuotaSource.AGENT)
    assert (agent.provider, agent.window, agent.status, agent.used_ratio) == (
        "claude-work",
        QuotaWindow.FIVE_HOUR,
        QuotaStatus.WARNING,
        0.87,
    )
    counted = next(e for e in entries if e.source is QuotaSource.COUNTED)
    assert (counted.provider, counted.window, counted.used, counted.limit) == (
        "codex",
        QuotaWindow.DAILY,
        3,
        4,
    )
    assert counted.used_ratio == pytest.approx(0.75) and counted.limit_name == "requestsPerDay"
