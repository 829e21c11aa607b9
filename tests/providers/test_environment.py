"""What an agent sees of ADO's environment (passEnv), what ADO says when it missed a variable,
how it tells a login and API-key billing, and which line a cooldown's reason is."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ado.providers.base import ParseState, RunRequest, command_problem
from ado.providers.claude_code import ClaudeCode
from ado.providers.codex import Codex
from ado.providers.cursor_agent import CursorAgent
from ado.providers.environment import is_secret_name, missing_variable_hint, select
from ado.providers.events import EventKind
from ado.vocab import OutcomeKind

from .helpers import replay, sample_path

ENVIRON = {
    "CORP_REGION": "eu",
    "CORP_PROXY": "http://proxy",
    "CORP_API_TOKEN": "corp-secret",
    "ANTHROPIC_API_KEY": "sk-ant-other",
    "GH_TOKEN": "ghp-other",
    "CURSOR_API_KEY": "cursor-own",
    "ADO_DATABASE_URL": "postgresql://u:pw@db/ado",
    "UNRELATED": "1",
}


def test_exact_names_and_globs_pass() -> None:
    chosen = select(["CORP_*", "UNRELATED"], ENVIRON)
    assert chosen.passed == {"CORP_REGION": "eu", "CORP_PROXY": "http://proxy", "UNRELATED": "1"}
    assert chosen.withheld == ["CORP_API_TOKEN"]


def test_a_star_glob_never_passes_other_agents_secrets_nor_ados_own() -> None:
    chosen = select(["*"], ENVIRON, own=CursorAgent.credential_env)
    assert "ANTHROPIC_API_KEY" not in chosen.passed and "GH_TOKEN" not in chosen.passed
    assert "ADO_DATABASE_URL" not in chosen.passed and "CORP_API_TOKEN" not in chosen.passed
    assert chosen.passed["CURSOR_API_KEY"] == "cursor-own", "its own credential passes"
    assert chosen.passed["UNRELATED"] == "1"
    assert chosen.withheld == [
        "ADO_DATABASE_URL",
        "ANTHROPIC_API_KEY",
        "CORP_API_TOKEN",
        "GH_TOKEN",
    ]


def test_a_secret_named_exactly_passes() -> None:
    chosen = select(["ANTHROPIC_API_KEY", "?H_TOKEN"], ENVIRON)
    assert chosen.passed == {"ANTHROPIC_API_KEY": "sk-ant-other"}
    assert chosen.withheld == ["GH_TOKEN"]


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("OPENAI_API_KEY", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("GOOGLE_APPLICATION_CREDENTIALS", True),
        ("SMTP_PASSWORD", True),
        ("db_passwd", True),
        ("AWS_ACCESS_KEY_ID", False),
        ("KEYBOARD", False),
        ("TOKENIZERS_PARALLELISM", False),
    ],
)
def test_secret_names(name: str, secret: bool) -> None:
    assert is_secret_name(name) is secret


def test_the_agent_environment_applies_pass_env(monkeypatch: pytest.MonkeyPatch) -> None:
    for key, value in ENVIRON.items():
        monkeypatch.setenv(key, value)
    env = CursorAgent().environment(RunRequest("p", ".", pass_env=("*",)))
    assert env["UNRELATED"] == "1" and env["CURSOR_API_KEY"] == "cursor-own"
    assert "ANTHROPIC_API_KEY" not in env and "ADO_DATABASE_URL" not in env
    assert "UNRELATED" not in CursorAgent().environment(RunRequest("p", "."))


def test_hint_names_the_variable_and_the_line_to_add() -> None:
    hint = missing_variable_hint(
        "codex",
        ["Missing environment variable: `MY_CODEX_KEY`."],
        given={"PATH": "/bin"},
        environ={"MY_CODEX_KEY": "k", "PATH": "/bin"},
        pass_env=["CORP_*"],
    )
    assert hint == (
        "MY_CODEX_KEY is set in ADO's environment, but agents get a minimal one; add to "
        "ado.config.yaml under providers.codex:  passEnv: [CORP_*, MY_CODEX_KEY]"
    )


def test_hint_explains_a_secret_a_glob_held_back() -> None:
    hint = missing_variable_hint(
        "codex", ["CORP_API_TOKEN missing"], {}, ENVIRON, pass_env=["CORP_*"]
    )
    assert hint is not None and "name it exactly" in hint
    assert hint.endswith("passEnv: [CORP_*, CORP_API_TOKEN]")


@pytest.mark.parametrize(
    "text",
    [
        "Missing environment variable: `NOT_SET_ANYWHERE`.",  # ADO does not have it either
        "PATH_GIVEN is broken",  # the agent got it
        "error: Unexpected token in config",  # no variable at all
    ],
)
def test_no_hint_when_the_variable_is_not_the_cause(text: str) -> None:
    environ = {"PATH_GIVEN": "x", "UNRELATED": "1"}
    assert missing_variable_hint("codex", [text], {"PATH_GIVEN": "x"}, environ) is None


def test_command_problem_names_the_path(tmp_path: Path) -> None:
    missing = tmp_path / "nope" / "codex"
    assert command_problem("codex", str(missing)) == (
        f"providers.codex.command: {missing} does not exist"
    )
    assert command_problem("codex", str(tmp_path)).endswith("is a directory")
    plain = tmp_path / "codex"
    plain.write_text("#!/bin/false\n")
    assert command_problem("codex", str(plain)).endswith("is not executable (chmod +x)")
    assert command_problem("codex", "codex-nightly") == (
        "providers.codex.command: 'codex-nightly' is not on PATH"
    )


# -- codex's own config decides how it logs in and what it bills ----------------------------


def _codex_home(tmp_path: Path, env_key: str | None) -> dict[str, str]:
    home = tmp_path / ".codex"
    home.mkdir()
    if env_key:
        (home / "config.toml").write_text(
            'model_provider = "corp"\n[model_providers.corp]\nname = "corp"\n'
            f'base_url = "http://127.0.0.1:9/v1"\nenv_key = "{env_key}"\n'
        )
    return {"CODEX_HOME": str(home), "HOME": str(tmp_path)}


def test_codex_env_key_is_its_login(tmp_path: Path) -> None:
    env = _codex_home(tmp_path, "CORP_OPENAI_KEY")
    codex = Codex()
    assert codex.login_state(env) is False
    assert codex.login_state({**env, "CORP_OPENAI_KEY": "k"}) is True
    assert codex.credential_vars(env)[-1] == "CORP_OPENAI_KEY"
    # With its own provider selected, an auth.json login does not help.
    (tmp_path / ".codex" / "auth.json").write_text('{"tokens": {}}')
    assert codex.login_state(env) is False


def test_codex_login_check_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    env = _codex_home(tmp_path, "CORP_OPENAI_KEY")
    monkeypatch.setenv("CORP_OPENAI_KEY", "k")  # ADO has it; the agent would not get it
    state, detail = Codex().login_check(env)
    assert state is False
    assert "CORP_OPENAI_KEY is set in ADO's environment" in detail
    assert detail.endswith("providers.codex:  passEnv: [CORP_OPENAI_KEY]")
    assert Codex().login_check(env, pass_env=("CORP_OPENAI_KEY",)) == (True, "")
    monkeypatch.delenv("CORP_OPENAI_KEY")
    assert Codex().login_check(env) == (False, Codex.login_hint)


def test_codex_billed_by_its_env_key(tmp_path: Path) -> None:
    env = {**_codex_home(tmp_path, "CORP_OPENAI_KEY"), "CORP_OPENAI_KEY": "k"}
    source = Codex().api_key_source(RunRequest("p", "."), env, ParseState())
    assert source == "env_key CORP_OPENAI_KEY of its config's model provider"


def test_codex_subscription_login_is_not_api_billing(tmp_path: Path) -> None:
    env = _codex_home(tmp_path, None)
    (tmp_path / ".codex" / "auth.json").write_text('{"auth_mode": "chatgpt", "tokens": {}}')
    assert Codex().api_key_source(RunRequest("p", "."), env, ParseState()) is None
    (tmp_path / ".codex" / "auth.json").write_text('{"auth_mode": "apikey"}')
    assert Codex().api_key_source(RunRequest("p", "."), env, ParseState()) is not None


def test_claude_reports_its_api_key_source() -> None:
    adapter = ClaudeCode()
    state = ParseState()
    for line in sample_path("claude.success.jsonl").read_text().splitlines()[:1]:
        list(adapter.parse_line(json.loads(line), state))
    assert adapter.api_key_source(RunRequest("p", "."), {}, state) == (
        "apiKeySource: ANTHROPIC_API_KEY"
    )
    list(adapter.parse_line({"type": "system", "subtype": "init", "apiKeySource": "none"}, state))
    assert adapter.api_key_source(RunRequest("p", "."), {}, state) is None


# -- the cooldown's reason is the rate-limit line, never an unrelated one --------------------


def test_codex_cooldown_reason_is_the_429_not_a_stderr_warning() -> None:
    # ADO stops codex at its first "Reconnecting... 429"; its stderr holds only warnings.
    lines = sample_path("codex.ratelimit.default.jsonl").read_text().splitlines()[:3]
    events, summary, outcome = replay(
        Codex(), "", lines=lines, stderr="codex.ratelimit.noretry.stderr", exit_code=-15
    )
    assert summary.stderr_tail.startswith("WARNING: proceeding")
    summary.stopped_for_rate_limit = True
    outcome = Codex().classify(summary)
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert "429 Too Many Requests" in outcome.message
    assert outcome.message.startswith("Reconnecting... 1/5")
    assert "WARNING" not in outcome.message
    assert [e.kind for e in events].count(EventKind.RATE_LIMIT) == 1


def test_codex_final_429_reason() -> None:
    _, _, outcome = replay(
        Codex(),
        "codex.ratelimit.noretry.jsonl",
        stderr="codex.ratelimit.noretry.stderr",
        exit_code=1,
    )
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert outcome.message.startswith("exceeded retry limit, last status: 429 Too Many Requests")


def test_claude_429_reason() -> None:
    _, _, outcome = replay(
        ClaudeCode(),
        "claude.ratelimit.noretry.jsonl",
        stderr="claude.ratelimit.noretry.stderr",
        exit_code=1,
    )
    assert outcome.kind is OutcomeKind.RATE_LIMITED
    assert "Request rejected (429)" in outcome.message


def test_no_text_at_all_still_gives_a_reason() -> None:
    _, summary, _ = replay(Codex(), "", lines=[], exit_code=1)
    summary.stopped_for_rate_limit = True
    summary.stderr_tail = "WARNING: something unrelated"
    assert Codex().classify(summary).message == "rate limited"
