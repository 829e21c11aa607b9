import json
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ado.providers import claude_code
from ado.providers.base import ParseState, Permission, RunRequest
from ado.providers.claude_code import ClaudeCode
from ado.providers.events import AgentEvent, EventKind
from ado.vocab import OutcomeKind

from .helpers import kinds, of_kind, replay

SESSION = "c53f68fa-1dc1-4f8d-808a-200adc47e5ec"


def test_success_sample() -> None:
    events, summary, outcome = replay(ClaudeCode(), "claude.success.jsonl")
    assert kinds(events) == [
        EventKind.SESSION_STARTED,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TEXT,
        EventKind.USAGE,
        EventKind.RESULT,
    ]
    call = events[1]
    assert call.tool_id == "toolu_fake_be568f92e73e"
    assert call.tool_name == "Write"
    assert call.tool_input == {"file_path": "/home/dev/repo/hello.txt", "content": "hi"}
    assert events[2].tool_id == call.tool_id and events[2].is_error is False
    assert summary.session_id == SESSION
    assert summary.files == ["/home/dev/repo/hello.txt"]
    assert summary.usage.input_tokens == 246 and summary.usage.output_tokens == 90
    assert summary.usage.cost_usd == pytest.approx(0.002088)
    assert summary.usage.model == "claude-sonnet-4-5"
    result = events[-1]
    assert result.is_error is False and result.status_code is None
    assert result.data["num_turns"] == 2 and result.data["duration_ms"] == 219
    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.message == "DONE: wrote hello.txt"


def test_retrying_sample_reports_each_retry() -> None:
    events, _summary, outcome = replay(ClaudeCode(), "claude.ratelimit.default.jsonl", exit_code=1)
    limits = of_kind(events, EventKind.RATE_LIMIT)
    assert len(limits) == 10
    assert all(e.retrying and e.status_code == 429 for e in limits)
    assert limits[0].data["attempt"] == 1
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert "429" in outcome.message


def test_no_retry_sample_is_rate_limited() -> None:
    events, summary, outcome = replay(ClaudeCode(), "claude.ratelimit.noretry.jsonl", exit_code=1)
    result = of_kind(events, EventKind.RESULT)[0]
    assert result.is_error is True and result.status_code == 429
    # the synthetic assistant message is the API failure, not an answer
    assert of_kind(events, EventKind.TEXT) == []
    assert of_kind(events, EventKind.ERROR)[0].data == {"error": "rate_limit"}
    assert summary.usage.cost_usd == 0
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.exit_code == 1


def _rate_limit_line(status: str, kind: str = "five_hour") -> str:
    info = {"status": status, "resetsAt": 1795600000, "rateLimitType": kind}
    return json.dumps({"type": "rate_limit_event", "rate_limit_info": info})


def test_rate_limit_events() -> None:
    adapter = ClaudeCode()
    state = ParseState()

    def notices(line: str) -> list[AgentEvent]:
        # every reading is also a QUOTA event for the ledger (tests/providers/test_quota.py)
        events = list(adapter.parse_line(json.loads(line), state))
        assert events[0].kind is EventKind.QUOTA
        return [e for e in events if e.kind is not EventKind.QUOTA]

    assert notices(_rate_limit_line("allowed")) == []
    (warning,) = notices(_rate_limit_line("allowed_warning"))
    assert warning.kind is EventKind.RATE_LIMIT and warning.retrying is False
    assert warning.data["status"] == "allowed_warning"
    (rejected,) = notices(_rate_limit_line("rejected"))
    assert rejected.data == {"status": "rejected", "rateLimitType": "five_hour"}
    assert rejected.reset_at == datetime.fromtimestamp(1795600000, UTC)


def test_rejected_five_hour_window_is_a_rate_limit_with_its_reset() -> None:
    lines = [_rate_limit_line("allowed_warning"), _rate_limit_line("rejected")]
    _, _, outcome = replay(ClaudeCode(), "", lines=lines, exit_code=1)
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.reset_at == datetime.fromtimestamp(1795600000, UTC)


def test_rejected_weekly_window_is_quota() -> None:
    _, _, outcome = replay(ClaudeCode(), "", lines=[_rate_limit_line("rejected", "seven_day")])
    assert outcome.kind is OutcomeKind.QUOTA_EXHAUSTED


