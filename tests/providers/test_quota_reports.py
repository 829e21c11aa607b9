"""Readings from what claude (past its plan), gemini, copilot and opencode report, and the
adversarial cases: quota words in an answer, broken events, resets in the past, figures out
of range (``ado.providers.quota``)."""

from __future__ import annotations

import json
import math
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ado.providers.base import ParseState, RunRequest
from ado.providers.claude_code import ClaudeCode
from ado.providers.copilot import Copilot, session_log_events
from ado.providers.events import AgentEvent, EventKind
from ado.providers.gemini_cli import GeminiCli
from ado.providers.opencode import OpenCode
from ado.providers.quota import (
    claude_window,
    copilot_premium_window,
    copilot_quota_snapshots,
    gemini_windows,
    rate_limit_header_windows,
)
from ado.routing.quota import reading_of, record_event
from ado.store import Store

SAMPLES = Path("/work/shared/agent-samples")
NOW = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
LATER = int((NOW + timedelta(hours=2)).timestamp())


def _kinds(events: list[AgentEvent]) -> list[str]:
    return [e.kind.value for e in events]


def _quota(events: list[AgentEvent]) -> list[dict[str, Any]]:
    return [e.data for e in events if e.kind is EventKind.QUOTA]


# -- claude past its plan ---------------------------------------------------------------------

#: What claude 2.1.197 prints when the server says ``-5h-status: rejected`` and
#: ``-overage-status: allowed`` (its header parser, checked against the real CLI).
OVERAGE = {
    "type": "rate_limit_event",
    "rate_limit_info": {
        "status": "rejected",
        "resetsAt": LATER,
        "rateLimitType": "five_hour",
        "unifiedRateLimitFallbackAvailable": False,
        "overageStatus": "allowed",
        "overageResetsAt": LATER + 86400,
        "isUsingOverage": True,
        "overagePeriodMonthly": {"utilization": 0.25},
    },
}


def test_claude_overage_is_a_reading_not_a_limit() -> None:
    events = list(ClaudeCode().parse_line(OVERAGE, ParseState()))
    assert EventKind.RATE_LIMIT.value not in _kinds(events), "the run goes on: never stopped"
    five, overage = _quota(events)
    assert five == {
        "window": "five_hour",
        "status": "rejected",
        "windowMinutes": 300,
        "overage": True,
    }
    assert overage == {
        "window": "overage",
        "status": "allowed",
        "usedRatio": 0.25,
        "overage": True,
    }


def test_claude_rejected_without_overage_still_stops() -> None:
    info = {**OVERAGE["rate_limit_info"], "isUsingOverage": False, "overageStatus": "rejected"}  # type: ignore[dict-item]
    events = list(ClaudeCode().parse_line({**OVERAGE, "rate_limit_info": info}, ParseState()))
    (limit,) = [e for e in events if e.kind is EventKind.RATE_LIMIT]
    assert limit.data["status"] == "rejected"
    assert [q["window"] for q in _quota(events)] == ["five_hour"]


@pytest.mark.parametrize(
    "info",
    [
        "rejected",  # not an object
        ["five_hour"],
        {"isUsingOverage": "yes", "status": "rejected"},  # not a boolean: no overage
        {"isUsingOverage": True, "overagePeriodMonthly": "a lot", "overageResetsAt": "soon"},
    ],
)
def test_claude_malformed_or_partial_events(info: Any) -> None:
    events = list(
        ClaudeCode().parse_line({"type": "rate_limit_event", "rate_limit_info": info}, ParseState())
    )
    for data in _quota(events):
        # whatever is kept names a known window and makes up no figure
        assert data["window"] in {"overage", "five_hour"}
        assert "usedRatio" not in data


@pytest.mark.parametrize(
    ("utilization", "expected"),
    [(1.7, 1.0), (-0.2, None), (math.nan, None), (math.inf, None), ("0.5", None), (True, None)],
)
def test_claude_utilization_out_of_range(utilization: Any, expected: float | None) -> None:
    (event,) = claude_window(
        {"status": "allowed_warning", "rateLimitType": "five_hour", "utilization": utilization}
    )
    assert event.data.get("usedRatio") == expected


# -- the ledger refuses stale and broken readings ---------------------------------------------


def _reading(reset: datetime | None, used: Any = 0.5) -> AgentEvent:
    return AgentEvent(
        EventKind.QUOTA,
        reset_at=reset,
        data={"window": "five_hour", "status": "allowed", "usedRatio": used},
    )


def test_a_reset_in_the_past_is_no_reading(store: Store) -> None:
    now = datetime.now(UTC)
    record_event(store, "claude-code", _reading(now + timedelta(hours=1), 0.4))
    assert reading_of("claude-code", _reading(now - timedelta(seconds=1)), now) is None
    record_event(store, "claude-code", _reading(now - timedelta(hours=1), 0.9))
    (kept,) = store.quota_windows("claude-code")
    assert kept.used_ratio == 0.4, "the current reading stays"


