"""What changes while the dashboard is open: tasks started elsewhere, their growing event
logs, cancelling, provider toggles that steer routing, and settings that persist."""

from __future__ import annotations

import signal
from typing import Any

from playwright.sync_api import expect

from tests.dashboard.conftest import Server
from tests.support import wait_for


def mark_page(page: Any) -> None:
    """A flag that a reload would clear: the checks after it prove nothing reloaded."""
    page.evaluate("window.__adoNoReload = true")


def assert_not_reloaded(page: Any) -> None:
    assert page.evaluate("window.__adoNoReload === true"), "the page was reloaded"


def test_a_task_started_from_the_cli_appears_and_its_log_grows_live(
    page: Any, server: Server
) -> None:
    urls: list[str] = []
    frames: list[str | bytes] = []

    def on_socket(socket: Any) -> None:
        urls.append(socket.url)
        socket.on("framereceived", lambda frame: frames.append(frame))

    page.on("websocket", on_socket)
    page.goto("/tasks")
    expect(page.get_by_test_id("live-state").first).to_have_attribute("data-state", "open")
    mark_page(page)
    run = server.ado_popen("run", "[hang] watch me from the dashboard")
    try:
        row = page.get_by_test_id("task-row").filter(has_text="watch me from the dashboard")
        expect(row).to_be_visible(timeout=5_000)  # "within a second" plus CLI start-up
        expect(row.get_by_test_id("task-status")).to_have_attribute("data-status", "running")
        task_id = int(row.get_attribute("data-task-id"))
        row.locator("a").click()  # client-side navigation, no reload
        events = page.get_by_test_id("event")
        expect(page.locator('[data-testid="event"][data-kind="attempt_started"]')).to_be_visible()
        before = events.count()
        assert_not_reloaded(page)
        run.send_signal(signal.SIGINT)  # Ctrl-C: ado stops the agent, records "cancelled"
        run.communicate(timeout=30)
        expect(page.get_by_test_id("task-status").first).to_have_attribute(
            "data-status", "cancelled"
        )
        expect(page.locator('[data-testid="event"][data-kind="task_finished"]')).to_be_visible()
        assert events.count() > before
        assert_not_reloaded(page)
        stored = server.get(f"/api/tasks/{task_id}/events", limit=1000)["items"]
        shown = [e for e in stored if e["kind"] != "tool_result"]
        expect(events).to_have_count(len(shown))
        # The dashboard asks for batches and reads them (/api/ws?batch=1, `events`).
        assert urls and all("batch=1" in url for url in urls), urls
        assert any(isinstance(f, str) and f.startswith('{"type":"events"') for f in frames)
    finally:
        if run.poll() is None:
            run.kill()
        run.communicate()


def test_cancel_a_running_task_from_the_dashboard(page: Any, server: Server) -> None:
    page.goto("/tasks")
    page.get_by_test_id("new-task-button").click()
    form = page.get_by_test_id("new-task-form")
    form.locator('textarea[name="prompt"]').fill("[hang] a task to cancel")
    form.get_by_role("button", name="Start task").click()
    page.wait_for_url("**/tasks/*")
    task_id = int(page.url.rsplit("/", 1)[1])
    expect(page.get_by_test_id("task-status").first).to_have_attribute(
        "data-status", "running", timeout=15_000
    )
    mark_page(page)
    page.get_by_test_id("cancel-task").click()
    expect(page.get_by_test_id("task-status").first).to_have_attribute(
        "data-status", "cancelled", timeout=15_000
    )
    assert_not_reloaded(page)
    assert server.wait_task(task_id, "cancelled")["status"] == "cancelled"


def _mode(provider: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in provider["accessModes"] if m["mode"] == name)


def _submit(page: Any, prompt: str) -> int:
    page.goto("/tasks")
    page.get_by_test_id("new-task-button").click()
    form = page.get_by_test_id("new-task-form")
    form.locator('textarea[name="prompt"]').fill(prompt)
    form.get_by_role("button", name="Start task").click()
    page.wait_for_url("**/tasks/*")
    return int(page.url.rsplit("/", 1)[1])


