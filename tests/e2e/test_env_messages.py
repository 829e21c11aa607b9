"""The messages of issue "Environments and first-run messages" with the REAL agent CLIs
against the scripted model server: codex's ``env_key`` (login, a variable ADO has but did not
pass, ``passEnv``), API-key billing on a subscription (claude's ``apiKeySource``), and a
cooldown whose reason is codex's own 429 line, listed and cleared."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from ado.testing.behaviours import RateLimit, WriteFile
from ado.testing.model_server import ScriptedModelServer
from tests.agent_harness import FAKE_KEY, PROVIDERS
from tests.fixtures.ado import Project

pytestmark = pytest.mark.agents


def _summary(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return summary


def test_codex_env_key_set_in_ado_but_not_passed(project: Project, tmp_path: Path) -> None:
    target = project.root / "codex.txt"
    ado_env = {"FAKE_OPENAI_API_KEY": FAKE_KEY}  # what codex's config.toml names as env_key
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), "hi"))
        cfg = PROVIDERS["codex"](server.url, tmp_path, retries=False)
        del cfg["env"]["FAKE_OPENAI_API_KEY"]
        project.write_config({"codex": cfg})
        line = "providers.codex:  passEnv: [FAKE_OPENAI_API_KEY]"

        checked = project.run("providers", "check", "codex", env=ado_env, check_code=1)
        assert "not logged in" in checked.stdout
        assert "FAKE_OPENAI_API_KEY is set in ADO's environment" in checked.stdout
        assert line in checked.stdout

        failed = project.run("run", "--json", "write it", env=ado_env, timeout=240, check_code=1)
        error = _summary(failed.stdout)["error"]
        assert "Missing environment variable: `FAKE_OPENAI_API_KEY`" in error
        assert (
            f"FAKE_OPENAI_API_KEY is set in ADO's environment, but agents get a minimal one; "
            f"add to ado.config.yaml under {line}" in error
        )
        assert FAKE_KEY not in failed.stdout + failed.stderr
        assert server.model_requests == [], "codex stopped before calling the model"

        cfg["passEnv"] = ["FAKE_OPENAI_API_KEY"]  # the line it said to add
        project.write_config({"codex": cfg})
        checked = project.run("providers", "check", "codex", env=ado_env, check_code=0)
        assert "logged in" in checked.stdout and "not logged in" not in checked.stdout
        assert "passEnv FAKE_OPENAI_API_KEY: passes FAKE_OPENAI_API_KEY" in checked.stdout
        done = project.run(
            "run",
            f"Create the file {target} containing hi",
            env=ado_env,
            timeout=240,
            check_code=0,
        )
    assert target.read_text() == "hi"
    # codex's own model provider bills by its key: a subscription's spend is real here.
    assert "is billed through an API key (env_key FAKE_OPENAI_API_KEY" in done.stdout
    task = project.store().list_tasks()[0]
    assert task.status == "succeeded" and task.cost_usd == task.api_cost_usd > 0


def test_claude_billed_by_an_api_key_on_a_subscription(project: Project, tmp_path: Path) -> None:
    target = project.root / "claude.txt"
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), "hi"))
        keyed = PROVIDERS["claude-code"](server.url, tmp_path / "k", retries=False)
        project.write_config({"claude-code": keyed})
        first = project.run(
            "run", f"Create the file {target} containing hi", timeout=240, check_code=0
        )
        warning = (
            "claude-code/subscription is billed through an API key (apiKeySource: "
            "ANTHROPIC_API_KEY), not the subscription: its spend"
        )
        assert first.stdout.count(warning) == 1
        assert "counts as real API spend" in first.stdout
        store = project.store()
        (task,) = store.list_tasks()
        assert task.cost_usd > 0, "claude's own figure, counted as spent"
        today = json.loads(project.run("report", "--format", "json", check_code=0).stdout)
        assert today["totalCostUsd"] == pytest.approx(task.cost_usd, abs=1e-6)

        # Logged in the subscription way (an OAuth token): apiKeySource is "none".
        oauth = PROVIDERS["claude-code"](server.url, tmp_path / "o", retries=False)
        del oauth["env"]["ANTHROPIC_API_KEY"]
        oauth["env"]["CLAUDE_CODE_OAUTH_TOKEN"] = "oauth-test-token"
        project.write_config({"claude-code": oauth})
        second = project.run(
            "run", "--json", f"Create the file {target} containing hi", timeout=240, check_code=0
        )
    assert "billed through an API key" not in second.stdout
    oauth_task = store.get_task(_summary(second.stdout)["taskId"])
    assert oauth_task is not None and oauth_task.cost_usd == 0 and oauth_task.api_cost_usd > 0


def test_codex_429_is_the_cooldown_reason_then_cleared(project: Project, tmp_path: Path) -> None:
    with ScriptedModelServer() as limited:
        limited.set_default(RateLimit(retry_after_s=600))
        project.write_config({"codex": PROVIDERS["codex"](limited.url, tmp_path, retries=False)})
        project.run("run", "--json", "write it", timeout=240, check_code=3)
    store = project.store()
    (cooldown,) = store.cooldowns(datetime.now(UTC))
    assert cooldown.provider == "codex"
    assert cooldown.reason is not None
    assert cooldown.reason.startswith("exceeded retry limit, last status: 429 Too Many Requests")
    assert "WARNING" not in cooldown.reason and "stdin" not in cooldown.reason
    listed = json.loads(project.run("providers", "cooldowns", "--json", check_code=0).stdout)
    assert [(c["provider"], c["reason"]) for c in listed] == [("codex", cooldown.reason)]
    project.run("providers", "clear-cooldown", "codex", check_code=0)
    assert store.cooldowns(datetime.now(UTC)) == []
