import json
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from ado.providers import gemini_cli
from ado.providers.base import ParseState, Permission, RunRequest
from ado.providers.events import EventKind
from ado.providers.gemini_cli import GeminiCli
from ado.vocab import OutcomeKind

from .helpers import kinds, of_kind, replay


def test_success_sample() -> None:
    events, summary, outcome = replay(GeminiCli(), "gemini.success.jsonl")
    assert kinds(events) == [
        EventKind.SESSION_STARTED,
        EventKind.TOOL_CALL,
        EventKind.TOOL_RESULT,
        EventKind.TEXT,
        EventKind.USAGE,
        EventKind.RESULT,
    ]
    assert summary.session_id == "8985411b-5d9b-4e59-8398-a75d09110887"
    assert summary.files == ["/home/dev/repo/hello.txt"]
    assert events[2].is_error is False
    assert (summary.usage.input_tokens, summary.usage.output_tokens) == (246, 90)
    assert summary.usage.model == "fake-model"
    assert events[-1].text == "DONE: wrote hello.txt" and events[-1].data["tool_calls"] == 1
    assert outcome.kind is OutcomeKind.SUCCESS


def test_retries_on_stderr_are_rate_limits() -> None:
    before = datetime.now(UTC)
    events, _, outcome = replay(
        GeminiCli(),
        "gemini.ratelimit.default.jsonl",
        stderr="gemini.ratelimit.default.stderr",
        exit_code=173,
    )
    limits = of_kind(events, EventKind.RATE_LIMIT)
    assert len(limits) == 9  # attempts 1-9 retried, the 10th gave up
    first = limits[0]
    assert first.retrying is True and first.data == {"retryDelayMs": 5791}
    assert first.text is not None and "Resource has been exhausted" in first.text
    assert first.reset_at is not None and first.reset_at - before < timedelta(seconds=5)
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.exit_code == 173


def test_no_retry_sample() -> None:
    events, _, outcome = replay(
        GeminiCli(),
        "gemini.ratelimit.noretry.jsonl",
        stderr="gemini.ratelimit.noretry.stderr",
        exit_code=173,
    )
    assert of_kind(events, EventKind.RATE_LIMIT) == []
    result = of_kind(events, EventKind.RESULT)[0]
    assert result.is_error is True and "Resource has been exhausted" in (result.text or "")
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.reset_at is not None


def test_transient_retry_is_left_alone() -> None:
    adapter, state = GeminiCli(), ParseState()
    assert list(adapter.parse_stderr_line("Attempt 1 failed: fetch failed", state)) == []
    assert list(adapter.parse_stderr_line("Retrying after 1000ms...", state)) == []


def test_exit_41_is_auth() -> None:
    _, _, outcome = replay(GeminiCli(), "", lines=[], exit_code=41)
    assert outcome.kind is OutcomeKind.AUTH_MISSING


@pytest.mark.parametrize(
    ("permission", "mode"),
    [
        (Permission.BYPASS, "yolo"),
        (Permission.AUTO, "yolo"),
        (Permission.EDITS, "auto_edit"),
        (Permission.READ_ONLY, "default"),
    ],
)
def test_permission_flags(permission: Permission, mode: str) -> None:
    args = GeminiCli().build_args(RunRequest(prompt="p", cwd=".", permission=permission, model="m"))
    assert args[:5] == ["-p", "p", "--output-format", "stream-json", "--skip-trust"]
    assert args[-2:] == ["--approval-mode", mode]
    assert args[args.index("-m") + 1] == "m"


def test_env_points_at_a_no_retry_settings_file(tmp_path: Path) -> None:
    env = GeminiCli().build_env(RunRequest(prompt="p", cwd="."))
    settings = json.loads(Path(env[gemini_cli.SETTINGS_ENV]).read_text())
    assert settings == {"general": {"maxAttempts": 1}}
    keyed = GeminiCli().build_env(RunRequest(prompt="p", cwd=".", api_key="k"))
    settings = json.loads(Path(keyed[gemini_cli.SETTINGS_ENV]).read_text())
    assert settings["security"]["auth"]["selectedType"] == "gemini-api-key"
    own = RunRequest(prompt="p", cwd=".", extra_env={gemini_cli.SETTINGS_ENV: "/etc/x.json"})
    assert GeminiCli().environment(own)[gemini_cli.SETTINGS_ENV] == "/etc/x.json"


def test_settings_file_is_written_once(tmp_path: Path) -> None:
    first = gemini_cli.settings_file({"a": 1}, tmp_path)
    assert gemini_cli.settings_file({"a": 1}, tmp_path) == first
    assert gemini_cli.settings_file({"a": 2}, tmp_path) != first


def test_login_state(isolated_env: Path) -> None:
    env = {"HOME": str(isolated_env)}
    assert GeminiCli().login_state(env) is False
    assert GeminiCli().login_state({**env, "GOOGLE_API_KEY": "k"}) is True
    (isolated_env / ".gemini").mkdir()
    (isolated_env / ".gemini" / "oauth_creds.json").write_text("{}")
    assert GeminiCli().login_state(env) is True
