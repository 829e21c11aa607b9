import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ado.providers.base import ParseState, Permission, RunRequest
from ado.providers.events import EventKind
from ado.providers.opencode import OpenCode
from ado.providers.run import stops_run
from ado.vocab import OutcomeKind

from .helpers import kinds, of_kind, replay


def test_success_sample() -> None:
    events, summary, outcome = replay(OpenCode(), "opencode.success.jsonl")
    assert kinds(events) == [
        EventKind.SESSION_STARTED,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.USAGE,
        EventKind.TEXT,
        EventKind.USAGE,
        EventKind.RESULT,
    ]
    assert summary.session_id == "ses_def8c6900ffeBb7ELQNEnUniit"
    call = events[1]
    assert call.tool_name == "write" and call.tool_id == "call_fake_411a839e"
    assert summary.files == ["/home/dev/repo/hello.txt"]
    assert events[2].text == "Wrote file successfully." and events[2].is_error is False
    # per-step increments add up to the run's totals
    assert (summary.usage.input_tokens, summary.usage.output_tokens) == (246, 90)
    assert summary.usage.cost_usd == 0
    assert events[-1].text == "DONE: wrote hello.txt"
    assert outcome.kind is OutcomeKind.SUCCESS


def test_rate_limit_sample() -> None:
    before = datetime.now(UTC)
    events, summary, outcome = replay(OpenCode(), "opencode.ratelimit.default.jsonl")
    (limit,) = of_kind(events, EventKind.RATE_LIMIT)
    assert limit.status_code == 429 and limit.retrying is False
    assert limit.text == "FAKE: Rate limit reached for requests. Please try again in 60s."
    assert limit.reset_at is not None and limit.reset_at - before < timedelta(seconds=10)
    assert limit.data["headers"]["x-ratelimit-remaining-requests"] == "0"
    assert summary.session_id == "ses_def875060ffeCxvBb4C3TddQvx"
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.reset_at == limit.reset_at


def test_reset_from_message_without_retry_after() -> None:
    error = {"name": "APIError", "data": {"message": "Please try again in 60s.", "statusCode": 429}}
    (limit,) = OpenCode().parse_line({"type": "error", "error": error}, ParseState())
    assert limit.reset_at is not None
    assert limit.reset_at - datetime.now(UTC) > timedelta(seconds=50)


def test_auth_error() -> None:
    error = {"name": "ProviderAuthError", "data": {"message": "Invalid API key", "statusCode": 401}}
    _, _, outcome = replay(OpenCode(), "", lines=[json.dumps({"type": "error", "error": error})])
    assert outcome.kind is OutcomeKind.AUTH_MISSING


def test_reasoning_tokens_count_as_output() -> None:
    part = {
        "reason": "tool-calls",
        "tokens": {"input": 1, "output": 2, "reasoning": 3, "cache": {"read": 4, "write": 5}},
        "cost": 0.5,
    }
    (event,) = OpenCode().parse_line({"type": "step_finish", "part": part}, ParseState())
    assert event.usage is not None
    assert (event.usage.output_tokens, event.usage.cache_write_tokens) == (5, 5)
    assert event.usage.cost_usd == 0.5


@pytest.mark.parametrize(
    ("permission", "flags", "env_permission"),
    [
        (Permission.BYPASS, ["--auto"], None),
        (Permission.AUTO, ["--auto"], None),
        (Permission.EDITS, [], {"edit": "allow", "bash": "deny", "webfetch": "allow"}),
        (
            Permission.READ_ONLY,
            ["--agent", "plan"],
            {"edit": "deny", "bash": "deny", "webfetch": "allow"},
        ),
    ],
)
def test_permissions(
    permission: Permission, flags: list[str], env_permission: dict[str, str] | None
) -> None:
    request = RunRequest(prompt="p", cwd=".", permission=permission, model="fake/m")
    assert OpenCode().build_args(request) == [
        "run",
        "--format",
        "json",
        "--print-logs",
        "--log-level",
        "WARN",
        "-m",
        "fake/m",
        *flags,
        "p",
    ]
    env = OpenCode().build_env(request)
    assert env["OPENCODE_DISABLE_AUTOUPDATE"] == "1"
    raw = env.get("OPENCODE_PERMISSION")
    assert (json.loads(raw) if raw else None) == env_permission


def test_resume() -> None:
    args = OpenCode().build_args(RunRequest(prompt="p", cwd=".", resume_session_id="ses_1"))
    assert args[args.index("--session") + 1] == "ses_1"


def test_login_state(isolated_env: Path) -> None:
    env = {"HOME": str(isolated_env)}
    assert OpenCode().login_state(env) is False
    assert OpenCode().login_state({**env, "OPENCODE_CONFIG": "/x.json"}) is None
    auth = isolated_env / ".local" / "share" / "opencode" / "auth.json"
    auth.parent.mkdir(parents=True)
    auth.write_text('{"anthropic": {"type": "api", "key": "k"}}')
    assert OpenCode().login_state(env) is True


def test_stream_error_on_stderr_stops_a_rate_limited_run() -> None:
    state = ParseState()
    line = (
        'timestamp=2026-11-25T02:11:20 level=ERROR run=x message="stream error" '
        "providerID=fake modelID=fake-model session.id=ses_1 small=false agent=build "
        'mode=primary error.error="AI_APICallError: FAKE: Rate limit reached for requests. '
        'Please try again in 60s."'
    )
    (event,) = OpenCode().parse_stderr_line(line, state)
    assert event.kind is EventKind.RATE_LIMIT and event.retrying
    assert event.reset_at is not None
    title = line.replace("small=false agent=build", "small=true agent=title")
    assert list(OpenCode().parse_stderr_line(title, state)) == []
    other = line.replace("Rate limit reached for requests", "Bad request: unknown field")
    assert list(OpenCode().parse_stderr_line(other, state)) == []
    # a 5xx: opencode would back off for minutes; the run stops, the error decides
    server = line.replace(
        "Rate limit reached for requests. Please try again in 60s.",
        "The server had an error processing your request.",
    )
    (error,) = OpenCode().parse_stderr_line(server, state)
    assert error.kind is EventKind.ERROR and error.retrying and stops_run(error)
