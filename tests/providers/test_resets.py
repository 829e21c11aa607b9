import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest

from ado.providers.resets import (
    looks_like_auth_error,
    looks_like_quota,
    looks_like_server_error,
    looks_rate_limited,
    parse_reset,
    parse_retry_after,
)

NOW = datetime(2026, 11, 25, 10, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def utc_local_time(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Local time is UTC here, so clock times without a zone are predictable."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Claude AI usage limit reached|1732500000", datetime(2024, 11, 25, 2, 0, tzinfo=UTC)),
        (
            "Claude AI usage limit reached|1795572680976",
            datetime.fromtimestamp(1795572680.976, UTC),
        ),
        ("5-hour limit reached ∙ resets 2am", datetime(2026, 11, 26, 2, 0, tzinfo=UTC)),
        ("5-hour limit reached ∙ resets 11am", datetime(2026, 11, 25, 11, 0, tzinfo=UTC)),
        # 2pm in Shanghai is 06:00 UTC, already past at 10:00 UTC: the next one is tomorrow
        (
            "You've hit your limit · resets 2pm (Asia/Shanghai)",
            datetime(2026, 11, 26, 6, 0, tzinfo=UTC),
        ),
        ("resets 7pm (America/New_York)", datetime(2026, 11, 26, 0, 0, tzinfo=UTC)),
        ("resets 3:30pm UTC", datetime(2026, 11, 25, 15, 30, tzinfo=UTC)),
        (
            "You've hit your usage limit. Upgrade to Pro or try again in 2 days 17 hours"
            " 14 minutes.",
            NOW + timedelta(days=2, hours=17, minutes=14),
        ),
        (
            "You've hit your usage limit. try again at 6:44 PM.",
            datetime(2026, 11, 25, 18, 44, tzinfo=UTC),
        ),
        ("try again at 9:15 AM", datetime(2026, 11, 26, 9, 15, tzinfo=UTC)),
        (
            "FAKE: Rate limit reached for requests. Please try again in 60s.",
            NOW + timedelta(seconds=60),
        ),
        (
            "Resource has been exhausted (e.g. check quota).\nSuggested retry after 1s.",
            NOW + timedelta(seconds=1),
        ),
        ("Sorry, you've hit a rate limit. Please try again in 2 hours.", NOW + timedelta(hours=2)),
        ("try again in 1h30m", NOW + timedelta(hours=1, minutes=30)),
        ("retry after 500ms", NOW + timedelta(milliseconds=500)),
        ("resets Dec 3 at 9am", datetime(2026, 12, 3, 9, 0, tzinfo=UTC)),
        (
            "You've hit your usage limit … reset when your monthly cycle ends on 11/17/2025",
            datetime(2025, 11, 17, tzinfo=UTC),
        ),
        ("your plan renews on 2026-12-01", datetime(2026, 12, 1, tzinfo=UTC)),
    ],
)
def test_parse_reset(text: str, expected: datetime) -> None:
    reset = parse_reset(text, NOW)
    assert reset == expected
    assert reset is not None and reset.tzinfo is UTC


@pytest.mark.parametrize(
    "text",
    ["", "everything is fine", "retried 5 times", "resets 5 things", "wait time: 5.44 seconds"],
)
def test_parse_reset_without_a_time(text: str) -> None:
    assert parse_reset(text, NOW) is None


def test_parse_reset_naive_now_is_utc() -> None:
    assert parse_reset("try again in 60s", NOW.replace(tzinfo=None)) == NOW + timedelta(seconds=60)


def test_parse_reset_unknown_zone_falls_back_to_local_time() -> None:
    assert parse_reset("resets 2pm (Mars/Olympus)", NOW) == datetime(2026, 11, 25, 14, tzinfo=UTC)


def test_parse_retry_after() -> None:
    assert parse_retry_after("120", NOW) == NOW + timedelta(seconds=120)
    assert parse_retry_after("1.5", NOW) == NOW + timedelta(seconds=1.5)
    assert parse_retry_after("Wed, 25 Nov 2026 12:00:00 GMT", NOW) == datetime(
        2026, 11, 25, 12, tzinfo=UTC
    )
    assert parse_retry_after("", NOW) is None
    assert parse_retry_after("soon", NOW) is None


@pytest.mark.parametrize(
    "text",
    [
        "API Error: Request rejected (429) · rate limit for your organization",
        "exceeded retry limit, last status: 429 Too Many Requests",
        "Claude AI usage limit reached|1732500000",
        "5-hour limit reached ∙ resets 2am",
        "You've hit your limit · resets 2pm (Asia/Shanghai)",
        "You've hit your usage limit. try again in 2 days",
        "RESOURCE_EXHAUSTED",
        "Resource has been exhausted (e.g. check quota).",
        "You exceeded your current quota",
        '{"code":"rate_limited"}',
        "You have exceeded your premium request allowance",
        "402 quota_exceeded",
        "You're out of extra usage",
        "rate_limit_error",
    ],
)
def test_looks_rate_limited(text: str) -> None:
    assert looks_rate_limited(text)


@pytest.mark.parametrize(
    "text", ["", "DONE: wrote hello.txt", "Max attempts reached", "line 4291 of file"]
)
def test_not_rate_limited(text: str) -> None:
    assert not looks_rate_limited(text)


@pytest.mark.parametrize(
    "text",
    [
        "You've reached your weekly limit",
        "seven_day limit rejected",
        "You have exceeded your premium request allowance",
        "HTTP 402 quota_exceeded",
        "You're out of extra usage",
        "reset when your monthly cycle ends on 11/17/2025",
    ],
)
def test_looks_like_quota(text: str) -> None:
    assert looks_like_quota(text)


@pytest.mark.parametrize(
    "text",
    [
        "5-hour limit reached ∙ resets 2am",
        "Resource has been exhausted (e.g. check quota).",
        "Please try again in 60s",
    ],
)
def test_short_limits_are_not_quota(text: str) -> None:
    assert not looks_like_quota(text)


@pytest.mark.parametrize(
    "text",
    [
        "Invalid API key · Please run /login",
        "authentication_error: invalid x-api-key",
        "401 Unauthorized",
        "Not logged in",
        "Invalid auth method selected",
        "API key not valid. Please pass a valid API key.",
        "OAuth token has expired",
    ],
)
def test_looks_like_auth_error(text: str) -> None:
    assert looks_like_auth_error(text)
    assert not looks_like_auth_error("DONE: wrote hello.txt")


@pytest.mark.parametrize(
    "text",
    [
        "API Error: 500 Internal Server Error",
        "502 Bad Gateway",
        "503 Service Unavailable",
        "529 overloaded_error: Overloaded",
    ],
)
def test_looks_like_server_error(text: str) -> None:
    assert looks_like_server_error(text)
    assert not looks_like_server_error("exceeded retry limit, last status: 429")
