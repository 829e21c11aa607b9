"""What the REAL claude (past its plan), copilot, gemini and opencode CLIs report about
quotas and usage, against the scripted model server stating it the way the real APIs do.

- claude, a window exhausted but extra usage allowed (``-overage-status: allowed``): it goes
  on, billed as overage (``isUsingOverage``): the run succeeds, the ledger holds the
  exhausted window and the overage, the attempt's spend counts as real, with one warning;
- copilot prints no tokens: ADO reads them from its session log; a 402 ``quota_exceeded``
  is its monthly premium requests used up;
- gemini's quota errors name their window (per day, per minute);
- opencode hands on no usage figure ADO sees before it stops it (its first "stream error"
  line): the ledger shows the configured ``rateLimits``, counted, and no made-up reading.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ado.store.views import QuotaWindowView
from ado.testing.behaviours import USAGE, QuotaExceeded, RateLimit, Text, WriteFile
from ado.testing.model_server import ScriptedModelServer
from ado.testing.quota_headers import WindowHeader, anthropic_unified
from tests.agent_harness import FAKE_KEY, PROVIDERS
from tests.fixtures.ado import Project

pytestmark = pytest.mark.agents

DAILY_QUOTA = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
MINUTE_QUOTA = "GenerateRequestsPerMinutePerProjectPerModel-FreeTier"


def _ledger(project: Project, provider: str) -> dict[str, QuotaWindowView]:
    return {row.kind: row for row in project.store().quota_windows(provider)}


def _task(project: Project) -> Any:
    store = project.store()
    (summary,) = store.list_tasks(limit=1)
    task = store.get_task(summary.id)
    assert task is not None
    return task


def _events(project: Project) -> list[dict[str, Any]]:
    store = project.store()
    task = _task(project)
    return [{"kind": e.kind, **(e.data.get("data") or {})} for e in store.list_events(task.id)]


def test_claude_billing_overage_goes_on_and_counts_the_spend(
    project: Project, tmp_path: Path
) -> None:
    now = int(time.time())
    five = WindowHeader(1.0, now + 3600, 300, "rejected")
    headers = anthropic_unified(
        five_hour=five,
        overage_status="allowed",
        overage_resets_at=now + 20 * 86400,
        overage_monthly_utilization=0.25,
    )
    target = project.root / "overage.txt"
    with ScriptedModelServer(quota_headers=headers) as server:
        server.set_default(WriteFile(str(target), "hi"))
        cfg = PROVIDERS["claude-code"](server.url, tmp_path)
        cfg["env"].pop("ANTHROPIC_API_KEY")  # a subscription login: the only one with events
        cfg["env"]["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_KEY
        project.write_config({"claude-code": cfg})
        project.run("run", "--json", f"Create {target} containing hi", check_code=0)
        # the window is exhausted: ADO sends the pair no new task until it resets
        refused = project.run("run", "--json", "another task", check_code=3)
    assert "5-hour window rejected" in refused.stdout
    assert target.read_text() == "hi", "not stopped: claude went on, billed as overage"
    store = project.store()
    (done,) = [t for t in store.list_tasks(limit=2) if t.status == "succeeded"]
    task = store.get_task(done.id)
    assert task is not None
    (attempt,) = task.attempts
    assert attempt.outcome == "success"
    assert task.cost_usd > 0, "overage is real spend"
    assert task.cost_usd == pytest.approx(task.api_cost_usd, rel=0.5)
    ledger = _ledger(project, "claude-code")
    assert set(ledger) == {"five_hour", "overage"}
    assert ledger["five_hour"].status == "rejected"
    assert ledger["five_hour"].resets_at is not None
    assert abs(ledger["five_hour"].resets_at.timestamp() - five.resets_at) <= 5
    overage = ledger["overage"]
    assert overage.status == "allowed" and overage.used_ratio == pytest.approx(0.25, abs=0.01)
    assert overage.resets_at is not None
    assert abs(overage.resets_at.timestamp() - (now + 20 * 86400)) <= 5
    warnings = [
        e
        for e in store.list_events(task.id)
        if (e.data.get("data") or {}).get("warning") == "overage"
    ]
    assert len(warnings) == 1
    assert "billed as extra usage (overage)" in (warnings[0].data.get("text") or "")


def test_claude_out_of_extra_usage_is_a_limit(project: Project, tmp_path: Path) -> None:
    """The window and the overage both refused: claude stops, the reading says rejected."""
    now = int(time.time())
    five = WindowHeader(1.0, now + 3600, 300, "rejected")
    headers = anthropic_unified(five_hour=five, overage_status="rejected")
    target = project.root / "never.txt"
    with ScriptedModelServer(quota_headers=headers) as server:
        server.set_default(WriteFile(str(target), "hi"))
        cfg = PROVIDERS["claude-code"](server.url, tmp_path)
        cfg["env"].pop("ANTHROPIC_API_KEY")
        cfg["env"]["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_KEY
        project.write_config({"claude-code": cfg})
        project.run("run", "--json", f"Create {target} containing hi")
    task = _task(project)
    (attempt,) = task.attempts
    assert attempt.outcome in ("rate_limited", "quota_exhausted")
    ledger = _ledger(project, "claude-code")
    assert ledger["five_hour"].status == "rejected"
    assert "overage" not in ledger, "no extra usage in use: no overage reading"
    assert not [e for e in _events(project) if e.get("warning") == "overage"]


def test_copilot_tokens_come_from_its_session_log(project: Project, tmp_path: Path) -> None:
    target = project.root / "copilot.txt"
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), "hi"))
        project.write_config({"copilot": PROVIDERS["copilot"](server.url, tmp_path)})
        project.run("run", "--json", f"Create {target} containing hi", check_code=0)
        calls = len(server.model_requests)
    task = _task(project)
    (attempt,) = task.attempts
    # the tool call, then the final text: each answer reports USAGE
    assert calls == 2
    assert task.input_tokens == calls * USAGE.input_tokens
    assert task.output_tokens == calls * USAGE.output_tokens
    assert attempt.model == "gpt-4.1"
    assert task.api_cost_usd > 0, "priced from the bundled price table"


def test_copilot_402_is_its_premium_requests_used_up(project: Project, tmp_path: Path) -> None:
    with ScriptedModelServer() as server:
        server.set_default(QuotaExceeded(status=402, code="quota_exceeded"))
        project.write_config({"copilot": PROVIDERS["copilot"](server.url, tmp_path)})
        project.run("run", "--json", "say hi")
    task = _task(project)
    (attempt,) = task.attempts
    assert attempt.outcome == "quota_exhausted"
    premium = _ledger(project, "copilot")["monthly_premium"]
    assert premium.status == "rejected" and premium.used_ratio == 1.0
    now = datetime.now(UTC)
    first = now.replace(day=1, hour=0, minute=0, second=0, microsecond=0) + timedelta(days=32)
    assert premium.resets_at == first.replace(day=1)


@pytest.mark.parametrize(
    ("quota_id", "window", "within"),
    [
        (DAILY_QUOTA, "daily", timedelta(hours=25)),
        (MINUTE_QUOTA, "per_minute", timedelta(minutes=1)),
    ],
)
def test_gemini_quota_errors_name_their_window(
    project: Project, tmp_path: Path, quota_id: str, window: str, within: timedelta
) -> None:
    with ScriptedModelServer() as server:
        server.set_default(QuotaExceeded(quota_id=quota_id, retry_after_s=7))
        project.write_config({"gemini-cli": PROVIDERS["gemini-cli"](server.url, tmp_path)})
        project.run("run", "--json", "say hi", timeout=240)
    task = _task(project)
    (attempt,) = task.attempts
    assert attempt.outcome in ("rate_limited", "quota_exhausted")
    ledger = _ledger(project, "gemini-cli")
    assert set(ledger) == {window}
    reading = ledger[window]
    assert reading.status == "rejected" and reading.source == "agent"
    assert reading.resets_at is not None
    now = datetime.now(UTC)
    assert now < reading.resets_at <= now + within
    if window == "per_minute":  # the retry delay the server suggested
        assert abs((reading.resets_at - reading.observed_at).total_seconds() - 7) <= 2
    # the attempt cools down until that reset, with gemini's own quota message as the reason
    assert attempt.reset_at is not None
    assert abs((attempt.reset_at - reading.resets_at).total_seconds()) <= 2
    expected = "daily quota" if window == "daily" else "exceeded your current quota"
    assert attempt.outcome_message.startswith("[API Error:")
    assert expected in attempt.outcome_message


@pytest.mark.parametrize("provider", ["gemini-cli", "copilot", "opencode", "claude-code"])
def test_an_answer_quoting_a_quota_error_is_no_reading(
    project: Project, tmp_path: Path, provider: str
) -> None:
    answer = (
        "I added handling for 'RESOURCE_EXHAUSTED: Quota exceeded for quota metric "
        "requests per day' and for HTTP 402 quota_exceeded, plus x-ratelimit-remaining-requests."
    )
    with ScriptedModelServer() as server:
        server.set_default(Text(answer))
        project.write_config({provider: PROVIDERS[provider](server.url, tmp_path)})
        project.run("run", "--json", "handle quota errors", timeout=240, check_code=0)
    (task,) = project.store().list_tasks(limit=1)
    assert task.status == "succeeded"
    assert _ledger(project, provider) == {}


def test_opencode_rate_limit_shows_the_configured_limits(project: Project, tmp_path: Path) -> None:
    with ScriptedModelServer() as server:
        server.set_default(RateLimit(retry_after_s=1))
        cfg = PROVIDERS["opencode"](server.url, tmp_path)
        cfg["accessModes"][0]["subscription"] = {"rateLimits": {"requestsPerHour": 4}}
        project.write_config({"opencode": cfg})
        project.run("run", "--json", "say hi", timeout=240)
        quota = json.loads(project.run("quota", "--json", check_code=0).stdout)
    task = _task(project)
    (attempt,) = task.attempts
    assert attempt.outcome == "rate_limited"
    # stopped at its first "stream error" line: no figure reported, none made up
    assert _ledger(project, "opencode") == {}
    (counted,) = [w for w in quota["windows"] if w["provider"] == "opencode"]
    assert counted["source"] == "counted" and counted["window"] == "hourly"
    assert counted["limit"] == 4


def _claude_subscription(server: ScriptedModelServer, tmp_path: Path) -> dict[str, Any]:
    cfg = PROVIDERS["claude-code"](server.url, tmp_path)
    cfg["env"].pop("ANTHROPIC_API_KEY")
    cfg["env"]["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_KEY
    return cfg


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("over_one", 1.0),  # utilization 1.7: counted as used up, not 170 %
        ("garbage", None),  # utilization "lots": no figure, not a made-up 0
        ("past_reset", "none"),  # a window that has ended: no reading at all
    ],
)
def test_claude_odd_headers(
    project: Project, tmp_path: Path, case: str, expected: float | str | None
) -> None:
    now = int(time.time())
    reset = now - 600 if case == "past_reset" else now + 3600
    five = WindowHeader(0.9, reset, 300, "allowed_warning", surpassed_threshold=0.75)
    headers = anthropic_unified(five_hour=five)
    if case == "over_one":
        headers["anthropic-ratelimit-unified-5h-utilization"] = "1.7"
    if case == "garbage":
        headers["anthropic-ratelimit-unified-5h-utilization"] = "lots"
    target = project.root / "odd.txt"
    with ScriptedModelServer(quota_headers=headers) as server:
        server.set_default(WriteFile(str(target), "hi"))
        project.write_config({"claude-code": _claude_subscription(server, tmp_path)})
        project.run("run", "--json", f"Create {target} containing hi", check_code=0)
    assert target.read_text() == "hi", "odd headers never break a run"
    ledger = _ledger(project, "claude-code")
    if expected == "none":
        # claude reported it (an event of the task), and the ledger refused it
        assert [e for e in _events(project) if e["kind"] == "quota"]
        assert ledger == {}
        return
    reading = ledger["five_hour"]
    assert reading.used_ratio == expected
    assert reading.status == "warning"
