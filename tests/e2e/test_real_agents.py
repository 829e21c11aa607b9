"""``ado run`` driving the REAL agent CLIs against the project's scripted model server.

Each CLI completes a task that writes a file, with tokens (and cost where the agent reports
it) recorded; a 429 makes ADO stop the agent at once — not after its own back-off — store a
cooldown and fail the task over to the next provider; the next run skips the cooled-down one.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ado.testing.behaviours import RateLimit, WriteFile
from ado.testing.model_server import ScriptedModelServer
from tests.agent_harness import PROVIDERS, cursor_agent_provider
from tests.fixtures.ado import Project

pytestmark = pytest.mark.agents

#: Agents that report tokens (copilot in its session log, not on stdout).
REPORTS_TOKENS = {"claude-code", "codex", "gemini-cli", "opencode", "copilot"}
#: Agents that tell ADO when an API key bills them (claude's apiKeySource, codex's env_key):
#: the harness logs both in with a key, configured as a subscription.
API_KEY_BILLED = {"claude-code", "codex"}


def _summary(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return summary


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_real_agent_writes_a_file(project: Project, tmp_path: Path, provider: str) -> None:
    target = project.root / "hello.txt"
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), "hi"))
        # retries=True: the harness leaves the agent's own retry settings alone.
        project.write_config({provider: PROVIDERS[provider](server.url, tmp_path, retries=True)})
        proc = project.run(
            "run", "--json", f"Create the file {target} containing hi", timeout=240, check_code=0
        )
    assert target.read_text() == "hi"
    summary = _summary(proc.stdout)
    store = project.store()
    task = store.get_task(summary["taskId"])
    assert task is not None and task.status == "succeeded"
    (attempt,) = task.attempts
    assert attempt.provider == provider and attempt.outcome == "success"
    assert attempt.session_id, "the agent's own session id is recorded"
    kinds = {e.kind for e in store.list_events(task.id)}
    assert {"attempt_started", "tool_call", "attempt_finished", "task_finished"} <= kinds
    if provider in REPORTS_TOKENS:
        assert task.input_tokens > 0 and task.output_tokens > 0
        assert task.api_cost_usd > 0, "tokens priced from the bundled price table"
    billed = [
        e
        for e in store.list_events(task.id)
        if (e.data.get("data") or {}).get("warning") == "api_key_billing"
    ]
    if provider in API_KEY_BILLED:
        # The harness logs these in with an API key, and they say so: the spend is real.
        assert task.cost_usd > 0 and len(billed) == 1
    else:
        assert task.cost_usd == 0, "a subscription run spends nothing"
        assert billed == []


def test_claude_api_mode_records_the_agents_own_cost(project: Project, tmp_path: Path) -> None:
    target = project.root / "paid.txt"
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), "hi"))
        cfg = PROVIDERS["claude-code"](server.url, tmp_path, retries=True)
        key = cfg["env"].pop("ANTHROPIC_API_KEY")
        base = cfg["env"].pop("ANTHROPIC_BASE_URL")
        cfg["accessModes"] = [
            {"mode": "api", "priority": 1, "api": {"apiKey": key, "baseUrl": base}}
        ]
        project.write_config(
            {"claude-code": cfg}, routing={"apiFallback": {"enabled": True, "maxCostPerTask": 5}}
        )
        proc = project.run(
            "run",
            "--json",
            "-y",
            f"Create the file {target} containing hi",
            timeout=240,
            check_code=0,
        )
        assert server.model_requests, "the API key and base URL reached the agent"
    task = project.store().get_task(_summary(proc.stdout)["taskId"])
    assert task is not None and task.access_mode == "api"
    assert task.cost_usd > 0, "claude's own total_cost_usd is what the API mode spent"
    assert key not in json.dumps(task.options)


@pytest.mark.parametrize("provider", sorted(PROVIDERS))
def test_429_fails_over_within_seconds(project: Project, tmp_path: Path, provider: str) -> None:
    """The real agent gets a 429 and would retry for a long time on its own; ADO stops it."""
    target = project.root / "after-failover.txt"
    with ScriptedModelServer() as limited:
        limited.set_default(RateLimit(retry_after_s=30, message="Rate limit reached for requests"))
        first = PROVIDERS[provider](limited.url, tmp_path / "first", retries=True)
        first["accessModes"][0]["priority"] = 1
        fallback = cursor_agent_provider("", tmp_path, write=f"{target}:hi")
        fallback["accessModes"][0]["priority"] = 2
        project.write_config({provider: first, "cursor-agent": fallback})
        started = time.monotonic()
        proc = project.run("run", "--json", "write the file", timeout=240, check_code=0)
        elapsed = time.monotonic() - started
        model_calls = len(limited.model_requests)
    assert target.read_text() == "hi"
    # The agent's own back-off (retry-after 30 s, 5-10 retries) would take minutes.
    assert elapsed < 60, f"failover took {elapsed:.1f}s"
    assert model_calls <= 3, f"the agent kept retrying: {model_calls} model requests"
    store = project.store()
    task = store.get_task(_summary(proc.stdout)["taskId"])
    assert task is not None and task.status == "succeeded"
    assert [(a.provider, a.outcome) for a in task.attempts] == [
        (provider, "rate_limited"),
        ("cursor-agent", "success"),
    ]
    assert task.attempts[0].reset_at is not None
    cooldowns = store.cooldowns(datetime.now(UTC))
    assert [(c.provider, c.kind) for c in cooldowns] == [(provider, "rate_limited")]
    assert "failover" in {e.kind for e in store.list_events(task.id)}


def test_failover_between_real_agents_and_the_next_run_skips_the_cooled_down_one(
    project: Project, tmp_path: Path
) -> None:
    target = project.root / "codex.txt"
    with ScriptedModelServer() as limited, ScriptedModelServer() as working:
        limited.set_default(RateLimit(retry_after_s=600))
        working.set_default(WriteFile(str(target), "hi"))
        claude = PROVIDERS["claude-code"](limited.url, tmp_path / "c", retries=True)
        codex = PROVIDERS["codex"](working.url, tmp_path / "x", retries=True)
        codex["accessModes"][0]["priority"] = 2
        project.write_config({"claude-code": claude, "codex": codex})
        first = project.run(
            "run", "--json", f"Create the file {target} containing hi", timeout=240, check_code=0
        )
        assert target.read_text() == "hi"
        target.unlink()
        claude_calls = len(limited.model_requests)
        second = project.run(
            "run", "--json", f"Create the file {target} containing hi", timeout=240, check_code=0
        )
        assert len(limited.model_requests) == claude_calls, "claude was not tried again"
    store = project.store()
    one = store.get_task(_summary(first.stdout)["taskId"])
    two = store.get_task(_summary(second.stdout)["taskId"])
    assert one is not None and two is not None
    assert [a.provider for a in one.attempts] == ["claude-code", "codex"]
    assert [a.provider for a in two.attempts] == ["codex"]
    assert two.routing_reason and "claude-code" in two.routing_reason
    status = json.loads(project.run("status", "--json", check_code=0).stdout)
    claude_row = next(p for p in status["providers"] if p["id"] == "claude-code")
    assert claude_row["accessModes"][0]["cooldownUntil"] is not None


def test_running_api_task_is_stopped_when_its_cost_passes_the_limit(
    project: Project, tmp_path: Path
) -> None:
    """opencode reports dollars per step; the first step already costs more than allowed."""
    target = project.root / "expensive.txt"
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), "hi"))
        cfg = PROVIDERS["opencode"](server.url, tmp_path, retries=True)
        # A tiny configured price keeps the pre-run estimate under the limit...
        cfg["accessModes"] = [
            {
                "mode": "api",
                "priority": 1,
                "api": {"costPerMillion": {"input": 0.001, "output": 0.001}},
            }
        ]
        project.write_config(
            {"opencode": cfg},
            routing={"apiFallback": {"enabled": True, "maxCostPerTask": 0.0005}},
        )
        # ...while opencode's own figure for the first step (123 in, 45 out at $3/$15) is ~$0.001.
        proc = project.run(
            "run",
            "--json",
            "-y",
            f"Create the file {target} containing hi",
            timeout=240,
            check_code=4,
        )
    summary = _summary(proc.stdout)
    task = project.store().get_task(summary["taskId"])
    assert task is not None and task.status == "failed" and task.exit_code == 4
    assert task.attempts[0].outcome == "cost_limit"
    assert task.cost_usd > 0.0005
    assert any(
        "above the" in (e.data.get("text") or "")
        for e in project.store().list_events(task.id)
        if e.kind == "error"
    )
