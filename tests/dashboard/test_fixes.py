"""The dashboard fixes of issue 9, each checked the way a person would meet the bug: an agent's
error is not shown as a success, a long cooldown reason stays inside its card on a phone,
/api/docs works without the internet, saved settings say what the file would give and can be
reset, a cooldown can be cleared, the task list reads as a table, and a client that fell
behind (``resync``) refetches what it shows."""

from __future__ import annotations

import json
import re
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import expect

from tests.dashboard.conftest import DESKTOP, PHONE, Server
from tests.dashboard.test_pages import shoot
from tests.support import wait_for

LONG_REASON = (
    "rate limited (HTTP 429): "
    + "x" * 180  # one unbroken word, the worst case for wrapping
    + " https://api.example.invalid/v1/responses?request_id=req_0123456789abcdef0123456789abcdef"
)


def _mode(provider: dict[str, Any], name: str) -> dict[str, Any]:
    return next(m for m in provider["accessModes"] if m["mode"] == name)


@contextmanager
def cooldown(server: Server, mode: str, reason: str) -> Iterator[None]:
    """A cooldown on cursor-agent's ``mode`` for the block; the one before it comes back."""
    from ado.store import Store

    before = _mode(server.provider("cursor-agent"), mode)
    store = Store(f"sqlite:///{server.root / '.ado' / 'state.db'}")
    try:
        store.set_cooldown(
            "cursor-agent",
            mode,
            until=datetime.now(UTC) + timedelta(hours=1),
            kind="rate_limit",
            reason=reason,
            reset_known=True,
        )
        yield
    finally:
        if before["cooldownUntil"]:
            store.set_cooldown(
                "cursor-agent",
                mode,
                until=datetime.fromisoformat(before["cooldownUntil"]),
                kind="rate_limit",
                reason=before["cooldownReason"] or "",
                reset_known=True,
            )
        else:
            store.clear_cooldown("cursor-agent", mode)
        store.close()


def needs_settings_origins(server: Server) -> None:
    """Skip until the configuration-layers change (branch ``config``) is in: it adds
    ``origins``/``fileValues`` and ``DELETE /api/settings/{key}`` (``resetSetting``)."""
    paths = server.get("/api/openapi.json")["paths"]
    ids = {op.get("operationId") for item in paths.values() for op in item.values()}
    if "resetSetting" not in ids:
        pytest.skip(
            "needs DELETE /api/settings/{key} (resetSetting) and the settings' origins, "
            "which the configuration-layers change adds; not in this tree yet"
        )


def no_sideways_scroll(page: Any) -> None:
    width, inner = page.evaluate("[document.documentElement.scrollWidth, window.innerWidth]")
    assert width <= inner, f"the page scrolls sideways: {width}px wide in {inner}px"


def inside(inner: Any, outer: Any) -> None:
    box, frame = inner.bounding_box(), outer.bounding_box()
    assert box and frame
    assert box["x"] >= frame["x"] - 0.5, (box, frame)
    assert box["x"] + box["width"] <= frame["x"] + frame["width"] + 0.5, (box, frame)


# -- event log --------------------------------------------------------------------------------


def test_an_agent_error_is_an_error_mark_and_a_running_attempt_is_not_red(
    page: Any, server: Server, screenshots: Path
) -> None:
    run = server.ado("run", "--json", "[error-result] apply the patch")
    assert run.returncode != 0, run.stdout + run.stderr
    (task,) = server.get("/api/tasks", q="[error-result] apply the patch")["items"]
    task_id = task["id"]
    events = server.get(f"/api/tasks/{task_id}/events", limit=1000)["items"]
    results = [e for e in events if e["kind"] == "result"]
    assert results and results[-1]["data"]["isError"] is True, "the agent's own error is stored"

    page.goto(f"/tasks/{task_id}")
    result = page.locator('[data-testid="event"][data-kind="result"]')
    expect(result).to_have_count(len(results))
    expect(result.last).to_have_attribute("data-mark", "error")
    expect(result.last.get_by_label("error")).to_be_visible()
    expect(result.last.get_by_label("done")).to_have_count(0)
    expect(result.last).to_contain_text("src/app.py is read-only")
    shoot(page, screenshots, "task-detail-error-desktop")

    # The adversarial twin: a result that is not an error keeps its success mark.
    (ok,) = server.get("/api/tasks", q="summarise the repository")["items"]
    page.goto(f"/tasks/{ok['id']}")
    expect(page.locator('[data-testid="event"][data-kind="result"]').last).to_have_attribute(
        "data-mark", "ok"
    )

    hang = server.ado_popen("run", "[hang] an attempt that is still running")
    try:
        task = wait_for(
            lambda: next(
                iter(server.get("/api/tasks", q="still running", status="running")["items"]), None
            ),
            30,
            what="the hanging task to run",
        )
        server_attempts = wait_for(lambda: server.task(task["id"])["attempts"], 15, what="attempt")
        assert server_attempts[0]["outcome"] == "running"
        page.goto(f"/tasks/{task['id']}")
        badge = page.get_by_test_id("attempt").first.get_by_test_id("attempt-outcome")
        expect(badge).to_have_text("running")
        expect(badge).to_have_attribute("data-tone", "blue")
        color = badge.evaluate("el => getComputedStyle(el).backgroundColor")
        red = page.evaluate(
            """() => { const s = document.createElement('span');
            s.className = 'bg-red-100'; document.body.append(s);
            const c = getComputedStyle(s).backgroundColor; s.remove(); return c; }"""
        )
        assert color != red, f"a running attempt's badge is not red ({color})"
    finally:
        hang.send_signal(signal.SIGINT)
        hang.communicate(timeout=30)


