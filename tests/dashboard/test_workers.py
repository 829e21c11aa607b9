"""The Workers page against a real ``ado serve`` of its own, in headless Chromium: its own
pool's card, a second pool (an ``ado worker`` elsewhere, registered in the shared store)
with the task it runs, and that pool lost — its card leaves, its task is interrupted."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import expect

from ado.store import Store
from tests.dashboard.conftest import DESKTOP, PHONE, Server, serving_own

#: A host name with markup in it: shown as text, never as HTML.
HOSTILE = '<img src=x onerror="window.__pwned=1">box'
CONFIG = {
    "version": "1.1",
    "providers": {},
    # Pools beat every second; one silent for 3 s is lost.
    "orchestration": {"workerTimeout": 3},
}


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, dashboard_built: None) -> Iterator[Server]:
    """Overrides the package's server: a project of its own, whose registry this changes."""
    with serving_own(tmp_path_factory, "workers", CONFIG) as server:
        yield server


def test_the_workers_page_shows_each_pool_live(
    page: Any, server: Server, server_store: Store
) -> None:
    page.goto("/")
    page.get_by_role("link", name="Workers").first.click()
    expect(page).to_have_url(f"{server.url}/workers")
    cards = page.get_by_test_id("worker")
    expect(cards).to_have_count(1)
    mine = cards.first
    expect(mine.get_by_test_id("worker-host")).to_contain_text(f":{server.process.pid}")
    expect(mine.get_by_test_id("worker-kind")).to_have_text("ado serve")
    expect(mine.get_by_test_id("worker-running")).to_have_text("0/4")
    expect(mine.get_by_test_id("worker-queues")).to_have_text("all")
    expect(mine.get_by_test_id("heartbeat")).to_contain_text("ago")

    # Another pool on the same store (an `ado worker` on another host) running a task.
    task_id = server_store.create_task(
        prompt="build it", cwd=str(server.root), hitl_policy="autonomous", options={}
    )
    server_store.update_task(task_id, owner_host=HOSTILE, owner_pid=4242)
    server_store.register_worker(
        hostname=HOSTILE,
        pid=4242,
        kind="worker",
        concurrency=2,
        queues=("fast", "gpu"),
        on_lost="interrupt",
        timeout=600,
        name="celery@box",
    )
    expect(cards).to_have_count(2)  # refetched on its own (every 5 s)
    other = cards.filter(has_text="celery@box")
    expect(other.get_by_test_id("worker-host")).to_have_text(f"{HOSTILE}:4242")
    expect(other.get_by_test_id("worker-kind")).to_have_text("ado worker")
    expect(other.get_by_test_id("worker-queues")).to_have_text("fast, gpu")
    expect(other.get_by_test_id("worker-running")).to_have_text(f"1/2#{task_id}")
    assert page.evaluate("window.__pwned") is None
    page.set_viewport_size(PHONE)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= PHONE["width"], f"no horizontal scrolling at phone width ({width}px)"
    page.set_viewport_size(DESKTOP)
    other.get_by_role("link", name=f"#{task_id}").click()
    expect(page).to_have_url(f"{server.url}/tasks/{task_id}")

    # It stops beating: the server's pool takes it as lost, the page drops its card.
    server_store.beat(HOSTILE, 4242, concurrency=2, tasks_done=0, timeout=-1)
    page.go_back()
    expect(cards).to_have_count(1, timeout=20_000)
    expect(cards.first.get_by_test_id("worker-kind")).to_have_text("ado serve")
    assert server.task(task_id)["status"] == "interrupted"