@pytest.mark.parametrize(
    ("used", "stored"), [(3.5, 1.0), (-1, None), (math.nan, None), ("x", None)]
)
def test_the_ledger_stores_no_ratio_out_of_range(used: Any, stored: float | None) -> None:
    view = reading_of("codex", _reading(NOW + timedelta(hours=1), used), NOW)
    assert view is not None and view.used_ratio == stored


# -- gemini -----------------------------------------------------------------------------------

DAILY_TEXT = (
    "[API Error: You have exhausted your daily quota on this model.]\n"
    "Please wait and try again later."
)
MINUTE_TEXT = (
    "[API Error: You exceeded your current quota.\n* Quota exceeded for quota metric "
    "'generate_content_free_tier_requests' and limit "
    "'GenerateRequestsPerMinutePerProjectPerModel-FreeTier'\nSuggested retry after 7s.]"
)


def test_gemini_daily_quota_resets_at_midnight_pacific() -> None:
    (event,) = gemini_windows(DAILY_TEXT, NOW)
    assert event.data["window"] == "daily" and event.data["status"] == "rejected"
    # 01:00 UTC on Nov 30 is 17:00 on Nov 29 in Los Angeles (PST, UTC-8): midnight is 08:00 UTC
    assert event.reset_at == datetime(2026, 11, 30, 8, 0, tzinfo=UTC)


def test_gemini_per_minute_quota_resets_after_the_suggested_delay() -> None:
    (event,) = gemini_windows(MINUTE_TEXT, NOW)
    assert event.data["window"] == "per_minute"
    assert event.reset_at == NOW + timedelta(seconds=7)
    vertex = "Quota exceeded for quota metric 'Generate Content API requests per minute'"
    (other,) = gemini_windows(vertex + ". Please retry in 250ms.", NOW)
    assert other.reset_at == NOW + timedelta(milliseconds=250)


def test_gemini_quota_error_without_a_window_or_not_a_quota_is_no_reading() -> None:
    assert gemini_windows("[API Error: Resource has been exhausted (e.g. check quota).]", NOW) == []
    assert gemini_windows("[API Error: An internal error has occurred.] per day", NOW) == []


def test_gemini_failed_result_is_a_reading_and_a_limit() -> None:
    line = json.loads((SAMPLES / "gemini.ratelimit.default.jsonl").read_text().splitlines()[-1])
    line["error"]["message"] = DAILY_TEXT
    events = list(GeminiCli().parse_line(line, ParseState()))
    assert [q["window"] for q in _quota(events)] == ["daily"]
    (limit,) = [e for e in events if e.kind is EventKind.RATE_LIMIT]
    assert limit.status_code == 429 and limit.reset_at is not None


def test_gemini_answer_quoting_a_quota_error_is_no_reading() -> None:
    gemini, state = GeminiCli(), ParseState()
    list(gemini.parse_line({"type": "message", "role": "assistant", "content": DAILY_TEXT}, state))
    events = list(gemini.parse_line({"type": "result", "status": "success", "stats": {}}, state))
    assert _quota(events) == [] and EventKind.RATE_LIMIT.value not in _kinds(events)


# -- copilot ----------------------------------------------------------------------------------


def test_copilot_402_quota_exceeded_is_the_month_used_up() -> None:
    (event,) = copilot_premium_window(402, "quota_exceeded", NOW)
    assert event.data["window"] == "monthly_premium" and event.data["status"] == "rejected"
    assert event.reset_at == datetime(2026, 12, 1, tzinfo=UTC)
    (december,) = copilot_premium_window(402, None, datetime(2026, 12, 31, 23, 0, tzinfo=UTC))
    assert december.reset_at == datetime(2027, 1, 1, tzinfo=UTC)
    assert copilot_premium_window(500, None, NOW) == []
    failure = {
        "type": "model.call_failure",
        "data": {"statusCode": 402, "errorCode": "quota_exceeded", "errorMessage": "{}"},
    }
    events = list(Copilot().parse_line(failure, ParseState()))
    assert _kinds(events) == ["quota", "error"]


def test_copilot_quota_snapshots() -> None:
    snap = {
        "entitlementRequests": 300,
        "usedRequests": 255,
        "remainingPercentage": 15.0,
        "resetDate": "2026-12-01T00:00:00Z",
        "isUnlimitedEntitlement": False,
    }
    (event,) = copilot_quota_snapshots({"premium_interactions": snap, "chat": {}})
    assert event.data["usedRatio"] == pytest.approx(0.85)
    assert event.reset_at == datetime(2026, 12, 1, tzinfo=UTC)
    over = {**snap, "usedRequests": 400}
    assert copilot_quota_snapshots({"premium_interactions": over})[0].data["status"] == "rejected"
    by_percent = {"remainingPercentage": 40, "resetDate": "2026-12-01"}
    (p,) = copilot_quota_snapshots({"premium_interactions": by_percent})
    assert p.data["usedRatio"] == pytest.approx(0.6)
    assert (
        copilot_quota_snapshots({"premium_interactions": {**snap, "isUnlimitedEntitlement": True}})
        == []
    )
    assert copilot_quota_snapshots({"premium_interactions": {"remainingPercentage": 140}}) == []
    assert copilot_quota_snapshots({"premium_interactions": "full"}) == []