def test_usage_limit_text_in_result() -> None:
    result = {"type": "result", "is_error": True, "result": "5-hour limit reached ∙ resets 2am"}
    _, _, outcome = replay(ClaudeCode(), "", lines=[json.dumps(result)], exit_code=1)
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.reset_at is not None


def test_auth_failure() -> None:
    result = {"type": "result", "is_error": True, "result": "Invalid API key · Please run /login"}
    _, _, outcome = replay(ClaudeCode(), "", lines=[json.dumps(result)], exit_code=1)
    assert outcome.kind is OutcomeKind.AUTH_MISSING


def test_server_error_retry_is_not_a_rate_limit() -> None:
    line = {"type": "system", "subtype": "api_retry", "attempt": 1, "error_status": 529}
    (event,) = ClaudeCode().parse_line(line, ParseState())
    assert event.kind is EventKind.ERROR and event.status_code == 529


@pytest.mark.parametrize(
    "line",
    [
        {"type": "stream_event", "event": {}},
        {"type": "system", "subtype": "compact_boundary"},
        {"type": "assistant", "message": {"content": [{"type": "thinking", "thinking": "…"}]}},
        {"type": "user", "message": {"content": "plain prompt"}},
        {"no": "type"},
    ],
)
def test_unknown_or_irrelevant_lines_give_nothing(line: dict[str, object]) -> None:
    assert list(ClaudeCode().parse_line(line, ParseState())) == []


def _request(permission: Permission, **kw: object) -> RunRequest:
    return RunRequest(prompt="do it", cwd=".", permission=permission, **kw)  # type: ignore[arg-type]


def test_command_basics() -> None:
    args = ClaudeCode().build_args(
        _request(Permission.AUTO, model="opus", max_turns=5, resume_session_id="sid")
    )
    assert args[:5] == ["-p", "do it", "--output-format", "stream-json", "--verbose"]
    assert args[args.index("--model") + 1] == "opus"
    assert args[args.index("--max-turns") + 1] == "5"
    assert args[args.index("--resume") + 1] == "sid"
    assert "--resume" not in ClaudeCode().build_args(_request(Permission.AUTO))


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        (Permission.BYPASS, ["--dangerously-skip-permissions"]),
        (
            Permission.AUTO,
            ["--permission-mode", "acceptEdits", "--allowedTools", claude_code.AUTO_TOOLS],
        ),
        (Permission.EDITS, ["--permission-mode", "acceptEdits", "--disallowedTools", "Bash"]),
        (Permission.READ_ONLY, ["--permission-mode", "plan"]),
    ],
)
def test_permission_flags(permission: Permission, expected: list[str]) -> None:
    assert ClaudeCode().build_args(_request(permission))[5:] == expected


def test_config_permission_mode_overrides() -> None:
    args = ClaudeCode().build_args(_request(Permission.READ_ONLY, permission_mode="acceptEdits"))
    assert args[5:] == ["--permission-mode", "acceptEdits"]


def test_env_switches_retries_off_and_sandbox_only_for_root_bypass(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    adapter = ClaudeCode()
    monkeypatch.setattr(claude_code, "is_root", lambda: True)
    assert adapter.build_env(_request(Permission.BYPASS))["IS_SANDBOX"] == "1"
    assert "IS_SANDBOX" not in adapter.build_env(_request(Permission.AUTO))
    env = adapter.environment(_request(Permission.AUTO))
    assert env["CLAUDE_CODE_MAX_RETRIES"] == "0"
    monkeypatch.setattr(claude_code, "is_root", lambda: False)
    assert "IS_SANDBOX" not in adapter.build_env(_request(Permission.BYPASS))


def test_api_key_and_base_url_go_to_anthropic_variables() -> None:
    request = _request(Permission.AUTO, api_key="sk-x", base_url="http://127.0.0.1:9")
    env = ClaudeCode().environment(request)
    assert env["ANTHROPIC_API_KEY"] == "sk-x"
    assert env["ANTHROPIC_BASE_URL"] == "http://127.0.0.1:9"


def test_login_state(isolated_env: Path) -> None:
    adapter = ClaudeCode()
    assert adapter.login_state({"HOME": str(isolated_env)}) is False
    assert adapter.login_state({"HOME": str(isolated_env), "ANTHROPIC_API_KEY": "k"}) is True
    creds = isolated_env / ".claude" / ".credentials.json"
    creds.parent.mkdir()
    creds.write_text("{}")
    assert adapter.login_state({"HOME": str(isolated_env)}) is True
