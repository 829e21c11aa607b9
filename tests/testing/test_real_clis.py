"""Each real agent CLI, run directly against the scripted model server.

Installed by the test setup script (``scripts/test``) into ``ADO_AGENT_CLI_DIR``; these
tests fail, never skip, when the CLIs are missing.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ado.testing import RateLimit, RecordedRequest, ScriptedModelServer, WriteFile
from tests import agent_harness

pytestmark = pytest.mark.agents

REAL_CLIS = sorted(agent_harness.PROVIDERS)


def run(
    provider: str, config: dict[str, Any], workdir: Path, prompt: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        agent_harness.direct_command(provider, config, prompt),
        cwd=workdir,
        env=agent_harness.agent_env(config),
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=timeout,
        start_new_session=True,
        check=False,
    )


def json_lines(stdout: str) -> list[dict[str, Any]]:
    events = []
    for line in stdout.splitlines():
        if line.startswith("{"):
            events.append(json.loads(line))
    return events


def reported_usage(provider: str, events: list[dict[str, Any]]) -> bool:
    """Whether the CLI's output reports the server's token usage (123 in / 45 out)."""
    if provider == "claude-code":
        result = next(e for e in events if e["type"] == "result")
        return bool(result["usage"]["input_tokens"] == 246 and result["total_cost_usd"] > 0)
    if provider == "codex":
        done = next(e for e in events if e["type"] == "turn.completed")
        return bool(done["usage"]["input_tokens"] == 246 and done["usage"]["output_tokens"] == 90)
    if provider == "gemini-cli":
        result = next(e for e in events if e["type"] == "result")
        stats = result["stats"]
        return bool(stats["input_tokens"] == 246 and stats["output_tokens"] == 90)
    if provider == "opencode":
        steps = [e["part"] for e in events if e["type"] == "step_finish"]
        return all(s["tokens"]["input"] == 123 for s in steps) and steps[-1]["cost"] > 0
    if provider == "copilot":  # no token counts: only API time and premium requests
        result = next(e for e in events if e["type"] == "result")
        return result["exitCode"] == 0 and "totalApiDurationMs" in result["usage"]
    raise KeyError(provider)


def test_agent_cli_dir_is_installed() -> None:
    missing = [p for p, path in agent_harness.agent_binaries().items() if not path.exists()]
    assert not missing, (
        f"agent CLIs missing in {agent_harness.agent_cli_dir()}: {missing}; "
        "run the test setup script (scripts/test) or set ADO_AGENT_CLI_DIR"
    )


@pytest.mark.parametrize("provider", REAL_CLIS)
def test_cli_writes_a_file_and_reports_usage(provider: str, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    target = workdir / "hello.txt"
    with ScriptedModelServer(default=WriteFile(str(target), "hi")) as server:
        config = agent_harness.PROVIDERS[provider](server.url, tmp_path)
        done = run(provider, config, workdir, f"Create the file {target} containing hi")
        assert done.returncode == 0, done.stderr[-2000:]
        assert target.read_text() == "hi"
        assert "DONE: wrote hello.txt" in done.stdout
        assert reported_usage(provider, json_lines(done.stdout)), done.stdout[-2000:]
        answered = [r.answered_by for r in server.model_requests]
        assert answered.count("WriteFile") == 1 and answered.count("follow_up") == 1
        assert server.unknown_requests() == []


#: model requests seen on a 429 once the CLI's own retries are cut (opencode and copilot
#: have no knob: ADO stops them on their first retry signal, see agent_harness)
EXPECTED_429_REQUESTS = {"claude-code": 1, "codex": 1, "gemini-cli": 1}


@pytest.mark.parametrize("provider", sorted(EXPECTED_429_REQUESTS))
def test_cli_fails_fast_on_429_without_retrying(provider: str, tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    with ScriptedModelServer(default=RateLimit(retry_after_s=1)) as server:
        config = agent_harness.PROVIDERS[provider](server.url, tmp_path)
        started = time.monotonic()
        done = run(provider, config, workdir, "Create hello.txt", timeout=60)
        elapsed = time.monotonic() - started
        assert done.returncode != 0
        assert elapsed < 15, f"{provider} took {elapsed:.1f}s: it retried"
        assert len(server.model_requests) == EXPECTED_429_REQUESTS[provider]
        assert {r.status for r in server.model_requests} == {429}


def _stop_on_first_line(
    provider: str,
    config: dict[str, Any],
    workdir: Path,
    server: ScriptedModelServer,
    stream: str,
    marker: str,
) -> tuple[str, list[RecordedRequest]]:
    """Run until ``marker`` shows on ``stream``, then kill the whole process group.

    Returns that line and the model requests the server had seen at that moment.
    """
    process = subprocess.Popen(
        agent_harness.direct_command(provider, config, "Create hello.txt"),
        cwd=workdir,
        env=agent_harness.agent_env(config),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE if stream == "stdout" else subprocess.DEVNULL,
        stderr=subprocess.PIPE if stream == "stderr" else subprocess.DEVNULL,
        text=True,
        start_new_session=True,
    )
    try:
        pipe = process.stdout if stream == "stdout" else process.stderr
        assert pipe is not None
        for line in pipe:
            if marker in line:
                return line, server.model_requests
        pytest.fail(f"{provider} ended without printing {marker!r}")
    finally:
        # the npm launchers run the agent in a child process: kill the group, not the pid
        os.killpg(process.pid, signal.SIGKILL)
        process.communicate(timeout=10)


def test_opencode_logs_each_failed_attempt_on_stderr(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    with ScriptedModelServer(default=RateLimit(retry_after_s=1)) as server:
        config = agent_harness.opencode_provider(server.url, tmp_path)
        config["args"] = ["--print-logs", "--log-level", "WARN"]
        line, seen = _stop_on_first_line(
            "opencode", config, workdir, server, "stderr", 'message="stream error"'
        )
        assert "level=ERROR" in line and "Rate limit reached" in line
        # the line comes with the first failure, before the task's first retry (a title
        # request without tools runs alongside and retries on its own)
        assert len([r for r in seen if r.body.get("tools")]) == 1


def test_copilot_reports_the_first_429_before_retrying(tmp_path: Path) -> None:
    workdir = tmp_path / "work"
    workdir.mkdir()
    with ScriptedModelServer(default=RateLimit(retry_after_s=1)) as server:
        config = agent_harness.copilot_provider(server.url, tmp_path)
        line, seen = _stop_on_first_line(
            "copilot", config, workdir, server, "stdout", "model.call_failure"
        )
        event = json.loads(line)
        assert event["data"]["statusCode"] == 429 and event["data"]["retryAttempt"] == 0
        assert len(seen) == 1
