"""``ado run``'s live view says when a usage window passes ``routing.quota.warnAt``: once per
window, in the words of the ``rate_limit.warning`` notification. The REAL claude CLI, logged
in the subscription way, against the scripted model server sending Anthropic's unified
rate-limit headers on every response (so the reading arrives more than once)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ado.testing.behaviours import Text
from ado.testing.model_server import ScriptedModelServer
from ado.testing.quota_headers import WindowHeader, anthropic_unified
from tests.agent_harness import FAKE_KEY, PROVIDERS
from tests.fixtures.ado import Project

pytestmark = pytest.mark.agents


def _live_output(project: Project, tmp_path: Path, used: float, warn_at: float) -> str:
    now = int(time.time())
    five = WindowHeader(used, now + 3600, 300, "allowed_warning", surpassed_threshold=0.75)
    with ScriptedModelServer(quota_headers=anthropic_unified(five_hour=five)) as server:
        server.set_default(Text("All done: I added a rate limiter."))
        cfg = PROVIDERS["claude-code"](server.url, tmp_path)
        cfg["env"].pop("ANTHROPIC_API_KEY")
        cfg["env"]["CLAUDE_CODE_OAUTH_TOKEN"] = FAKE_KEY  # windows come with a subscription
        project.write_config(
            {"claude-code": cfg}, routing={"quota": {"warnAt": warn_at, "stopAt": 0.99}}
        )
        done = project.run("run", "say hi", timeout=240, check_code=0)
    return done.stdout


def test_a_window_past_warn_at_is_told_once(project: Project, tmp_path: Path) -> None:
    out = _live_output(project, tmp_path, used=0.87, warn_at=0.8)
    assert out.count("claude-code 5-hour window at 87 %, resets") == 1, out
    assert "succeeded" in out  # a warning, not a failure: the answer's words change nothing


def test_a_window_below_warn_at_is_not_told(project: Project, tmp_path: Path) -> None:
    """Adversarial: the agent itself flags a warning (``allowed_warning``) at 87 %, but the
    user's threshold is 90 %: the live view keeps quiet."""
    out = _live_output(project, tmp_path, used=0.87, warn_at=0.9)
    assert "5-hour window" not in out, out
    assert "succeeded" in out
