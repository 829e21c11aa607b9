"""The quota ledger in the dashboard: the Dashboard page's Quota panel and the gauges on a
Providers card, against a real ``ado serve`` of its own (its store starts with no reading),
in headless Chromium.

The readings are written to the server's store the way the runner writes them
(``ado.routing.quota.record_event`` and the ``quota`` event beside it), or directly as ledger
rows for the cases a run cannot make on demand (a stale reading, a window without a reset).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from ado.providers.events import AgentEvent, EventKind
from ado.routing.quota import record_event
from ado.store import Store
from tests.dashboard.conftest import DESKTOP, PHONE, Server, serving_own
from tests.support.quota import record_reading

MINUTE = timedelta(minutes=1)
RESET = timedelta(hours=2)  # when the 5-hour readings' window resets, from now
#: A provider id with markup in it: shown as text, never as HTML.
HOSTILE = '<img src=x onerror="window.__pwned=1">claude-alt'
CONFIG = {
    "version": "1.1",
    "providers": {
        "claude-code": {
            "enabled": True,
            "command": "/nonexistent/claude",
            "accessModes": [
                {"mode": "subscription", "priority": 1},
                {"mode": "api", "priority": 2},
            ],
        }
    },
    "routing": {"quota": {"warnAt": 0.7, "stopAt": 0.9}},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dashboard_built: None) -> Iterator[Server]:
    """Overrides the package's server: a project whose ledger starts empty."""
    with serving_own(tmp_path_factory, "quota", CONFIG) as server:
        yield server


@pytest.fixture
def store(server_store: Store) -> Store:
    return server_store


def _five_hour_at_60(store: Store) -> None:
    """10 points in the last 10 minutes, 40 left: out 30 minutes from now, 90 before the
    reset in 2 hours."""
    for used, ago in ((0.5, 20), (0.6, 10)):
        record_reading(store, "claude-code", "five_hour", used, resets_in=RESET, ago=ago * MINUTE)


def _no_sideways_scroll(page: Any) -> None:
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"no horizontal scrolling at phone width ({width}px)"


def _shoot(page: Any, screenshots: Path, name: str) -> None:
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def _clock(page: Any, iso: str) -> str:
    """The time as the page writes it (the browser's locale and time zone)."""
    text: str = page.evaluate(
        "iso => new Date(iso).toLocaleTimeString(undefined, {hour: '2-digit', minute: '2-digit'})",
        iso,
    )
    return text


def test_the_empty_panel_says_what_appears_then_a_reading_arrives_live(
    page: Any, server: Server, store: Store
) -> None:
    assert server.get("/api/quota")["windows"] == []
    # The task the reading will come from, running before the page opens (its own live
    # message must not be what refreshes the panel).
    task_id = store.create_task(
        prompt="read the windows", cwd=str(server.root), hitl_policy="autonomous", options={}
    )
    page.goto("/")
    expect(page.get_by_test_id("stat-active").get_by_test_id("stat-value")).to_have_text("1")
    empty = page.get_by_test_id("quota-panel").get_by_test_id("quota-empty")
    expect(empty).to_contain_text("No usage windows known yet")
    expect(empty).to_contain_text("5-hour and weekly windows")
    expect(empty).to_contain_text("rateLimits")
    expect(empty).to_contain_text("ado quota")
    expect(page.get_by_test_id("quota-thresholds")).to_contain_text("warn at 70 %")
    page.set_viewport_size(PHONE)
    _no_sideways_scroll(page)
    page.set_viewport_size(DESKTOP)

    # What the runner does with an agent's reading: the ledger row, and the event it emits.
    event = AgentEvent(
        EventKind.QUOTA,
        reset_at=datetime.now(UTC) + timedelta(hours=3),
        data={
            "window": "five_hour",
            "status": "allowed",
            "usedRatio": 0.25,
            "windowMinutes": 300,
        },
    )
    record_event(store, "claude-work", event)  # a second account of claude
    store.add_events(task_id, None, [event])
    # No reload: the live stream's `quota` event refreshes the panel.
    gauge = page.get_by_test_id("quota-window")
    expect(gauge).to_have_count(1)
    expect(gauge).to_have_attribute("data-provider", "claude-work")
    expect(gauge.get_by_test_id("quota-used")).to_have_text("25 % used")
    expect(gauge.get_by_test_id("quota-reset")).to_contain_text("resets in 2h 5")


