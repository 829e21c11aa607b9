"""A real ``ado serve`` over a project of scripted agents, and headless Chromium driving it.

One server for the whole module family (it takes a few seconds to start): its project runs
cursor-agent through ``agent.py`` here, a wrapper of the project's scripted cursor-agent that
picks its scenario from markers in the prompt, so one configuration can succeed, write a file,
crash or hang. Chromium is Debian's (``scripts/test`` installs it); without it these tests
fail, they are never skipped.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support import ServerProcess, ado_serve_argv, free_port, spawn_server, wait_for

CHROMIUM = Path(os.environ.get("ADO_TEST_CHROMIUM", "/usr/bin/chromium"))
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ROOT = Path(__file__).resolve().parents[2]
SCREENSHOTS = ROOT / "test-artifacts" / "screenshots"
AGENT = Path(__file__).with_name("agent.py")
DESKTOP = {"width": 1280, "height": 900}
PHONE = {"width": 375, "height": 812}


@dataclass
class Server:
    root: Path
    process: ServerProcess
    env: dict[str, str]

    @property
    def url(self) -> str:
        return self.process.url

    def api(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, timeout=10)

    def get(self, path: str, **params: Any) -> Any:
        with self.api() as client:
            response = client.get(path, params=params)
            response.raise_for_status()
            return response.json()

    def ado(self, *args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
        """Run the ``ado`` CLI against the same project (and store) as the server."""
        return subprocess.run(
            [sys.executable, "-m", "ado", *args],
            cwd=self.root,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=timeout,
            stdin=subprocess.DEVNULL,
        )

    def ado_popen(self, *args: str) -> subprocess.Popen[str]:
        return subprocess.Popen(
            [sys.executable, "-m", "ado", *args],
            cwd=self.root,
            env=self.env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            stdin=subprocess.DEVNULL,
        )

    def provider(self, provider_id: str) -> dict[str, Any]:
        return next(p for p in self.get("/api/providers") if p["id"] == provider_id)

    def task(self, task_id: int) -> dict[str, Any]:
        task: dict[str, Any] = self.get(f"/api/tasks/{task_id}")
        return task

    def wait_task(self, task_id: int, *statuses: str, timeout: float = 30) -> dict[str, Any]:
        def done() -> dict[str, Any] | None:
            task = self.task(task_id)
            return task if task["status"] in statuses else None

        return wait_for(done, timeout, what=f"task {task_id} to be {'/'.join(statuses)}")


def agent_provider(root: Path) -> dict[str, Any]:
    """cursor-agent on the scripted agent: a subscription mode (with limits) first, then a free
    mode, and an API mode that routing skips (API fallback is off)."""
    script = root / "bin" / "cursor-agent"
    script.parent.mkdir(parents=True, exist_ok=True)
    script.write_text(
        f"#!{sys.executable}\nimport runpy\nrunpy.run_path({str(AGENT)!r}, run_name='__main__')\n"
    )
    script.chmod(0o755)
    return {
        "enabled": True,
        "command": str(script),
        "timeout": 120,
        "accessModes": [
            {
                "mode": "subscription",
                "priority": 1,
                "subscription": {
                    "plan": "pro",
                    "rateLimits": {"requestsPerHour": 50, "tokensPerDay": 20000},
                },
            },
            {"mode": "free", "priority": 2},
            # API fallback is off: never routed to, it carries the seeded cooldown.
            {"mode": "api", "priority": 3},
        ],
        "capabilities": {"languages": ["python", "typescript"], "maxContextTokens": 200000},
    }


@pytest.fixture(scope="package")
def chromium_path() -> Path:
    if not (CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)):
        pytest.fail(
            f"Chromium is missing ({CHROMIUM}): run scripts/test, which installs Debian's "
            "chromium package (or `apt-get install -y chromium`).",
            pytrace=False,
        )
    return CHROMIUM


@pytest.fixture(scope="package")
def dashboard_built() -> None:
    from ado.dashboard import DIST, is_built

    if not is_built():
        pytest.fail(f"The dashboard is not built in {DIST}: run scripts/build_dashboard.")


@pytest.fixture(scope="package")
def server(tmp_path_factory: pytest.TempPathFactory, dashboard_built: None) -> Iterator[Server]:
    root = tmp_path_factory.mktemp("dashboard-project")
    home = tmp_path_factory.mktemp("dashboard-home")
    config = {
        "version": "1.1",
        "providers": {"cursor-agent": agent_provider(root)},
        "routing": {"failover": {"maxRetries": 1}},
    }
    (root / "ado.config.yaml").write_text(json.dumps(config, indent=2))
    env = project_env(home)
    # Stored data for the pages to show, recorded by the CLI before the server starts.
    seed = [
        "summarise the repository",
        "[write notes.md] write the release notes",
        "[crash] compile the kernel",
    ]
    for prompt in seed:
        subprocess.run(
            [sys.executable, "-m", "ado", "run", "--json", prompt],
            cwd=root,
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
            stdin=subprocess.DEVNULL,
        )
    from ado.store import Store

    store = Store(f"sqlite:///{root / '.ado' / 'state.db'}")
    try:
        store.set_cooldown(
            "cursor-agent",
            "api",
            until=datetime.now(UTC) + timedelta(hours=2, minutes=5),
            kind="rate_limit",
            reason="rate limited (HTTP 429)",
            reset_known=True,
        )
    finally:
        store.close()
    with serving(root, env) as server:
        yield server


def project_env(home: Path) -> dict[str, str]:
    """This environment without ADO's, pytest's or API keys, with ``home`` as the user's."""
    env = {
        k: v
        for k, v in os.environ.items()
        if not k.startswith(("ADO_", "PYTEST_")) and not k.endswith("_API_KEY")
    }
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), COLUMNS="200")
    env.pop("FAKE_CURSOR_SCENARIO", None)
    return env


