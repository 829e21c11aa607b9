"""The quota ledger from the REAL claude and codex CLIs, against the scripted model server
sending the usage-window headers the real APIs send (``ado.testing.quota_headers``).

- claude reports windows only when logged in the subscription way (an OAuth token; with an
  API key it prints no ``rate_limit_event``), and only the binding window
  (``-representative-claim``), with its utilization once a warning threshold is passed;
- codex prints nothing of them in ``exec --json``: ADO reads its session log at the end.
"""

from __future__ import annotations

import time
from datetime import datetime
from pathlib import Path

import pytest

from ado.testing.behaviours import WriteFile
from ado.testing.model_server import ScriptedModelServer
from ado.testing.quota_headers import WindowHeader, anthropic_unified, codex
from tests.agent_harness import FAKE_KEY, PROVIDERS
from tests.fixtures.ado import Project

pytestmark = pytest.mark.agents


def _windows(
    project: Project, provider: str, headers: dict[str, str], tmp_path: Path, subscription: bool
) -> dict[str, tuple[float | None, datetime | None, str]]:
    target = project.root / "quota.txt"
    with ScriptedModelServer(quota_headers=headers) as server:
        server.set_default(WriteFile(str(target), "hi"))
        cfg = PROVIDERS[provider](server.url, tmp_path)
        if subscription:  # claude: a subscription login (the only one that reports windows)
            cfg["env"].pop("ANTHROPIC_API_KEY")
            cfg["env"]["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_KEY
        project.write_config({provider: cfg})
        project.run("run", "--json", f"Create {target} containing hi", timeout=240, check_code=0)
    assert target.read_text() == "hi"
    rows = project.store().quota_windows(provider)
    return {r.kind: (r.used_ratio, r.resets_at, r.status) for r in rows}


def _close(reading: tuple[float | None, datetime | None, str], window: WindowHeader) -> None:
    used, resets_at, _ = reading
    assert used is not None and abs(used - window.used) <= 0.01
    assert resets_at is not None
    assert abs(resets_at.timestamp() - window.resets_at) <= 5


def test_claude_reports_its_binding_window(project: Project, tmp_path: Path) -> None:
    now = int(time.time())
    five = WindowHeader(0.87, now + 3600, 300, "allowed_warning", surpassed_threshold=0.75)
    week = WindowHeader(0.40, now + 3 * 86400, 10080)
    headers = anthropic_unified(five_hour=five, seven_day=week)
    windows = _windows(project, "claude-code", headers, tmp_path, subscription=True)
    assert set(windows) == {"five_hour"}, "claude reports the binding window only"
    _close(windows["five_hour"], five)
    assert windows["five_hour"][2] == "warning"


def test_claude_with_an_api_key_reports_no_window(project: Project, tmp_path: Path) -> None:
    now = int(time.time())
    five = WindowHeader(0.87, now + 3600, 300, "allowed_warning", surpassed_threshold=0.75)
    headers = anthropic_unified(five_hour=five)
    assert _windows(project, "claude-code", headers, tmp_path, subscription=False) == {}


def test_codex_reports_both_windows_through_its_session_log(
    project: Project, tmp_path: Path
) -> None:
    now = int(time.time())
    five = WindowHeader(0.87, now + 3600, 300)
    week = WindowHeader(0.40, now + 3 * 86400, 10080)
    windows = _windows(project, "codex", codex(five, week), tmp_path, subscription=False)
    assert set(windows) == {"five_hour", "weekly"}
    _close(windows["five_hour"], five)
    _close(windows["weekly"], week)
    assert {w[2] for w in windows.values()} == {"allowed"}
    # the reading is an event of the task too
    store = project.store()
    (task,) = store.list_tasks(limit=1)
    quota = [e.data["data"] for e in store.list_events(task.id) if e.kind == "quota"]
    assert sorted(q["window"] for q in quota) == ["five_hour", "weekly"]
