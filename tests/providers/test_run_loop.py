"""``AgentRun`` against a scripted agent executable, in real subprocesses."""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

from ado.providers.base import RunRequest
from ado.providers.claude_code import ClaudeCode
from ado.providers.events import AgentEvent, EventKind
from ado.providers.gemini_cli import GeminiCli
from ado.providers.run import AgentRun
from ado.vocab import OutcomeKind
from tests.support import process_gone, wait_for_async

from .helpers import SAMPLES, of_kind

FAKE_AGENT = Path(__file__).with_name("fake_agent.py")
INIT = json.dumps({"type": "system", "subtype": "init", "session_id": "S1", "model": "m"})
RESULT = json.dumps({"type": "result", "is_error": False, "result": "all done", "num_turns": 1})
RETRY_429 = json.dumps(
    {"type": "system", "subtype": "api_retry", "attempt": 1, "error_status": 429}
)


class ScriptedClaude(ClaudeCode):
    """Claude's parser, the scripted agent's command."""

    def build_args(self, request: RunRequest) -> list[str]:
        return [str(FAKE_AGENT)]


class ScriptedGemini(GeminiCli):
    def build_args(self, request: RunRequest) -> list[str]:
        return [str(FAKE_AGENT)]


def scripted_run(
    steps: list[Any], tmp_path: Path, *, timeout: float | None = 60.0, adapter: Any = None
) -> AgentRun:
    request = RunRequest(
        prompt="p",
        cwd=str(tmp_path),
        command=sys.executable,
        extra_args=[json.dumps(steps)],
        timeout=timeout,
    )
    return AgentRun(adapter or ScriptedClaude(), request)


async def collect(run: AgentRun) -> list[AgentEvent]:
    return [event async for event in run]


async def test_success(tmp_path: Path) -> None:
    run = scripted_run([["out", INIT], ["text", 10], ["out", RESULT]], tmp_path)
    events = await collect(run)
    assert [e.kind for e in events] == [
        EventKind.SESSION_STARTED,
        EventKind.TEXT,
        EventKind.USAGE,
        EventKind.RESULT,
    ]
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.SUCCESS
    assert run.summary.session_id == "S1" and run.summary.exit_code == 0


async def test_huge_and_garbage_lines_do_not_break_parsing(tmp_path: Path) -> None:
    steps = [
        ["out", INIT],
        ["garbage"],
        ["text", 5_000_000],  # a 5 MB line: kept whole
        ["garbage"],
        ["text", 9 * 1024 * 1024],  # longer than any line is kept: dropped, noted
        ["text", 3],
        ["out", RESULT],
    ]
    run = scripted_run(steps, tmp_path)
    events = await collect(run)
    texts = of_kind(events, EventKind.TEXT)
    assert [len(e.text or "") for e in texts] == [5_000_000, 3]
    assert any(e.kind is EventKind.LOG and "over-long" in (e.text or "") for e in events)
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.SUCCESS
    assert run.summary.final_text == "all done"


async def test_flood(tmp_path: Path) -> None:
    run = scripted_run([["out", INIT], ["flood", 20_000], ["out", RESULT]], tmp_path)
    events = await collect(run)
    assert len(of_kind(events, EventKind.TEXT)) == 20_000
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.SUCCESS


async def test_crash_keeps_the_stderr_tail(tmp_path: Path) -> None:
    steps = [["out", INIT], ["err", "Traceback (most recent call last):"],
             ["err", "RuntimeError: boom"], ["exit", 3]]  # fmt: skip
    run = scripted_run(steps, tmp_path)
    await collect(run)
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.CRASHED
    assert run.outcome.exit_code == 3
    assert "RuntimeError: boom" in run.summary.stderr_tail
    assert run.outcome.message == "RuntimeError: boom"  # the error, not the first line


async def test_hang_times_out_and_the_process_group_dies(tmp_path: Path) -> None:
    pid_file = tmp_path / "grandchild.pid"
    steps = [["grandchild", str(pid_file)], ["out", INIT], ["sleep", 600]]
    run = scripted_run(steps, tmp_path, timeout=2.0)
    started = time.monotonic()
    await collect(run)
    assert time.monotonic() - started < 15
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.TIMED_OUT
    assert run.summary.timed_out
    grandchild = int(pid_file.read_text())
    await wait_for_async(lambda: process_gone(grandchild), 10, what="the grandchild to go")
    assert run.process is not None and run.process.pid is not None
    pid = run.process.pid
    await wait_for_async(lambda: process_gone(pid), 10, what="the agent to go")


async def test_stop_cancels(tmp_path: Path) -> None:
    run = scripted_run([["out", INIT], ["sleep", 600]], tmp_path)
    seen: list[AgentEvent] = []
    async for event in run:
        seen.append(event)
        if event.kind is EventKind.SESSION_STARTED:
            run.stop()
    assert [e.kind for e in seen] == [EventKind.SESSION_STARTED]
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.CANCELLED


async def test_missing_executable(tmp_path: Path) -> None:
    for command in ("/nonexistent/bin/claude", "ado-no-such-agent-cli"):
        request = RunRequest(prompt="p", cwd=str(tmp_path), command=command)
        run = ClaudeCode().run(request)
        assert await collect(run) == []
        assert run.outcome is not None and run.outcome.kind is OutcomeKind.NOT_INSTALLED


async def test_a_retrying_rate_limit_stops_the_agent_at_once(tmp_path: Path) -> None:
    steps = [["out", INIT], ["out", RETRY_429], ["sleep", 600]]
    run = scripted_run(steps, tmp_path, timeout=120)
    started = time.monotonic()
    events = await collect(run)
    assert time.monotonic() - started < 15
    assert events[-1].kind is EventKind.RATE_LIMIT and events[-1].retrying
    assert run.summary.stopped_for_rate_limit
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.RATE_LIMITED
    assert run.process is not None and run.process.pid is not None
    pid = run.process.pid
    await wait_for_async(lambda: process_gone(pid), 10, what="the agent to go")


async def test_gemini_retry_on_stderr_stops_the_agent(tmp_path: Path) -> None:
    steps = [
        ["file", str(SAMPLES / "gemini.ratelimit.default.jsonl")],
        ["err_file", str(SAMPLES / "gemini.ratelimit.default.stderr")],
        ["sleep", 600],
    ]
    run = scripted_run(steps, tmp_path, timeout=120, adapter=ScriptedGemini())
    events = await collect(run)
    assert events[-1].kind is EventKind.RATE_LIMIT and events[-1].retrying
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.RATE_LIMITED