@contextmanager
def serving(root: Path, env: dict[str, str]) -> Iterator[Server]:
    """``ado serve`` in the project ``root`` on a free port, stopped on the way out."""
    port = free_port()
    process = spawn_server(
        ado_serve_argv("--grace", "2", port=port),
        port=port,
        cwd=root,
        log=root / "serve.log",
        env=env,
        ready="/health/ready",
        timeout=30,
    )
    try:
        yield Server(root=root, process=process, env=env)
    finally:
        process.stop(timeout=15)


@contextmanager
def serving_own(
    tmp_path_factory: pytest.TempPathFactory, name: str, config: dict[str, Any]
) -> Iterator[Server]:
    """``ado serve`` over a project of its own with ``config``: for a module whose tests
    change what the server stores (override ``server`` with it, module-scoped)."""
    root = tmp_path_factory.mktemp(f"{name}-project")
    (root / "ado.config.yaml").write_text(json.dumps(config, indent=2))
    with serving(root, project_env(tmp_path_factory.mktemp(f"{name}-home"))) as server:
        yield server


@pytest.fixture
def server_store(server: Server) -> Iterator[Any]:
    """The store of ``server``'s project, opened by the test."""
    from ado.store import Store

    store = Store(f"sqlite:///{server.root / '.ado' / 'state.db'}")
    try:
        yield store
    finally:
        store.close()


@pytest.fixture(scope="package")
def browser(chromium_path: Path) -> Iterator[Any]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(chromium_path), headless=True, args=CHROMIUM_ARGS
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(browser: Any, server: Server) -> Iterator[Any]:
    """A fresh browser context (own storage) at desktop width, light theme."""
    context = browser.new_context(base_url=server.url, viewport=DESKTOP, color_scheme="light")
    context.set_default_timeout(10_000)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    try:
        yield page
    finally:
        context.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture(scope="package")
def screenshots() -> Path:
    if SCREENSHOTS.exists():
        shutil.rmtree(SCREENSHOTS)
    SCREENSHOTS.mkdir(parents=True)
    return SCREENSHOTS