# -- recent alerts --------------------------------------------------------------------------


def test_no_alerts_says_what_would_appear(page: Any, server: Server) -> None:
    assert server.get("/api/alerts")["items"] == [], "no channel is set up in this project"
    page.goto("/")
    empty = page.get_by_test_id("recent-alerts").get_by_test_id("alerts-empty")
    expect(empty).to_contain_text("No alerts yet")
    expect(empty).to_contain_text("Slack, email or a webhook")
    expect(empty).to_contain_text("failed tasks")
    empty.get_by_role("link", name="Settings").click()
    expect(page).to_have_url(re.compile(r"/settings$"))


# -- providers ----------------------------------------------------------------------------


def test_a_long_cooldown_reason_wraps_inside_its_card(
    page: Any, server: Server, screenshots: Path
) -> None:
    with cooldown(server, "api", LONG_REASON):
        for name, viewport in (("desktop", DESKTOP), ("phone", PHONE)):
            page.set_viewport_size(viewport)
            page.goto("/providers")
            card = page.get_by_test_id("provider-cursor-agent")
            api = card.locator('[data-testid="access-mode"][data-mode="api"]')
            reason = api.get_by_test_id("cooldown-reason")
            expect(reason).to_contain_text("x" * 180)
            expect(reason).to_contain_text("req_0123456789abcdef")
            inside(reason, api)
            inside(api, card)
            inside(api.get_by_test_id("clear-cooldown"), api)
            no_sideways_scroll(page)
            shoot(page, screenshots, f"providers-long-reason-{name}")


def test_clearing_a_cooldown_from_the_providers_page(page: Any, server: Server) -> None:
    with cooldown(server, "api", "rate limited (HTTP 429)"):
        page.goto("/providers")
        api = page.get_by_test_id("provider-cursor-agent").locator(
            '[data-testid="access-mode"][data-mode="api"]'
        )
        expect(api.get_by_test_id("cooldown")).to_be_visible()
        api.get_by_test_id("clear-cooldown").click()
        expect(api.get_by_test_id("cooldown")).to_have_count(0)
        assert _mode(server.provider("cursor-agent"), "api")["cooldownUntil"] is None
        page.reload()
        expect(api).to_be_visible()
        expect(api.get_by_test_id("cooldown")).to_have_count(0)


def test_clearing_a_cooldown_of_an_unknown_provider_is_a_404(server: Server) -> None:
    with server.api() as client:
        response = client.delete("/api/providers/no-such-agent/cooldown")
    assert response.status_code == 404, response.text


# -- /api/docs ------------------------------------------------------------------------------


def test_api_docs_render_with_the_network_closed(
    browser: Any, server: Server, screenshots: Path
) -> None:
    context = browser.new_context(base_url=server.url, viewport=DESKTOP)
    blocked: list[str] = []

    def only_local(route: Any) -> None:
        host = urlsplit(route.request.url).hostname
        if host in ("127.0.0.1", "localhost", "::1"):
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort("internetdisconnected")

    try:
        context.route("**/*", only_local)
        page = context.new_page()
        page.goto("/api/docs")
        operations = [
            (method, path)
            for path, item in server.get("/api/openapi.json")["paths"].items()
            for method in item
        ]
        blocks = page.locator(".opblock")
        expect(blocks).to_have_count(len(operations), timeout=15_000)
        expect(page.locator(".opblock-summary-path", has_text="/api/tasks").first).to_be_visible()
        expect(page.locator(".swagger-ui .info .title")).to_contain_text("ADO")
        # Styled by its own CSS, which also came from ADO.
        display = page.locator(".opblock").first.evaluate("el => getComputedStyle(el).display")
        assert display != "inline", "Swagger UI's stylesheet is applied"
        page.screenshot(path=str(screenshots / "api-docs-offline.png"))
        assert blocked == [], f"requests that left the machine: {blocked}"
    finally:
        context.close()


