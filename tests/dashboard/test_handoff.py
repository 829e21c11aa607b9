"""The task page shows what a failed-over attempt was told (its ``handoff`` event): one line
under the attempt, the whole prompt unfolded on a click."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from playwright.sync_api import expect

from ado.orchestrator.handoff import Handoff
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.store import Store
from tests.dashboard.conftest import Server


def _failed_over_task(server: Server, prompt: str, handoff: Handoff) -> int:
    """A task as the runner records a failover with a handoff (no cooldown left behind)."""
    store = Store(f"sqlite:///{server.root / '.ado' / 'state.db'}")
    try:
        task_id = store.create_task(
            prompt=prompt, cwd=str(server.root), hitl_policy="autonomous", options={}
        )
        for number, outcome in ((1, "rate_limited"), (2, "success")):
            mode = "subscription" if number == 1 else "free"
            attempt = store.start_attempt(
                task_id,
                number=number,
                provider="cursor-agent",
                access_mode=mode,
                model=None,
                reason="scripted",
            )
            started = {"number": number, "provider": "cursor-agent", "access_mode": mode}
            events = [AgentEvent(EventKind.ATTEMPT_STARTED, data=started)]
            if number == 2:
                events.append(handoff.event())
            store.add_events(task_id, attempt, events)
            store.finish_attempt(
                attempt, outcome=outcome, message="", exit_code=0, session_id=None,
                reset_at=None, usage=Usage(), cost_usd=0.0, api_cost_usd=0.0,
                files=[str(server.root / "half-done.txt")] if number == 1 else [],
            )  # fmt: skip
        store.finish_task(task_id, status="succeeded", error=None, result_text="ok", exit_code=0)
    finally:
        store.close()
    return task_id


def test_the_handoff_an_attempt_was_given_is_shown_under_it(
    page: Any, server: Server, screenshots: Path
) -> None:
    prompt = "[ADO handoff] Another agent started this task…\n\n## The task\nship the export"
    handoff = Handoff(
        prompt=prompt + "\n<script>alert(1)</script>",  # agent text, shown as text
        attempts=(1,),
        files=(str(server.root / "half-done.txt"),),
        truncated=False,
    )
    task_id = _failed_over_task(server, "ship the export (handoff view)", handoff)
    page.goto(f"/tasks/{task_id}")
    row = page.locator('[data-testid="event"][data-kind="handoff"]')
    expect(row).to_have_count(1)
    expect(row).to_contain_text("told what attempt 1 did")
    expect(row).to_contain_text("half-done.txt")
    shown = row.get_by_test_id("handoff-prompt")
    expect(shown).to_be_hidden()
    row.locator("summary").click()
    expect(shown).to_be_visible()
    expect(shown).to_have_text(handoff.prompt)
    page.wait_for_load_state("networkidle")
    page.screenshot(path=str(screenshots / "task-detail-handoff.png"), full_page=True)
