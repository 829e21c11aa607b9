from datetime import UTC, datetime
from pathlib import Path

import pytest

from ado.providers.base import ParseState, Permission, RunRequest
from ado.providers.classify import RunSummary
from ado.providers.cursor_agent import CursorAgent
from ado.providers.events import EventKind
from ado.vocab import OutcomeKind

from .helpers import kinds, of_kind, replay


def test_documented_stream() -> None:
    events, summary, outcome = replay(CursorAgent(), "cursor.success.jsonl")
    assert kinds(events) == [
        EventKind.SESSION_STARTED,
        EventKind.TEXT,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TEXT,
        EventKind.RESULT,
    ]
    assert summary.session_id == "c6b62c6f-7ead-4fd6-9922-e952131177ff"
    read, write, edit = of_kind(events, EventKind.TOOL_CALL)
    assert (read.tool_name, read.files) == ("read", None)
    assert (write.tool_name, write.files) == ("write", ["summary.txt"])
    assert edit.files == ["/home/dev/repo/README.md"]
    results = of_kind(events, EventKind.TOOL_RESULT)
    assert [r.is_error for r in results] == [False, False, True]
    assert results[1].tool_id == write.tool_id
    assert summary.files == ["summary.txt", "/home/dev/repo/README.md"]
    assert events[-1].data["duration_ms"] == 5234
    assert outcome.kind is OutcomeKind.SUCCESS


def test_usage_when_reported() -> None:
    line = {
        "type": "result",
        "subtype": "success",
        "is_error": False,
        "result": "ok",
        "usage": {"inputTokens": 10, "outputTokens": 5, "cacheReadTokens": 100},
    }
    usage_event, result = CursorAgent().parse_line(line, ParseState())
    assert usage_event.usage is not None
    assert (usage_event.usage.input_tokens, usage_event.usage.cache_read_tokens) == (10, 100)
    assert result.kind is EventKind.RESULT and result.is_error is False


def test_function_tool_call() -> None:
    line = {
        "type": "tool_call",
        "subtype": "started",
        "call_id": "c1",
        "tool_call": {"function": {"name": "grep", "arguments": '{"pattern": "x"}'}},
    }
    (call,) = CursorAgent().parse_line(line, ParseState())
    assert call.tool_name == "grep" and call.tool_input == {"pattern": "x"}


def test_monthly_usage_limit_on_stderr_is_quota() -> None:
    summary = RunSummary(
        exit_code=1,
        stderr_tail="You've hit your usage limit. It will reset when your monthly cycle ends"
        " on 11/17/2025.",
    )
    outcome = CursorAgent().classify(summary)
    assert outcome.kind is OutcomeKind.QUOTA_EXHAUSTED
    assert outcome.reset_at is not None
    assert outcome.reset_at.date() == datetime(2025, 11, 17, tzinfo=UTC).date()


def test_a_stream_without_result_is_a_crash() -> None:
    _, _, outcome = replay(CursorAgent(), "", lines=[], exit_code=0)
    assert outcome.kind is OutcomeKind.CRASHED
    summary = RunSummary(exit_code=0, stderr_tail="Error: segmentation fault")
    assert CursorAgent().classify(summary).message == "Error: segmentation fault"


@pytest.mark.parametrize(
    ("permission", "extra"),
    [
        (Permission.BYPASS, ["--force"]),
        (Permission.AUTO, ["--force"]),
        (Permission.EDITS, ["--force"]),
        (Permission.READ_ONLY, []),
    ],
)
def test_permission_flags(permission: Permission, extra: list[str]) -> None:
    request = RunRequest(prompt="p", cwd=".", permission=permission, resume_session_id="chat")
    args = CursorAgent().build_args(request)
    assert args == ["-p", "p", "--output-format", "stream-json", "--resume", "chat", *extra]


def test_ignored_lines() -> None:
    for line in ({"type": "thinking", "subtype": "delta"}, {"type": "user"}, {"type": "x"}):
        assert list(CursorAgent().parse_line(line, ParseState())) == []


def test_login_state(isolated_env: Path) -> None:
    env = {"HOME": str(isolated_env)}
    assert CursorAgent().login_state(env) is False
    assert CursorAgent().login_state({**env, "CURSOR_API_KEY": "k"}) is True
    (isolated_env / ".cursor").mkdir()
    (isolated_env / ".cursor" / "cli-config.json").write_text('{"authInfo": {"email": "a@b"}}')
    assert CursorAgent().login_state(env) is True