def test_the_panel_shows_each_window_with_thresholds_countdown_age_and_projection(
    page: Any, server: Server, store: Store, screenshots: Path
) -> None:
    _five_hour_at_60(store)
    record_reading(store, "claude-code", "weekly", 0.3, resets_in=None, minutes=10080)
    record_reading(store, "codex", "five_hour", 1.0, status="rejected", resets_in=45 * MINUTE)
    stale = 3 * 60 * MINUTE  # read 3 hours ago; its window reset an hour ago
    record_reading(store, "codex", "weekly", 0.8, resets_in=-60 * MINUTE, ago=stale)
    record_reading(store, HOSTILE, "daily", 0.2, resets_in=5 * 60 * MINUTE, minutes=1440)
    api = {(w["provider"], w["window"]): w for w in server.get("/api/quota")["windows"]}

    page.goto("/")
    panel = page.get_by_test_id("quota-panel")
    for provider in ("claude-code", "codex"):
        expect(
            panel.locator(f'[data-testid="quota-provider"][data-provider="{provider}"]')
        ).to_have_count(1)

    def gauge(provider: str, window: str) -> Any:
        return panel.locator(
            f'[data-testid="quota-window"][data-provider="{provider}"][data-window="{window}"]'
        )

    five = gauge("claude-code", "five_hour")
    expect(five.get_by_test_id("quota-used")).to_have_text("60 % used")
    bar = five.get_by_role("progressbar")
    expect(bar).to_have_attribute("aria-valuenow", "60")
    expect(bar).to_have_attribute("aria-label", "claude-code 5-hour window used")
    expect(bar).to_have_attribute("aria-valuetext", re.compile(r"warns at 70 %.*stops .* at 90 %"))
    expect(five.get_by_test_id("quota-reset")).to_contain_text(re.compile(r"resets in 1h 5\dm"))
    expect(five.get_by_test_id("quota-source")).to_have_text("reported by the agent")
    expect(five.get_by_test_id("quota-age")).to_contain_text(re.compile(r"read 10m \d+s ago"))
    runs_out = _clock(page, api["claude-code", "five_hour"]["runsOutAt"])
    expect(five.get_by_test_id("quota-projection")).to_have_text(
        re.compile(
            rf"At this pace the 5-hour window runs out at {runs_out}, 1 h (29|30) min before it "
            r"resets\."
        )
    )
    # The warn and stop marks sit at 70 % and 90 % of the bar.
    box = bar.bounding_box()
    marks = five.get_by_test_id("quota-mark")
    expect(marks).to_have_count(2)
    for i, at in enumerate((0.7, 0.9)):
        mark = marks.nth(i).bounding_box()
        assert abs(mark["x"] - (box["x"] + at * box["width"])) <= 3, (i, mark, box)

    weekly = gauge("claude-code", "weekly")
    expect(weekly.get_by_test_id("quota-reset")).to_have_text("no reset time reported")
    expect(weekly.get_by_test_id("quota-projection")).to_have_count(0)

    rejected = gauge("codex", "five_hour")
    expect(rejected.get_by_test_id("quota-used")).to_have_text("100 % used · rejected")
    expect(rejected.get_by_test_id("quota-stop")).to_contain_text("Rejected by the provider")
    expect(rejected.get_by_test_id("quota-projection")).to_have_count(0)
    expect(rejected.get_by_test_id("quota-fill")).to_have_class(re.compile("bg-red-500"))
    expect(rejected.get_by_test_id("quota-reset")).to_contain_text(re.compile(r"resets in 4\dm"))

    stale = gauge("codex", "weekly")
    expect(stale).to_have_attribute("data-current", "false")
    expect(stale.get_by_test_id("quota-stale")).to_contain_text("reset since this reading")
    expect(stale.get_by_test_id("quota-reset")).to_contain_text("after this reading")
    expect(stale.get_by_test_id("quota-age")).to_contain_text(re.compile(r"read 3h 0m ago"))
    expect(stale.get_by_test_id("quota-projection")).to_have_count(0)
    expect(stale.get_by_test_id("quota-stop")).to_have_count(0)

    hostile = panel.get_by_test_id("quota-provider").filter(has_text="claude-alt")
    expect(hostile.locator("h3")).to_have_text(HOSTILE)
    expect(panel.locator("img")).to_have_count(0)
    assert page.evaluate("window.__pwned") is None
    _shoot(page, screenshots, "quota-desktop")

    page.set_viewport_size(PHONE)
    expect(five.get_by_test_id("quota-projection")).to_be_visible()
    _no_sideways_scroll(page)
    _shoot(page, screenshots, "quota-phone")


def test_a_providers_card_shows_its_windows_beside_the_cooldown_at_phone_width(
    page: Any, server: Server, store: Store, screenshots: Path
) -> None:
    _five_hour_at_60(store)
    record_reading(store, "codex", "five_hour", 0.9, resets_in=60 * MINUTE)  # its own card's
    store.set_cooldown(
        "claude-code",
        "api",
        until=datetime.now(UTC) + 60 * MINUTE,
        kind="rate_limit",
        reason="rate limited (HTTP 429) " + "x" * 120,
        reset_known=True,
    )
    page.set_viewport_size(PHONE)
    page.goto("/providers")
    card = page.get_by_test_id("provider-claude-code")
    windows = card.get_by_test_id("provider-quota").get_by_test_id("quota-window")
    expect(windows.filter(has_text="5-hour window")).to_have_count(1)
    expect(windows.locator('[data-provider="codex"]')).to_have_count(0)
    five = card.locator('[data-testid="quota-window"][data-window="five_hour"]')
    expect(five.get_by_test_id("quota-projection")).to_contain_text("At this pace")
    expect(five.get_by_role("progressbar")).to_have_attribute("aria-valuenow", "60")
    expect(card.get_by_test_id("quota-thresholds")).to_contain_text("stop at 90 %")
    expect(card.get_by_test_id("cooldown")).to_contain_text(
        re.compile(r"cooling down for (59m|1h)")
    )
    _no_sideways_scroll(page)
    _shoot(page, screenshots, "providers-quota-phone")
    page.set_viewport_size(DESKTOP)
    expect(five.get_by_test_id("quota-projection")).to_be_visible()