def _session_log(tmp_path: Path, session: str, lines: list[Any]) -> Path:
    home = tmp_path / ".copilot"
    directory = home / "session-state" / session
    directory.mkdir(parents=True)
    text = "\n".join(x if isinstance(x, str) else json.dumps(x) for x in lines)
    (directory / "events.jsonl").write_text(text + "\n")
    return home


SHUTDOWN = {
    "type": "session.shutdown",
    "data": {
        "currentModel": "gpt-4.1",
        "modelMetrics": {
            "gpt-4.1": {
                "requests": {"count": 2, "cost": 0.0},
                "usage": {
                    "inputTokens": 246,
                    "outputTokens": 90,
                    "cacheReadTokens": 10,
                    "cacheWriteTokens": 0,
                },
            }
        },
    },
}


def test_copilot_tokens_from_the_session_log(tmp_path: Path) -> None:
    session = "00a8bb86-2441-40da-91fe-e75668d86d03"
    record = {"type": "session.usage_record", "data": {"usage": {"quotaSnapshots": {}}}}
    home = _session_log(tmp_path, session, [record, "not json {", SHUTDOWN])
    (usage_event,) = session_log_events(home, session)
    usage = usage_event.usage
    assert usage is not None
    assert (usage.input_tokens, usage.output_tokens, usage.cache_read_tokens) == (246, 90, 10)
    assert usage.model == "gpt-4.1"
    # the adapter reads it when the run ends, from the result's sessionId
    copilot, state = Copilot(), ParseState()
    list(copilot.parse_line({"type": "result", "sessionId": session, "exitCode": 0}, state))
    closing = list(
        copilot.closing_events(RunRequest(prompt="p", cwd="."), {"COPILOT_HOME": str(home)}, state)
    )
    assert _kinds(closing) == ["usage"]


def test_copilot_session_log_missing_or_broken(tmp_path: Path) -> None:
    session = "s1"
    assert session_log_events(tmp_path / "nowhere", session) == []
    assert session_log_events(tmp_path, "../../etc") == []
    broken = {"type": "session.shutdown", "data": {"modelMetrics": "lots"}}
    home = _session_log(tmp_path, session, [broken])
    assert session_log_events(home, session) == [], "no summary: tokens stay not reported"
    huge = json.loads(json.dumps(SHUTDOWN))
    huge["data"]["modelMetrics"]["gpt-4.1"]["usage"]["inputTokens"] = -5
    home2 = _session_log(tmp_path / "b", session, [huge])
    (event,) = session_log_events(home2, session)
    assert event.usage is not None and event.usage.input_tokens == 0


# -- opencode ---------------------------------------------------------------------------------


def test_opencode_rate_limit_headers_are_a_reading() -> None:
    line = json.loads((SAMPLES / "opencode.ratelimit.default.jsonl").read_text())
    events = list(OpenCode().parse_line(line, ParseState()))
    (reading,) = _quota(events)
    assert reading == {
        "window": "per_minute",
        "status": "rejected",
        "usedRatio": 1.0,
        "windowMinutes": 1,
    }
    assert EventKind.RATE_LIMIT.value in _kinds(events)


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({}, None),
        ({"x-ratelimit-limit-requests": "0", "x-ratelimit-remaining-requests": "0"}, None),
        (
            {
                "x-ratelimit-limit-requests": "abc",
                "x-ratelimit-remaining-requests": "1",
                "x-ratelimit-reset-requests": "1s",
            },
            None,
        ),
        (
            {
                "x-ratelimit-limit-requests": "50",
                "x-ratelimit-remaining-requests": "80",  # more left than the limit
                "x-ratelimit-reset-requests": "1m30s",
            },
            ("hourly", 0.0, 90.0),
        ),
        (
            {
                "x-ratelimit-limit-tokens": "40000",
                "x-ratelimit-remaining-tokens": "10000",
                "x-ratelimit-reset-tokens": "6ms",
            },
            ("per_minute", 0.75, 0.006),
        ),
        (
            {
                "x-ratelimit-limit-requests": "50",
                "x-ratelimit-remaining-requests": "0",
                "x-ratelimit-reset-requests": "soon",
            },
            None,
        ),
    ],
)
def test_rate_limit_headers_adversarial(
    headers: dict[str, str], expected: tuple[str, float, float] | None
) -> None:
    events = rate_limit_header_windows(headers, NOW)
    if expected is None:
        assert events == []
        return
    (event,) = events
    window, used, after = expected
    assert event.data["window"] == window and event.data["usedRatio"] == pytest.approx(used)
    assert event.reset_at == NOW + timedelta(seconds=after)
