from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ado.providers.base import ParseState, Permission, RunRequest
from ado.providers.copilot import Copilot
from ado.providers.events import EventKind
from ado.vocab import OutcomeKind

from .helpers import kinds, of_kind, replay


def test_success_sample() -> None:
    events, summary, outcome = replay(Copilot(), "copilot.success.jsonl")
    assert kinds(events) == [
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TEXT,
        EventKind.RESULT,
    ]
    call, result = events[0], events[1]
    assert call.tool_name == "create" and call.tool_id == "call_fake_ba188c55"
    assert call.files == ["/home/dev/repo/hello.txt"]
    assert result.tool_id == call.tool_id and result.is_error is False
    assert result.text == "Created file /home/dev/repo/hello.txt with 2 characters"
    assert summary.session_id == "2e8cca13-536b-466e-a68d-bb7b3fa910a7"
    assert summary.files == ["/home/dev/repo/hello.txt"]
    assert summary.usage.total_tokens == 0  # no tokens on stdout: they are in its session log
    assert events[-1].data["premiumRequests"] == 0
    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.message == "DONE: wrote hello.txt"


def test_rate_limit_sample() -> None:
    before = datetime.now(UTC)
    events, summary, outcome = replay(Copilot(), "copilot.ratelimit.default.jsonl", exit_code=1)
    limits = of_kind(events, EventKind.RATE_LIMIT)
    retries = [e for e in limits if e.text == "rate limited, retrying"]
    failures = [e for e in limits if e not in retries]
    assert len(failures) == 6 and len(retries) == 5
    # The first 429 is acted on at once: it arrives before copilot waits out retry-after.
    assert limits[0] is failures[0] and failures[0].retrying
    assert failures[0].text == "FAKE: Rate limit reached for requests. Please try again in 60s."
    assert retries[0].reset_at is not None
    assert abs((retries[0].reset_at - before - timedelta(seconds=60)).total_seconds()) < 30
    error = of_kind(events, EventKind.ERROR)[0]
    assert error.status_code == 429 and error.data == {"errorType": "rate_limit"}
    assert summary.session_id == "5131b6ab-5afd-4589-a4fe-282a01ec8ef8"
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.reset_at is not None


def test_premium_allowance_is_quota() -> None:
    line = {
        "type": "session.error",
        "data": {
            "errorType": "quota",
            "statusCode": 402,
            "message": "You have exceeded your premium request allowance",
        },
    }
    _, _, outcome = replay(Copilot(), "", lines=[__import__("json").dumps(line)], exit_code=1)
    assert outcome.kind is OutcomeKind.QUOTA_EXHAUSTED


def test_other_retries_do_not_stop_the_agent() -> None:
    line = {"type": "assistant.turn_retry", "data": {"reason": "server_error"}}
    assert list(Copilot().parse_line(line, ParseState())) == []


@pytest.mark.parametrize(
    ("permission", "extra"),
    [
        (Permission.BYPASS, ["--allow-all-tools", "--allow-all-paths"]),
        (Permission.AUTO, ["--allow-all-tools"]),
        (Permission.EDITS, ["--allow-tool", "write", "--deny-tool", "shell"]),
        (Permission.READ_ONLY, ["--deny-tool", "write", "--deny-tool", "shell"]),
    ],
)
def test_permission_flags(permission: Permission, extra: list[str]) -> None:
    args = Copilot().build_args(RunRequest(prompt="p", cwd=".", permission=permission))
    assert args == ["-p", "p", "--output-format", "json", "--no-auto-update", *extra]


def test_model_resume_and_byok_env() -> None:
    request = RunRequest(
        prompt="p",
        cwd=".",
        model="gpt-4.1",
        resume_session_id="s",
        base_url="http://127.0.0.1:9/v1",
        api_key="k",
    )
    args = Copilot().build_args(request)
    assert args[args.index("--model") + 1] == "gpt-4.1"
    assert args[args.index("--resume") + 1] == "s"
    env = Copilot().environment(request)
    assert env["COPILOT_PROVIDER_BASE_URL"] == "http://127.0.0.1:9/v1"
    assert env["COPILOT_PROVIDER_API_KEY"] == "k"
    assert env["COPILOT_PROVIDER_TYPE"] == "openai"


def test_login_state(isolated_env: Path) -> None:
    env = {"HOME": str(isolated_env)}
    assert Copilot().login_state(env) is False
    assert Copilot().login_state({**env, "GH_TOKEN": "t"}) is True
    (isolated_env / ".copilot").mkdir()
    (isolated_env / ".copilot" / "config.json").write_text('{"logged_in_users": [{"login": "a"}]}')
    assert Copilot().login_state(env) is True
