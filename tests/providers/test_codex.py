import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ado.providers.base import ParseState, Permission, RunRequest
from ado.providers.codex import Codex
from ado.providers.events import EventKind
from ado.vocab import OutcomeKind

from .helpers import kinds, of_kind, replay


def test_success_sample() -> None:
    events, summary, outcome = replay(Codex(), "codex.success.jsonl")
    assert kinds(events) == [
        EventKind.SESSION_STARTED,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TEXT,
        EventKind.USAGE,
        EventKind.RESULT,
    ]
    assert summary.session_id == "01a21072-b772-7b90-8194-caa569569909"
    call = events[1]
    assert call.tool_name == "shell" and call.tool_id == "item_0"
    assert "hello.txt" in call.tool_input["command"]  # type: ignore[index]
    assert events[2].is_error is False and events[2].data == {"exitCode": 0}
    assert summary.usage.input_tokens == 246 and summary.usage.output_tokens == 90
    assert summary.usage.cost_usd is None
    assert outcome.kind is OutcomeKind.SUCCESS
    assert outcome.message == "DONE: wrote hello.txt"


def test_retrying_sample() -> None:
    events, _, outcome = replay(Codex(), "codex.ratelimit.default.jsonl", exit_code=1)
    limits = of_kind(events, EventKind.RATE_LIMIT)
    assert len(limits) == 5
    assert all(e.retrying and e.status_code == 429 for e in limits)
    assert of_kind(events, EventKind.RESULT)[0].is_error is True
    assert outcome.kind is OutcomeKind.RATE_LIMITED


def test_no_retry_sample() -> None:
    events, _, outcome = replay(
        Codex(),
        "codex.ratelimit.noretry.jsonl",
        stderr="codex.ratelimit.noretry.stderr",
        exit_code=1,
    )
    assert of_kind(events, EventKind.RATE_LIMIT) == []
    assert of_kind(events, EventKind.ERROR)[0].status_code == 429
    result = of_kind(events, EventKind.RESULT)[0]
    assert result.status_code == 429 and "429" in (result.text or "")
    assert outcome.kind is OutcomeKind.RATE_LIMITED


def test_usage_limit_message_with_reset() -> None:
    message = (
        "You've hit your usage limit. Upgrade to Pro or try again in 2 days 17 hours 14 minutes."
    )
    lines = [json.dumps({"type": "turn.failed", "error": {"message": message}})]
    before = datetime.now(UTC)
    _, _, outcome = replay(Codex(), "", lines=lines, exit_code=1)
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.reset_at is not None
    expected = before + timedelta(days=2, hours=17, minutes=14)
    assert abs((outcome.reset_at - expected).total_seconds()) < 60


def test_network_reconnects_are_not_rate_limits() -> None:
    line = {"type": "error", "message": "Reconnecting... waiting for network (Connection failed)"}
    (event,) = Codex().parse_line(line, ParseState())
    assert event.kind is EventKind.LOG


def test_file_change_item_names_files() -> None:
    item = {
        "id": "item_3",
        "type": "file_change",
        "changes": [
            {"path": "/repo/a.py", "kind": "update"},
            {"path": "/repo/b.py", "kind": "add"},
        ],
        "status": "completed",
    }
    call, result = Codex().parse_line({"type": "item.completed", "item": item}, ParseState())
    assert call.kind is EventKind.TOOL_CALL and call.files == ["/repo/a.py", "/repo/b.py"]
    assert result.kind is EventKind.TOOL_RESULT and result.is_error is False


def test_failed_command_is_an_error_result() -> None:
    item = {
        "id": "i",
        "type": "command_execution",
        "command": "false",
        "exit_code": 1,
        "aggregated_output": "boom",
        "status": "failed",
    }
    (result,) = Codex().parse_line({"type": "item.completed", "item": item}, ParseState())
    assert result.is_error is True and result.text == "boom"


def test_cached_tokens_are_split_out() -> None:
    usage = {"input_tokens": 1000, "cached_input_tokens": 800, "output_tokens": 50}
    event = next(iter(Codex().parse_line({"type": "turn.completed", "usage": usage}, ParseState())))
    assert event.usage is not None
    assert (event.usage.input_tokens, event.usage.cache_read_tokens) == (200, 800)


@pytest.mark.parametrize("line", [{"type": "turn.started"}, {"type": "item.updated"}, {}])
def test_ignored_lines(line: dict[str, object]) -> None:
    assert list(Codex().parse_line(line, ParseState())) == []


@pytest.mark.parametrize(
    ("permission", "expected"),
    [
        (Permission.BYPASS, ["--dangerously-bypass-approvals-and-sandbox"]),
        (Permission.AUTO, ["-s", "workspace-write", "-c", 'approval_policy="never"']),
        (Permission.EDITS, ["-s", "workspace-write", "-c", 'approval_policy="never"']),
        (Permission.READ_ONLY, ["-s", "read-only", "-c", 'approval_policy="never"']),
    ],
)
def test_permission_flags(permission: Permission, expected: list[str]) -> None:
    args = Codex().build_args(RunRequest(prompt="do it", cwd=".", permission=permission))
    assert args == ["exec", "--json", "--skip-git-repo-check", *expected, "do it"]


def test_model_and_resume() -> None:
    request = RunRequest(prompt="go on", cwd=".", model="gpt-5", resume_session_id="T1")
    args = Codex().build_args(request)
    assert args[args.index("-m") + 1] == "gpt-5"
    assert args[-3:] == ["resume", "T1", "go on"]


def test_base_url_declares_a_provider_without_retries() -> None:
    request = RunRequest(prompt="p", cwd=".", base_url="http://127.0.0.1:9/v1", api_key="k")
    args = Codex().build_args(request)
    overrides = [args[i + 1] for i, a in enumerate(args) if a == "-c"]
    assert 'model_provider="ado"' in overrides
    assert 'model_providers.ado.base_url="http://127.0.0.1:9/v1"' in overrides
    assert "model_providers.ado.request_max_retries=0" in overrides
    assert "model_providers.ado.stream_max_retries=0" in overrides
    # the built-in provider cannot be overridden: codex refuses to start if we try
    assert not any("model_providers.openai" in o for o in overrides)
    assert Codex().environment(request)["OPENAI_API_KEY"] == "k"


def test_login_state(isolated_env: Path) -> None:
    env = {"HOME": str(isolated_env)}
    assert Codex().login_state(env) is False
    assert Codex().login_state({**env, "CODEX_API_KEY": "k"}) is True
    codex_home = isolated_env / "ch"
    codex_home.mkdir()
    (codex_home / "auth.json").write_text("{}")
    assert Codex().login_state({**env, "CODEX_HOME": str(codex_home)}) is True
