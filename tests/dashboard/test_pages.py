"""Each page of the dashboard shows what the API (and so the store) holds, at desktop and
phone widths, in light and dark mode; the screenshots land in test-artifacts/screenshots/."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from tests.dashboard.conftest import DESKTOP, PHONE, Server


def _mode(provider: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in provider["accessModes"] if m["mode"] == name)


def shoot(page: Any, screenshots: Path, name: str) -> None:
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots / f"{name}.png"), full_page=True)


def test_dashboard_page_shows_the_stored_figures(
    page: Any, server: Server, screenshots: Path
) -> None:
    stats = server.get("/api/dashboard/stats")
    history = server.get("/api/dashboard/usage-history")
    page.goto("/")
    completed = int(stats["completedToday"]["value"])
    expect(page.get_by_test_id("stat-completed").get_by_test_id("stat-value")).to_have_text(
        f"{completed:,}"
    )
    expect(page.get_by_test_id("stat-active").get_by_test_id("stat-value")).to_have_text(
        f"{int(stats['activeTasks']['value']):,}"
    )
    total = sum(day["total"] for day in history["taskVolume"])
    assert total >= 3, "the seeded tasks are in the 7-day volume"
    expect(page.get_by_test_id("task-volume-total")).to_have_text(str(total))
    rows = page.get_by_test_id("provider-usage-row")
    expect(rows).to_have_count(len(history["usageByProvider"]))
    expect(rows.first).to_contain_text(history["usageByProvider"][0]["provider"])
    expect(
        page.get_by_test_id("task-volume").locator(".recharts-bar-rectangle path").first
    ).to_be_visible()
    expect(page.get_by_test_id("recent-alerts")).to_be_visible()
    shoot(page, screenshots, "dashboard-desktop-light")

    page.get_by_test_id("theme-toggle").first.click()
    expect(page.locator("html")).to_have_class("dark")
    shoot(page, screenshots, "dashboard-desktop-dark")

    page.set_viewport_size(PHONE)
    shoot(page, screenshots, "dashboard-phone-dark")
    page.get_by_test_id("theme-toggle").last.click()
    expect(page.locator("html")).not_to_have_class("dark")
    shoot(page, screenshots, "dashboard-phone-light")
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"no horizontal scrolling at phone width ({width}px)"


def test_dark_mode_follows_the_system(browser: Any, server: Server) -> None:
    context = browser.new_context(base_url=server.url, viewport=DESKTOP, color_scheme="dark")
    try:
        page = context.new_page()
        page.goto("/")
        expect(page.locator("html")).to_have_class("dark")
    finally:
        context.close()


def test_tasks_page_lists_filters_and_pages_the_stored_tasks(
    page: Any, server: Server, screenshots: Path
) -> None:
    stored = server.get("/api/tasks", limit=25)["items"]
    page.goto("/tasks")
    rows = page.get_by_test_id("task-row")
    expect(rows.first).to_be_visible()
    ids = [int(x) for x in rows.evaluate_all("rows => rows.map(r => r.dataset.taskId)")]
    assert ids == [t["id"] for t in stored]
    first = stored[0]
    expect(rows.first.get_by_test_id("task-status")).to_have_attribute(
        "data-status", first["status"]
    )
    shoot(page, screenshots, "tasks-desktop")

    failed = server.get("/api/tasks", status="failed")["items"]
    assert failed, "the seeded crash is stored as failed"
    page.get_by_label("Status").select_option("failed")
    expect(rows).to_have_count(len(failed))
    expect(rows.first.get_by_test_id("task-status")).to_have_attribute("data-status", "failed")
    page.get_by_label("Status").select_option("")

    page.get_by_label("Search prompts").fill("release notes")
    page.get_by_label("Search prompts").press("Enter")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("write the release notes")
    page.get_by_label("Search prompts").fill("")
    page.get_by_label("Search prompts").press("Enter")

    # Cursor pagination, one task per page.
    page.goto("/tasks?limit=1")
    expect(rows).to_have_count(1)
    expect(rows.first).to_have_attribute("data-task-id", str(stored[0]["id"]))
    page.get_by_role("button", name="Next page").click()
    expect(rows.first).to_have_attribute("data-task-id", str(stored[1]["id"]))
    page.get_by_role("button", name="Previous page").click()
    expect(rows.first).to_have_attribute("data-task-id", str(stored[0]["id"]))
    page.set_viewport_size(PHONE)
    shoot(page, screenshots, "tasks-phone")


def test_task_detail_shows_attempts_tokens_and_the_event_log(
    page: Any, server: Server, screenshots: Path
) -> None:
    (task,) = server.get("/api/tasks", q="release notes")["items"]
    detail = server.task(task["id"])
    events = server.get(f"/api/tasks/{task['id']}/events", limit=1000)["items"]
    page.goto(f"/tasks/{task['id']}")
    expect(page.get_by_test_id("task-prompt")).to_have_text(detail["prompt"])
    expect(page.get_by_test_id("task-status").first).to_have_attribute("data-status", "succeeded")
    attempts = page.get_by_test_id("attempt")
    expect(attempts).to_have_count(len(detail["attempts"]))
    a = detail["attempts"][0]
    expect(attempts.first.get_by_test_id("attempt-provider")).to_have_text(
        f"{a['provider']}/{a['accessMode']}"
    )
    expect(attempts.first).to_contain_text(a["reason"])
    expect(page.get_by_test_id("task-input-tokens")).to_have_text(f"{detail['inputTokens']:,}")
    shown = [e for e in events if not (e["kind"] == "tool_result")]
    expect(page.get_by_test_id("event")).to_have_count(len(shown))
    tool = page.locator('[data-testid="event"][data-kind="tool_call"]').first
    tool.locator("summary").click()
    expect(tool.get_by_test_id("tool-result")).to_be_visible()
    shoot(page, screenshots, "task-detail-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, screenshots, "task-detail-phone")


def test_providers_page_shows_modes_limits_and_usage(
    page: Any, server: Server, screenshots: Path
) -> None:
    provider = server.provider("cursor-agent")
    page.goto("/providers")
    card = page.get_by_test_id(f"provider-{provider['id']}")
    expect(card).to_contain_text(provider["name"])
    modes = card.get_by_test_id("access-mode")
    expect(modes).to_have_count(len(provider["accessModes"]))
    for mode in sorted(provider["accessModes"], key=lambda m: m["priority"])[:1]:
        expect(modes.first).to_have_attribute("data-mode", mode["mode"])
        expect(modes.first.get_by_test_id("priority")).to_have_text(f"priority {mode['priority']}")
    expect(card.get_by_test_id("usage-tasks")).to_have_text(f"{provider['usageToday']['tasks']:,}")
    expect(card.get_by_test_id("capabilities")).to_contain_text("python")
    subscription = _mode(provider, "subscription")
    limits = modes.first.get_by_test_id("limit")
    expect(limits).to_have_count(len(subscription["limits"]))
    for i, limit in enumerate(subscription["limits"]):
        expect(limits.nth(i)).to_contain_text(f"{limit['used']:,} / {limit['limit']:,}")
    api = card.locator('[data-testid="access-mode"][data-mode="api"]')
    assert _mode(provider, "api")["cooldownUntil"], "the seeded cooldown"
    expect(api.get_by_test_id("cooldown")).to_contain_text(re.compile(r"cooling down for 2h \d+m"))
    shoot(page, screenshots, "providers-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, screenshots, "providers-phone")


def test_settings_page_shows_the_stored_settings(
    page: Any, server: Server, screenshots: Path
) -> None:
    settings = server.get("/api/settings")
    page.goto("/settings")
    expect(page.locator('select[name="routing.strategy"]')).to_have_value(
        settings["routing"]["strategy"]
    )
    expect(page.locator('select[name="hitl.defaultPolicy"]')).to_have_value(
        settings["hitl"]["defaultPolicy"]
    )
    shoot(page, screenshots, "settings-desktop")
    page.set_viewport_size(PHONE)
    shoot(page, screenshots, "settings-phone")


def test_a_parked_task_shows_what_it_waits_for_and_cancels(
    page: Any, server: Server, screenshots: Path
) -> None:
    """Parked in the queue until tomorrow (no pool takes it before): the list and the detail
    say what it waits for; Cancel on the detail page cancels it."""
    from datetime import UTC, datetime, timedelta

    from ado.store import Store

    store = Store(f"sqlite:///{server.root / '.ado' / 'state.db'}")
    try:
        task_id = store.create_task(
            prompt="parked until the reset",
            cwd=str(server.root),
            hitl_policy="autonomous",
            options={},
        )  # running in this process, parked in the queue by it (as a pool parks it)
        reason = "waiting for cursor-agent's 5-hour window, resets 14:05 UTC"
        until = datetime.now(UTC) + timedelta(days=1)
        store.park_task(task_id, until=until, reason=reason, in_queue=True)
    finally:
        store.close()
    page.goto("/tasks")
    row = page.locator(f'[data-testid="task-row"][data-task-id="{task_id}"]')
    expect(row.get_by_test_id("task-status")).to_have_attribute("data-status", "parked")
    expect(row.get_by_test_id("task-status")).to_have_attribute("title", reason)
    expect(row.get_by_test_id("task-park-reason")).to_have_text(reason)
    shoot(page, screenshots, "tasks-parked-desktop")
    page.goto(f"/tasks/{task_id}")
    expect(page.get_by_test_id("park-reason")).to_contain_text("Parked (1 of ")
    expect(page.get_by_test_id("park-reason")).to_contain_text(reason)
    shoot(page, screenshots, "task-detail-parked-desktop")
    page.get_by_test_id("cancel-task").click()
    expect(page.get_by_test_id("task-status").first).to_have_attribute("data-status", "cancelled")
    assert server.task(task_id)["status"] == "cancelled"
