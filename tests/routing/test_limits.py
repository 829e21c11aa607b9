"""Limits are computed from usage records the store stamps with the real time, so each test
records first and then looks at the pair from chosen moments after that."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ado.config.schema import AccessModeConfig
from ado.routing.limits import (
    check_limits,
    cooldown_until,
    day_window_start,
    format_until,
    usage_against_limits,
)
from ado.store import Store
from ado.vocab import OutcomeKind
from tests.routing.routing_helpers import record


def subscription(reset_time: str = "00:00 UTC", **limits: Any) -> AccessModeConfig:
    return AccessModeConfig.model_validate(
        {"mode": "subscription", "subscription": {"rateLimits": limits, "resetTime": reset_time}}
    )


def api_mode(**limits: Any) -> AccessModeConfig:
    return AccessModeConfig.model_validate({"mode": "api", "api": {"rateLimits": limits}})


def record_now(store: Store, mode: str, **kwargs: Any) -> tuple[datetime, datetime]:
    """Record usage for claude-code; returns the real time just before and after."""
    before = datetime.now(UTC)
    record(store, "claude-code", mode, **kwargs)
    return before, datetime.now(UTC)


def test_no_limits_configured(store: Store) -> None:
    record_now(store, "subscription", requests=1000)
    status = check_limits(store, "claude-code", subscription(), datetime.now(UTC))
    assert not status.limited
    assert status.rows == ()
    assert status.reason is None and status.until is None


def test_requests_per_hour_is_a_rolling_hour(store: Store) -> None:
    mode = subscription(requestsPerHour=3)
    record_now(store, "subscription", requests=2)
    before, after = record_now(store, "subscription", requests=1)
    now = after + timedelta(minutes=10)
    status = check_limits(store, "claude-code", mode, now)
    assert status.limited
    assert status.kind == "requestsPerHour"
    # frees up when the recorded requests are an hour old (to the second)
    assert status.until is not None
    assert before + timedelta(hours=1) <= status.until <= after + timedelta(hours=1, seconds=1)
    assert status.reason is not None
    assert status.reason.startswith(
        "claude-code/subscription: 3/3 requests in the last hour (requestsPerHour), frees up "
    )
    assert re.search(r"UTC in 5[01]m$", status.reason)
    assert not check_limits(store, "claude-code", mode, after + timedelta(minutes=61)).limited


def test_under_the_limit_is_not_limited(store: Store) -> None:
    _, after = record_now(store, "subscription", requests=2)
    assert not check_limits(store, "claude-code", subscription(requestsPerHour=3), after).limited


def test_requests_per_day_resets_at_reset_time(store: Store) -> None:
    _, after = record_now(store, "subscription", requests=5)
    reset = (after + timedelta(hours=2)).replace(second=0, microsecond=0)
    mode = subscription(f"{reset:%H:%M} UTC", requestsPerDay=5)

    now = after + timedelta(minutes=5)
    status = check_limits(store, "claude-code", mode, now)
    assert status.limited
    assert status.kind == "requestsPerDay"
    assert status.until == reset
    day = "" if reset.date() == now.date() else f"{reset:%Y-%m-%d} "  # run near midnight
    assert status.reason == (
        f"claude-code/subscription: 5/5 requests today (requestsPerDay), "
        f"resets {day}{reset:%H:%M} UTC in 1h55m"
    )
    # after the reset time a new day starts and the earlier requests no longer count
    after_reset = check_limits(store, "claude-code", mode, reset + timedelta(minutes=1))
    assert not after_reset.limited
    assert after_reset.rows[0].used == 0
    assert after_reset.rows[0].resets_at == reset + timedelta(days=1)


def test_a_reset_on_another_day_names_its_date() -> None:
    now = datetime(2026, 11, 29, 23, 2, tzinfo=UTC)
    assert format_until(now + timedelta(minutes=50), now) == "23:52 UTC in 50m"
    assert format_until(now + timedelta(hours=2), now) == "2026-11-30 01:02 UTC in 2h00m"
    assert format_until(now - timedelta(seconds=30), now) == "23:01 UTC in 0m"


def test_tokens_per_day(store: Store) -> None:
    mode = subscription(tokensPerDay=1000)
    _, after = record_now(store, "subscription", tokens=600)
    assert not check_limits(store, "claude-code", mode, after).limited
    record_now(store, "subscription", tokens=500)
    status = check_limits(store, "claude-code", mode, datetime.now(UTC))
    assert status.limited
    assert status.kind == "tokensPerDay"
    assert "1100/1000 tokens today (tokensPerDay)" in (status.reason or "")


def test_usage_is_counted_per_provider_and_mode(store: Store) -> None:
    record(store, "codex", "subscription", requests=10)
    record(store, "claude-code", "api", requests=10)
    status = check_limits(store, "claude-code", subscription(requestsPerDay=5), datetime.now(UTC))
    assert not status.limited


def test_api_requests_per_minute(store: Store) -> None:
    mode = api_mode(requestsPerMinute=2)
    before, after = record_now(store, "api", requests=2)
    status = check_limits(store, "claude-code", mode, after + timedelta(seconds=10))
    assert status.limited
    assert status.kind == "requestsPerMinute"
    assert status.until is not None
    assert before + timedelta(minutes=1) <= status.until <= after + timedelta(minutes=1, seconds=1)
    assert "2/2 requests in the last minute" in (status.reason or "")
    assert not check_limits(store, "claude-code", mode, after + timedelta(seconds=62)).limited


def test_api_tokens_per_minute(store: Store) -> None:
    mode = api_mode(tokensPerMinute=10_000)
    _, after = record_now(store, "api", tokens=12_000)
    status = check_limits(store, "claude-code", mode, after)
    assert status.limited
    assert status.kind == "tokensPerMinute"
    assert not check_limits(store, "claude-code", mode, after + timedelta(seconds=62)).limited


def test_several_limits_hit_free_up_when_all_have(store: Store) -> None:
    _, after = record_now(store, "subscription", requests=5)
    day_reset = after + timedelta(hours=3)  # whatever the time of day, after the hour's end
    mode = subscription(f"{day_reset:%H:%M} UTC", requestsPerHour=5, requestsPerDay=5)
    status = check_limits(store, "claude-code", mode, after)
    assert status.kind == "requestsPerDay"  # the later of the two
    hh_mm = (day_reset.hour, day_reset.minute)
    assert status.until == day_window_start(hh_mm, after) + timedelta(days=1)


def test_cooldown_limits_until_it_expires(store: Store) -> None:
    now = datetime.now(UTC)
    until = now + timedelta(minutes=5)
    store.set_cooldown(
        "claude-code", "subscription", until=until, kind="rate_limited",
        reason="usage limit reached", reset_known=True,
    )  # fmt: skip
    status = check_limits(store, "claude-code", subscription(), now)
    assert status.limited and status.kind == "cooldown" and status.until == until
    assert status.reason == (
        f"claude-code/subscription: cooling down after rate limited until "
        f"{until:%H:%M} UTC in 5m: usage limit reached"
    )
    assert not check_limits(store, "claude-code", api_mode(), now).limited  # other mode
    assert not check_limits(store, "claude-code", subscription(), until).limited


def test_usage_against_limits_rows(store: Store) -> None:
    record_now(store, "subscription", requests=3, tokens=700)
    now = datetime.now(UTC)
    mode = subscription("06:30 UTC", requestsPerHour=10, requestsPerDay=100, tokensPerDay=5000)
    rows = usage_against_limits(store, "claude-code", mode, now)
    next_reset = day_window_start((6, 30), now) + timedelta(days=1)
    assert [(r.name, r.used, r.limit) for r in rows] == [
        ("requestsPerHour", 3, 10),
        ("requestsPerDay", 3, 100),
        ("tokensPerDay", 700, 5000),
    ]
    assert rows[1].resets_at == rows[2].resets_at == next_reset
    assert not any(r.exhausted for r in rows)
    api_rows = usage_against_limits(
        store, "claude-code", api_mode(requestsPerMinute=60, tokensPerMinute=1000), now
    )
    assert [r.name for r in api_rows] == ["requestsPerMinute", "tokensPerMinute"]


def test_day_window_start() -> None:
    morning = datetime(2025, 3, 10, 5, 0, tzinfo=UTC)
    evening = datetime(2025, 3, 10, 20, 0, tzinfo=UTC)
    assert day_window_start((6, 30), morning) == datetime(2025, 3, 9, 6, 30, tzinfo=UTC)
    assert day_window_start((6, 30), evening) == datetime(2025, 3, 10, 6, 30, tzinfo=UTC)
    assert day_window_start((0, 0), evening) == datetime(2025, 3, 10, tzinfo=UTC)


def test_format_until() -> None:
    now = datetime(2025, 3, 10, 20, 48, tzinfo=UTC)
    assert format_until(datetime(2025, 3, 10, 21, 0, tzinfo=UTC), now) == "21:00 UTC in 12m"
    assert format_until(datetime(2025, 3, 11, 0, 0, tzinfo=UTC), now) == (
        "2025-03-11 00:00 UTC in 3h12m"
    )
    assert format_until(datetime(2025, 3, 13, 0, 0, tzinfo=UTC), now).endswith("in 2d3h")


@pytest.mark.parametrize(
    ("left", "expected"),
    [
        (timedelta(minutes=12), "12m"),
        (timedelta(minutes=114, seconds=0.5), "1h55m"),  # a fraction of a second over: up
        (timedelta(minutes=114, seconds=59.5), "1h55m"),
        (timedelta(microseconds=1), "1m"),
        (timedelta(0), "0m"),
        (-timedelta(minutes=3), "0m"),  # passed already
    ],
)
def test_format_until_rounds_the_minutes_up(left: timedelta, expected: str) -> None:
    now = datetime(2025, 3, 10, 20, 48, tzinfo=UTC)
    assert format_until(now + left, now).endswith(f" in {expected}")


@pytest.mark.parametrize(
    ("kind", "expected"),
    [
        (OutcomeKind.RATE_LIMITED, timedelta(minutes=5)),
        (OutcomeKind.QUOTA_EXHAUSTED, timedelta(hours=24)),
        ("quota_exhausted", timedelta(hours=24)),
        (OutcomeKind.SERVER_ERROR, timedelta(minutes=5)),
        ("something-else", timedelta(minutes=5)),
    ],
)
def test_cooldown_until_defaults(kind: OutcomeKind | str, expected: timedelta) -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    assert cooldown_until(kind, None, now) == now + expected
    # a reset time already past is no reset time
    assert cooldown_until(kind, now - timedelta(minutes=1), now) == now + expected


def test_cooldown_until_uses_a_known_reset() -> None:
    now = datetime(2025, 3, 10, 12, 0, tzinfo=UTC)
    reset = now + timedelta(days=3)
    assert cooldown_until(OutcomeKind.RATE_LIMITED, reset, now) == reset
