"""Usage windows read from what the agent CLIs report (``ado.providers.quota``)."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

from ado.providers.base import ParseState, RunRequest
from ado.providers.claude_code import ClaudeCode
from ado.providers.codex import Codex
from ado.providers.events import EventKind
from ado.providers.quota import claude_window, codex_session_windows, codex_windows

from .helpers import DATA

#: A real claude 2.1.197 line (logged in with a subscription token, the server sending
#: anthropic-ratelimit-unified-5h-* with a surpassed threshold).
CLAUDE_WARNING = {
    "type": "rate_limit_event",
    "rate_limit_info": {
        "status": "allowed_warning",
        "resetsAt": 1795995122,
        "rateLimitType": "five_hour",
        "utilization": 0.87,
        "isUsingOverage": False,
        "surpassedThreshold": 0.75,
    },
    "session_id": "fb4832a6-7087-4526-93a3-697e8ecf1946",
}


def test_claude_rate_limit_event_is_a_window_reading() -> None:
    events = list(ClaudeCode().parse_line(CLAUDE_WARNING, ParseState()))
    quota = [e for e in events if e.kind is EventKind.QUOTA]
    assert len(quota) == 1
    (event,) = quota
    assert event.data == {
        "window": "five_hour",
        "status": "warning",
        "usedRatio": 0.87,
        "windowMinutes": 300,
    }
    assert event.reset_at == datetime.fromtimestamp(1795995122, UTC)
    # the warning is still a rate-limit notice too (what classify reads), and stops nothing
    (notice,) = [e for e in events if e.kind is EventKind.RATE_LIMIT]
    assert notice.retrying is False


def test_claude_allowed_without_utilization_and_weekly_windows() -> None:
    (allowed,) = claude_window(
        {"status": "allowed", "resetsAt": 1795995122, "rateLimitType": "five_hour"}
    )
    assert allowed.data == {"window": "five_hour", "status": "allowed", "windowMinutes": 300}
    (weekly,) = claude_window(
        {"status": "rejected", "resetsAt": 1796077922, "rateLimitType": "seven_day_opus"}
    )
    assert weekly.data["window"] == "weekly_opus" and weekly.data["status"] == "rejected"


def test_claude_unknown_or_broken_readings_are_dropped() -> None:
    assert claude_window({"status": "allowed", "rateLimitType": "overage"}) == []
    assert claude_window({"status": "maybe", "rateLimitType": "five_hour"}) == []
    assert claude_window({}) == []
    (odd,) = claude_window(
        {"status": "allowed", "rateLimitType": "five_hour", "utilization": "lots", "resetsAt": -5}
    )
    assert "usedRatio" not in odd.data and odd.reset_at is None


def test_codex_snapshot_windows_by_length() -> None:
    events = codex_windows(
        {
            "primary": {"used_percent": 100.0, "window_minutes": 300, "resets_at": 1795995132},
            "secondary": {"used_percent": 12.5, "window_minutes": 10080, "resets_in_seconds": 60},
            "rate_limit_reached_type": None,
        }
    )
    assert [(e.data["window"], e.data["status"], e.data["usedRatio"]) for e in events] == [
        ("five_hour", "rejected", 1.0),
        ("weekly", "allowed", 0.125),
    ]
    assert events[1].reset_at is not None and events[1].reset_at > datetime.now(UTC)
    # an unknown window length, a broken entry: nothing made up
    assert (
        codex_windows({"primary": {"used_percent": 5, "window_minutes": 7}, "secondary": 3}) == []
    )


def _codex_home(tmp_path: Path, thread_id: str, lines: list[str]) -> Path:
    home = tmp_path / ".codex"
    day = home / "sessions" / "2026" / "11" / "29"
    day.mkdir(parents=True)
    (day / f"rollout-2026-11-29T22-32-13-{thread_id}.jsonl").write_text("\n".join(lines) + "\n")
    return home


def test_codex_session_log_last_snapshot(tmp_path: Path) -> None:
    thread = "01a2296f-f952-76f3-b25a-bed823aea6b7"
    real = (DATA / "codex.session.rate_limits.jsonl").read_text().strip()
    older = json.loads(real)
    older["payload"]["rate_limits"]["primary"]["used_percent"] = 10.0
    home = _codex_home(tmp_path, thread, [json.dumps(older), "not json", real])
    events = codex_session_windows(home, thread)
    assert [(e.data["window"], e.data["usedRatio"]) for e in events] == [
        ("five_hour", 0.87),
        ("weekly", 0.40),
    ]
    assert codex_session_windows(home, "another-thread") == []
    assert codex_session_windows(home, "../*") == []
    assert codex_session_windows(tmp_path / "nowhere", thread) == []


def test_codex_reads_its_log_when_the_run_ends(tmp_path: Path) -> None:
    thread = "01a2296f-f952-76f3-b25a-bed823aea6b7"
    home = _codex_home(
        tmp_path, thread, [(DATA / "codex.session.rate_limits.jsonl").read_text().strip()]
    )
    codex, state = Codex(), ParseState()
    list(codex.parse_line({"type": "thread.started", "thread_id": thread}, state))
    request = RunRequest(prompt="p", cwd=".")
    events = list(codex.closing_events(request, {"CODEX_HOME": str(home)}, state))
    assert {e.data["window"] for e in events} == {"five_hour", "weekly"}
    assert list(codex.closing_events(request, {"CODEX_HOME": str(home)}, ParseState())) == []