def test_the_docs_page_names_no_other_host(server: Server) -> None:
    with server.api() as client:
        html = client.get("/api/docs").text
        assert not re.search(r"(src|href)=['\"]https?://", html), html
        for asset in re.findall(r"(?:src|href)=['\"](/[^'\"]+)", html):
            assert client.get(asset).status_code == 200, asset


# -- settings -------------------------------------------------------------------------------


def test_the_fail_over_hint_lists_exactly_the_accepted_values(page: Any, server: Server) -> None:
    schema = server.get("/api/openapi.json")["components"]["schemas"]
    accepted = schema["FailoverConfig"]["properties"]["onErrors"]["items"]["enum"]
    before = server.get("/api/settings")["routing"]["failover"]["onErrors"]
    page.goto("/settings")
    hint = page.locator('[data-field="routing.failover.onErrors"]').locator("span.text-xs").first
    text = hint.inner_text()
    listed = [v.strip() for v in text.split(":", 1)[1].split(",")]
    assert listed == accepted
    with server.api() as client:
        for name in accepted:  # each one listed is taken...
            response = client.patch(
                "/api/settings", json={"routing": {"failover": {"onErrors": [name]}}}
            )
            assert response.status_code == 200, (name, response.text)
        # ...and a name not listed (the old hint offered it) is refused.
        response = client.patch(
            "/api/settings", json={"routing": {"failover": {"onErrors": ["error"]}}}
        )
        assert response.status_code == 422, response.text
        client.patch(
            "/api/settings", json={"routing": {"failover": {"onErrors": before}}}
        ).raise_for_status()


def test_settings_mark_saved_values_with_the_files_and_reset_them(
    page: Any, server: Server, screenshots: Path
) -> None:
    needs_settings_origins(server)
    with server.api() as client:
        client.delete("/api/settings").raise_for_status()
    try:
        file_default = server.get("/api/settings")
        assert file_default["origins"]["routing.failover.maxRetries"] == "file"
        assert file_default["origins"]["routing.strategy"] == "default"
        page.goto("/settings")
        strategy = page.locator('[data-field="routing.strategy"]')
        retries = page.locator('[data-field="routing.failover.maxRetries"]')
        expect(strategy).to_have_attribute("data-origin", "default")
        expect(retries).to_have_attribute("data-origin", "file")
        expect(page.get_by_test_id("origin-saved")).to_have_count(0)

        # Change one field in the form: only that one is saved (and so marked).
        page.locator('select[name="routing.strategy"]').select_option("round-robin")
        page.get_by_test_id("save-settings").click()
        expect(page.get_by_test_id("saved")).to_be_visible()
        expect(strategy).to_have_attribute("data-origin", "saved")
        expect(strategy.get_by_test_id("file-value")).to_have_text(
            file_default["routing"]["strategy"]
        )
        expect(page.get_by_test_id("origin-saved")).to_have_count(1)
        settings = server.get("/api/settings")
        saved = sorted(k for k, o in settings["origins"].items() if o == "saved")
        assert saved == ["routing.strategy"], "saving one field saved only that field"
        expect(retries).to_have_attribute("data-origin", "file")
        shoot(page, screenshots, "settings-origins-desktop")
        page.set_viewport_size(PHONE)
        no_sideways_scroll(page)
        shoot(page, screenshots, "settings-origins-phone")
        page.set_viewport_size(DESKTOP)

        # Reset it: the file's (here the default) value is back, and the marker gone.
        strategy.get_by_test_id("reset-setting").click()
        expect(page.locator('select[name="routing.strategy"]')).to_have_value(
            file_default["routing"]["strategy"]
        )
        expect(strategy).to_have_attribute("data-origin", "default")
        assert server.get("/api/settings")["origins"]["routing.strategy"] == "default"

        # Two saved values, reset all at once.
        page.locator('input[name="routing.failover.maxRetries"]').fill("2")
        page.locator('select[name="hitl.defaultPolicy"]').select_option("manual")
        page.get_by_test_id("save-settings").click()
        expect(page.get_by_test_id("origin-saved")).to_have_count(2)
        expect(retries.get_by_test_id("file-value")).to_have_text("1")
        page.get_by_test_id("reset-all").click()
        page.get_by_test_id("reset-all-confirm").click()
        expect(page.get_by_test_id("origin-saved")).to_have_count(0)
        expect(page.locator('input[name="routing.failover.maxRetries"]')).to_have_value("1")
        origins = server.get("/api/settings")["origins"]
        assert "saved" not in origins.values()
    finally:
        with server.api() as client:
            client.delete("/api/settings").raise_for_status()


# -- tasks ----------------------------------------------------------------------------------

SHARED = "Follow the house style guide, keep the diff small and add tests for every change. "


