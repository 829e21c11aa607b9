"""The scripted cursor-agent stand-in."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest


def fake_cursor(tmp_path: Path, scenario: str, *extra: str, **env: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [
            *(sys.executable, "-m", "ado.testing.fake_cursor_agent", "-p", "do it"),
            *("--output-format", "stream-json", "--force", *extra),
        ],
        cwd=tmp_path,
        env={**os.environ, "FAKE_CURSOR_SCENARIO": scenario, **env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def test_success_writes_the_file_and_reports_usage(tmp_path: Path) -> None:
    process = fake_cursor(
        tmp_path, "success", "--model", "gpt-5", FAKE_CURSOR_WRITE="out/hello.txt:hi"
    )
    stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    events = [json.loads(line) for line in stdout.splitlines()]
    assert [(e["type"], e.get("subtype")) for e in events] == [
        ("system", "init"),
        ("user", None),
        ("assistant", None),
        ("tool_call", "started"),
        ("tool_call", "completed"),
        ("assistant", None),
        ("result", "success"),
    ]
    assert events[0]["model"] == "gpt-5"
    assert {e["session_id"] for e in events} == {events[0]["session_id"]}
    write = events[4]["tool_call"]["writeToolCall"]
    assert write["result"]["success"]["linesCreated"] == 1
    assert events[-1]["result"] == "DONE: wrote hello.txt"
    assert events[-1]["usage"]["inputTokens"] == 123
    assert (tmp_path / "out" / "hello.txt").read_text() == "hi"


def test_resume_keeps_the_session_id(tmp_path: Path) -> None:
    process = fake_cursor(tmp_path, "success", "--resume", "chat-42")
    stdout, _ = process.communicate(timeout=30)
    assert json.loads(stdout.splitlines()[-1])["session_id"] == "chat-42"


@pytest.mark.parametrize(
    ("scenario", "code", "stderr"),
    [("rate_limit", 1, "hit your usage limit"), ("crash", 139, "crashed")],
)
def test_failures_exit_non_zero_without_result(
    tmp_path: Path, scenario: str, code: int, stderr: str
) -> None:
    process = fake_cursor(tmp_path, scenario)
    stdout, err = process.communicate(timeout=30)
    assert process.returncode == code
    assert stderr in err
    assert "result" not in {json.loads(line)["type"] for line in stdout.splitlines()}


def test_garbage_is_not_json(tmp_path: Path) -> None:
    process = fake_cursor(tmp_path, "garbage")
    stdout, _ = process.communicate(timeout=30)
    with pytest.raises(ValueError):
        json.loads(stdout.splitlines()[0])


def test_hang_prints_init_then_waits_until_killed(tmp_path: Path) -> None:
    process = fake_cursor(tmp_path, "hang")
    assert process.stdout is not None
    assert json.loads(process.stdout.readline())["subtype"] == "init"
    assert process.poll() is None
    process.kill()
    process.communicate(timeout=10)
    assert process.returncode == -9