def test_toggling_a_provider_persists_and_changes_routing(page: Any, server: Server) -> None:
    try:
        page.goto("/providers")
        card = page.get_by_test_id("provider-cursor-agent")
        subscription = card.locator('[data-testid="access-mode"][data-mode="subscription"]')
        subscription.get_by_test_id("mode-enabled").click()
        expect(subscription.get_by_test_id("mode-enabled")).to_have_attribute(
            "aria-checked", "false"
        )
        provider = server.provider("cursor-agent")
        assert _mode(provider, "subscription")["enabled"] is False, "persisted"
        page.reload()
        expect(subscription.get_by_test_id("mode-enabled")).to_have_attribute(
            "aria-checked", "false"
        )

        task_id = _submit(page, "routed with the subscription off")
        task = server.wait_task(task_id, "succeeded", "failed")
        assert [(a["provider"], a["accessMode"]) for a in task["attempts"]] == [
            ("cursor-agent", "free")
        ], "the next task went to the free mode"
        expect(page.get_by_test_id("attempt-provider").first).to_have_text("cursor-agent/free")

        page.goto("/providers")
        card.get_by_test_id("provider-enabled").click()
        expect(card.get_by_test_id("provider-enabled")).to_have_attribute("aria-checked", "false")
        wait_for(
            lambda: server.provider("cursor-agent")["enabled"] is False, 5, what="provider disabled"
        )
        refused = server.ado("run", "--json", "nobody may take this")
        assert refused.returncode == 3, refused.stdout + refused.stderr  # no provider available
        task_id = _submit(page, "refused with the provider off")
        task = server.wait_task(task_id, "failed")
        assert task["attempts"] == []
        expect(page.get_by_test_id("task-status").first).to_have_attribute("data-status", "failed")
    finally:
        with server.api() as client:
            client.patch(
                "/api/providers/cursor-agent",
                json={"enabled": True, "accessModes": [{"mode": "subscription", "enabled": True}]},
            ).raise_for_status()


def test_saving_settings_persists_and_bad_values_are_named(page: Any, server: Server) -> None:
    original = server.get("/api/settings")
    try:
        page.goto("/settings")
        page.locator('select[name="routing.strategy"]').select_option("round-robin")
        page.locator('input[name="routing.apiFallback.maxDailyCost"]').fill("12.5")
        page.locator('input[name="notifications.channels.slack.webhookUrl"]').fill(
            "https://hooks.slack.com/services/T000/B000/XXXXXXXX"
        )
        page.get_by_test_id("save-settings").click()
        expect(page.get_by_test_id("saved")).to_be_visible()
        settings = server.get("/api/settings")
        assert settings["routing"]["strategy"] == "round-robin"
        assert settings["routing"]["apiFallback"]["maxDailyCost"] == 12.5
        assert settings["notifications"]["channels"]["slack"]["webhookUrl"] == {"set": True}
        page.reload()
        expect(page.locator('select[name="routing.strategy"]')).to_have_value("round-robin")
        field = page.locator('[data-field="notifications.channels.slack.webhookUrl"]')
        expect(field.get_by_test_id("secret-state")).to_have_text("set (never shown)")
        assert "XXXXXXXX" not in page.content(), "a secret is never sent back"

        bad = page.locator('input[name="routing.apiFallback.maxDailyCost"]')
        bad.fill("-5")
        page.get_by_test_id("save-settings").click()
        error = page.locator('[data-field="routing.apiFallback.maxDailyCost"]').get_by_test_id(
            "field-error"
        )
        expect(error).to_be_visible()
        expect(error).not_to_be_empty()
        assert server.get("/api/settings")["routing"]["apiFallback"]["maxDailyCost"] == 12.5
    finally:
        with server.api() as client:
            client.patch(
                "/api/settings",
                json={
                    "routing": original["routing"],
                    "notifications": {"channels": {"slack": {"webhookUrl": None}}},
                },
            )