def test_the_task_list_reads_as_a_table(page: Any, server: Server, screenshots: Path) -> None:
    for ask in ("Fix the login redirect", "Add a dark mode toggle"):
        run = server.ado("run", "--json", SHARED + ask)
        assert run.returncode == 0, run.stdout + run.stderr
    page.goto("/tasks")
    columns = page.get_by_test_id("task-columns")
    expect(columns).to_be_visible()
    for name in ("Status", "Prompt", "Provider", "Duration", "Cost", "Created"):
        expect(columns).to_contain_text(name)

    rows = page.get_by_test_id("task-row")
    login = rows.filter(has_text="Fix the login redirect")
    prompt = login.get_by_test_id("task-prompt")
    expect(prompt).to_have_text(re.compile(r"^…\s*Fix the login redirect$"))
    expect(prompt).to_have_attribute("title", SHARED + "Fix the login redirect")
    # A prompt that shares nothing long with the others is shown whole.
    expect(
        rows.filter(has_text="summarise the repository").get_by_test_id("task-prompt")
    ).to_have_text("summarise the repository")

    provider = login.get_by_test_id("task-provider")
    expect(provider).to_have_text(re.compile(r"^cursor-agent/\w+$"))
    one_line = provider.evaluate(
        "el => el.getBoundingClientRect().height"
        " < 1.5 * parseFloat(getComputedStyle(el).lineHeight)"
    )
    assert one_line, "the provider is on one line"

    cost = login.get_by_test_id("task-cost")
    expect(cost).to_have_text(re.compile(r"^spent \$[\d.,]+ · API value \$[\d.,]+$"))
    title = cost.get_attribute("title") or ""
    assert "Spent:" in title and "API value:" in title, title

    expect(page.get_by_label("From", exact=True)).to_have_attribute("type", "date")
    expect(page.get_by_label("To", exact=True)).to_have_attribute("type", "date")
    today = datetime.now().strftime("%Y-%m-%d")  # noqa: DTZ005 - the browser's local day
    page.get_by_label("From", exact=True).fill(today)
    expect(page).to_have_url(re.compile(f"since={today}"))
    expect(login).to_be_visible()
    shoot(page, screenshots, "tasks-table-desktop")
    page.set_viewport_size(PHONE)
    expect(columns).to_be_hidden()
    no_sideways_scroll(page)
    shoot(page, screenshots, "tasks-table-phone")


# -- live -----------------------------------------------------------------------------------


def test_a_resync_message_refetches_what_the_page_shows(page: Any, server: Server) -> None:
    """The server tells a client that fell behind to ``resync``: the page refetches and shows
    what it missed. Here the socket is the test's, which sends only ``hello`` and ``resync``:
    the task run in between reaches the page through the refetch alone."""
    sockets: list[Any] = []

    def fake_server(ws: Any) -> None:
        sockets.append(ws)
        ws.send(json.dumps({"type": "hello", "lastEventId": 0}))

    page.route_web_socket(re.compile(r"/api/ws"), fake_server)
    page.goto("/tasks")
    expect(page.get_by_test_id("live-state").first).to_have_attribute("data-state", "open")
    expect(page.get_by_test_id("task-row").first).to_be_visible()
    run = server.ado("run", "--json", "missed while the client lagged")
    assert run.returncode == 0, run.stdout + run.stderr
    missed = page.get_by_test_id("task-row").filter(has_text="missed while the client lagged")
    expect(missed).to_have_count(0)  # no message told the page about it
    sockets[-1].send(json.dumps({"type": "resync", "afterId": 0}))
    expect(missed).to_be_visible()


def test_a_provider_switch_saved_here_is_marked_and_reset(page: Any, server: Server) -> None:
    needs_settings_origins(server)
    page.goto("/providers")
    card = page.get_by_test_id("provider-cursor-agent")
    free = card.locator('[data-testid="access-mode"][data-mode="free"]')
    toggle = free.get_by_test_id("mode-enabled")
    marker = card.get_by_test_id("switches-saved")
    expect(toggle).to_have_attribute("aria-checked", "true")
    expect(marker).to_have_count(0)
    try:
        toggle.click()
        expect(toggle).to_have_attribute("aria-checked", "false")
        expect(marker.get_by_test_id("file-switches")).to_have_text("free enabled on")
        assert server.provider("cursor-agent")["origins"]["accessModes.free.enabled"] == "saved"
        card.get_by_test_id("reset-switches").click()
        expect(marker).to_have_count(0)
        expect(toggle).to_have_attribute("aria-checked", "true")
        provider = server.provider("cursor-agent")
        assert _mode(provider, "free")["enabled"] is True
        assert provider["origins"]["accessModes.free.enabled"] != "saved"
    finally:
        with server.api() as client:
            client.delete("/api/settings/providers.cursor-agent")
