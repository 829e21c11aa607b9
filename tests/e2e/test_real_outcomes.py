"""How a run ended, with each REAL agent CLI under ``ado run`` (issue 11, "First").

For every rule the stored outcome, its exact reason and the exit code are checked:
a success whose answer, written file and stderr all mention limits is a success (no
cooldown, exit 0); an HTTP 500 is a server error; an agent killed half-way is "killed by
signal 9 (SIGKILL)"; one that outlives its timeout is "timed out after N s" with the
signal ADO stopped it with.
"""

from __future__ import annotations

import json
import os
import signal
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest

from ado.store.views import AttemptView
from ado.testing.behaviours import Hang, ServerError, WriteFile
from ado.testing.model_server import ScriptedModelServer
from tests.agent_harness import PROVIDERS
from tests.fixtures.ado import Project
from tests.support import wait_for

pytestmark = pytest.mark.agents

REAL = sorted(PROVIDERS)
ANSWER = "I added a rate limiter: over quota it answers 429 Too Many Requests (usage limit)"
FILE_TEXT = "rate limit reached: 429 quota exceeded, resets 2pm; 503 overloaded"
STDERR_LINE = "warning: rate limit 429, quota exceeded, server overloaded (just a log line)"


def _summary(stdout: str) -> dict[str, Any]:
    return dict(json.loads(stdout.strip().splitlines()[-1]))


def _only_attempt(project: Project, stdout: str) -> AttemptView:
    task = project.store().get_task(_summary(stdout)["taskId"])
    assert task is not None
    (attempt,) = task.attempts
    return attempt


def _noisy(config: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    """The agent behind a wrapper that prints a line about limits on stderr first."""
    wrapper = tmp_path / "noisy-agent"
    wrapper.write_text(
        f"#!/bin/sh\necho {json.dumps(STDERR_LINE)} >&2\nexec {json.dumps(config['command'])} "
        '"$@"\n'
    )
    wrapper.chmod(0o755)
    return {**config, "command": str(wrapper)}


@pytest.mark.parametrize("provider", REAL)
def test_success_mentioning_limits_is_a_success(
    project: Project, tmp_path: Path, provider: str
) -> None:
    target = project.root / "limits.txt"
    with ScriptedModelServer() as server:
        server.set_default(WriteFile(str(target), FILE_TEXT, done_text=ANSWER))
        config = _noisy(PROVIDERS[provider](server.url, tmp_path, retries=True), tmp_path)
        project.write_config({provider: config})
        proc = project.run("run", "--json", "add a rate limiter", timeout=240, check_code=0)
    assert target.read_text() == FILE_TEXT
    attempt = _only_attempt(project, proc.stdout)
    assert (attempt.outcome, attempt.exit_code, attempt.reset_at) == ("success", 0, None)
    assert attempt.outcome_message == ANSWER
    assert project.store().cooldowns(datetime.now(UTC)) == []


def _server_error_message(provider: str, url: str) -> str:
    """What each real CLI says about an HTTP 500 from the scripted model server."""
    return {
        "claude-code": (
            "API Error: 500 FAKE: Internal server error. This is a server-side issue, usually "
            "temporary — try again in a moment. If it persists, check your inference gateway "
            f"({urlsplit(url).netloc})."
        ),
        "codex": "We\N{RIGHT SINGLE QUOTATION MARK}re currently experiencing high demand, "
        "which may cause temporary errors.",
        "gemini-cli": '[API Error: {"error":{"code":500,"message":"FAKE: An internal error has '
        'occurred.","status":"INTERNAL"}}]',
        # opencode backs off for minutes: ADO stops it at its first failed call's log line
        "opencode": "AI_APICallError: FAKE: The server had an error processing your request.",
        # its first failed call's message (model.call_failure, status 500)
        "copilot": "FAKE: The server had an error processing your request.",
    }[provider]


@pytest.mark.parametrize("provider", REAL)
def test_http_500_is_a_server_error(project: Project, tmp_path: Path, provider: str) -> None:
    with ScriptedModelServer() as server:
        server.set_default(ServerError(500))
        config = PROVIDERS[provider](server.url, tmp_path)
        project.write_config({provider: config})
        proc = project.run("run", "--json", "do it", timeout=240)
        expected = _server_error_message(provider, server.url)
    assert proc.returncode != 0, proc.stdout
    attempt = _only_attempt(project, proc.stdout)
    assert attempt.outcome == "server_error", attempt.outcome_message
    assert attempt.outcome_message == expected
    assert attempt.exit_code != 0
    assert project.store().cooldowns(datetime.now(UTC)) == []


@pytest.mark.parametrize("provider", REAL)
def test_killed_agent_is_killed_by_signal_9(
    project: Project, tmp_path: Path, provider: str
) -> None:
    with ScriptedModelServer() as server:
        server.set_default(Hang())
        project.write_config({provider: PROVIDERS[provider](server.url, tmp_path)})
        run = project.popen("run", "--json", "do it")
        try:
            wait_for(lambda: server.model_requests, timeout=120, what="the agent's model call")
            store = project.store()
            pid = wait_for(
                lambda: next(
                    (a.agent_pid for t in store.list_tasks() for a in _attempts(store, t.id)),
                    None,
                ),
                what="the agent's pid",
            )
            os.killpg(pid, signal.SIGKILL)  # the OOM killer, a `kill -9`...
            stdout, _ = run.communicate(timeout=120)
        finally:
            if run.poll() is None:
                run.kill()
                run.communicate()
    attempt = _only_attempt(project, stdout)
    assert attempt.outcome == "crashed"
    assert attempt.outcome_message == "killed by signal 9 (SIGKILL)"
    assert attempt.exit_code == -9


def _attempts(store: Any, task_id: int) -> list[AttemptView]:
    task = store.get_task(task_id)
    return [a for a in task.attempts if a.agent_pid] if task else []


@pytest.mark.parametrize("provider", REAL)
def test_timeout_stores_the_deadline_and_the_signal(
    project: Project, tmp_path: Path, provider: str
) -> None:
    with ScriptedModelServer() as server:
        server.set_default(Hang())
        config = PROVIDERS[provider](server.url, tmp_path) | {"timeout": 20}
        project.write_config({provider: config})
        proc = project.run("run", "--json", "do it", timeout=240)
    attempt = _only_attempt(project, proc.stdout)
    assert attempt.outcome == "timed_out"
    assert attempt.outcome_message == "timed out after 20 s"
    # the signal ADO stopped it with (SIGINT, SIGTERM if it ignored that), never 0
    assert attempt.exit_code in (-signal.SIGINT, -signal.SIGTERM, -signal.SIGKILL)
