"""First-run messages of the real ``ado`` command: no configuration, typos in provider ids and
statuses (exit 2, "did you mean", nothing recorded), a ``command`` that does not exist, what
``passEnv`` hands an agent, and a failure on a variable ADO has but did not pass."""

from __future__ import annotations

import json
import os
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.cli.helpers import run_json, store_of
from tests.fixtures.ado import FakeCursor, Project


def _executable(path: Path, body: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"#!{sys.executable}\n" + textwrap.dedent(body))
    path.chmod(0o755)
    return path


# -- no configuration file --------------------------------------------------------------------


def test_run_without_a_config_file_says_run_ado_init(project: Project, tmp_path: Path) -> None:
    bin_dir = tmp_path / "agents-bin"
    _executable(bin_dir / "claude", "print('claude 1.0')\n")
    path = f"{bin_dir}{os.pathsep}{os.environ['PATH']}"
    proc = project.run("run", "fix the bug", env={"PATH": path}, check_code=2)
    assert "no ado.config.yaml here — run `ado init`" in proc.stderr
    assert "It finds claude on PATH" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert not (project.root / ".ado").exists(), "nothing recorded, no store created"


def test_run_without_a_config_file_or_any_agent(project: Project, tmp_path: Path) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    proc = project.run("run", "fix the bug", env={"PATH": str(empty)}, check_code=2)
    assert "no agent CLI on PATH — install one, then run `ado init`" in proc.stderr
    assert "npm install -g" in proc.stderr


# -- typos are usage errors and record nothing -----------------------------------------------


@pytest.mark.parametrize(
    ("args", "option", "suggestion"),
    [
        (["-p", "cursor-agnet"], "'-p/--provider'", "cursor-agent"),
        (["--providers", "cursor-agent,cladue-code"], "'--providers'", "claude-code"),
        (["--exclude", "curosr-agent"], "'--exclude'", "cursor-agent"),
    ],
)
def test_provider_typo_in_run_is_exit_2_and_no_task(
    project: Project, fake_cursor: FakeCursor, args: list[str], option: str, suggestion: str
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    store = store_of(project)
    proc = project.run("run", *args, "do it", check_code=2)
    assert f"Invalid value for {option}" in proc.stderr
    assert f"did you mean {suggestion!r}?" in proc.stderr
    assert "Traceback" not in proc.stderr
    assert store.list_tasks() == [], "a typo creates no task record"


def test_a_known_agent_that_is_not_configured_says_how_to_add_it(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    store = store_of(project)
    proc = project.run("run", "-p", "codex", "do it", check_code=2)
    assert "'codex' is not configured in" in proc.stderr
    assert "add providers.codex" in proc.stderr and "Configured: cursor-agent" in proc.stderr
    assert store.list_tasks() == []


def test_report_provider_typo(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    proc = project.run("report", "--provider", "cursor-agen", check_code=2)
    assert "did you mean 'cursor-agent'?" in proc.stderr
    # A registered agent that is not configured may still have history: accepted.
    project.run("report", "--provider", "codex", "--format", "json", check_code=0)


def test_tasks_list_status_typo(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    run_json(project, "do it")
    proc = project.run("tasks", "list", "--status", "succeded", check_code=2)
    assert "'succeded' is not one of queued, running, succeeded" in proc.stderr
    assert "did you mean 'succeeded'?" in proc.stderr
    listed = project.run("tasks", "list", "--status", "succeeded", "--json", check_code=0)
    assert [t["status"] for t in json.loads(listed.stdout)] == ["succeeded"]
    typo = project.run("tasks", "list", "-p", "cursor", check_code=2)
    assert "did you mean 'cursor-agent'?" in typo.stderr


# -- a command that does not exist --------------------------------------------------------------


def test_a_missing_command_is_named(project: Project, fake_cursor: FakeCursor) -> None:
    cfg = fake_cursor()
    missing = project.root / "bin" / "cursor-agent-2"
    cfg["command"] = str(missing)
    project.write_config({"cursor-agent": cfg})
    proc = project.run("run", "do it", check_code=3)
    expected = f"providers.cursor-agent.command: {missing} does not exist"
    assert expected in proc.stderr
    checked = project.run("providers", "check", "cursor-agent", check_code=1)
    assert expected in checked.stdout


def test_a_command_that_is_not_executable_is_named(
    project: Project, fake_cursor: FakeCursor
) -> None:
    cfg = fake_cursor()
    plain = project.root / "cursor-agent.txt"
    plain.write_text("not a program")
    cfg["command"] = str(plain)
    project.write_config({"cursor-agent": cfg})
    proc = project.run("run", "do it", check_code=3)
    assert f"{plain} is not executable (chmod +x)" in proc.stderr


# -- passEnv ----------------------------------------------------------------------------------

#: A cursor-agent that writes the names of the variables it got, then behaves as the fake one.
ENV_DUMPER = """\
import json, os, sys
if "--version" in sys.argv:
    print("cursor-agent 1.0")
    sys.exit(0)
with open(os.environ["DUMP_TO"], "w") as f:
    json.dump(sorted(os.environ), f)
if os.environ.get("NEEDS") and not os.environ.get(os.environ["NEEDS"]):
    print(f"error: Missing environment variable: {os.environ['NEEDS']}", file=sys.stderr)
    sys.exit(1)
from ado.testing.fake_cursor_agent import main
raise SystemExit(main())
"""

ADO_ENV = {
    "CORP_REGION": "eu",
    "CORP_LICENSE_TOKEN": "corp-secret-value",
    "ANTHROPIC_API_KEY": "sk-ant-not-for-cursor",
    "GH_TOKEN": "ghp-not-for-cursor",
    "ADO_SOME_SETTING": "ado-setting-value",
    "CURSOR_API_KEY": "cursor-own-key",
    "UNRELATED_VAR": "unrelated-value",
}


def _dumping_cursor(project: Project, fake_cursor: FakeCursor, **extra: Any) -> dict[str, Any]:
    cfg = fake_cursor()
    cfg["command"] = str(_executable(project.root.parent / "dump" / "cursor-agent", ENV_DUMPER))
    cfg["env"]["DUMP_TO"] = str(project.root.parent / "env.json")
    cfg.update(extra)
    return cfg


def _seen(project: Project) -> list[str]:
    names: list[str] = json.loads((project.root.parent / "env.json").read_text())
    return names


def test_pass_env_names_and_globs_reach_the_agent(
    project: Project, fake_cursor: FakeCursor
) -> None:
    project.write_config(
        {"cursor-agent": _dumping_cursor(project, fake_cursor, passEnv=["CORP_*"])}
    )
    run_json(project, "do it")  # env defaults to ADO's own (the test's) plus ADO_ENV below
    assert "CORP_REGION" not in _seen(project), "not set in ADO's environment yet"
    project.run("run", "--json", "do it", env=ADO_ENV, check_code=0)
    seen = _seen(project)
    assert "CORP_REGION" in seen
    assert "CORP_LICENSE_TOKEN" not in seen, "a glob never passes a secret-looking name"
    assert "UNRELATED_VAR" not in seen and "ANTHROPIC_API_KEY" not in seen


def test_a_star_glob_keeps_other_agents_secrets(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": _dumping_cursor(project, fake_cursor, passEnv=["*"])})
    project.run("run", "--json", "do it", env=ADO_ENV, check_code=0)
    seen = _seen(project)
    assert {"CORP_REGION", "UNRELATED_VAR", "CURSOR_API_KEY"} <= set(seen)
    for name in ("ANTHROPIC_API_KEY", "GH_TOKEN", "CORP_LICENSE_TOKEN", "ADO_SOME_SETTING"):
        assert name not in seen
    checked = project.run("providers", "check", "cursor-agent", env=ADO_ENV)
    assert "passEnv *: passes" in checked.stdout
    held = next(line for line in checked.stdout.splitlines() if "held back" in line)
    assert "(secret-looking or ADO_*; name them exactly to pass them): " in held
    for name in ("ADO_SOME_SETTING", "ANTHROPIC_API_KEY", "CORP_LICENSE_TOKEN", "GH_TOKEN"):
        assert name in held
    assert "UNRELATED_VAR" not in held and "CURSOR_API_KEY" not in held
    as_json = json.loads(
        project.run("providers", "check", "cursor-agent", "--json", env=ADO_ENV).stdout
    )
    assert as_json[0]["passEnv"] == ["*"] and "UNRELATED_VAR" in as_json[0]["passEnvPassed"]
    for value in ADO_ENV.values():
        assert value not in checked.stdout, "names only, never values"


def test_a_secret_named_exactly_passes(project: Project, fake_cursor: FakeCursor) -> None:
    cfg = _dumping_cursor(project, fake_cursor, passEnv=["CORP_*", "CORP_LICENSE_TOKEN"])
    project.write_config({"cursor-agent": cfg})
    project.run("run", "--json", "do it", env=ADO_ENV, check_code=0)
    assert "CORP_LICENSE_TOKEN" in _seen(project)


def test_a_failure_on_a_variable_ado_has_names_the_line_to_add(
    project: Project, fake_cursor: FakeCursor
) -> None:
    cfg = _dumping_cursor(project, fake_cursor)
    cfg["env"]["NEEDS"] = "CORP_LICENSE_TOKEN"
    project.write_config({"cursor-agent": cfg})
    summary = run_json(project, "do it", code=1)
    assert "CORP_LICENSE_TOKEN" in summary["error"]
    assert "set in ADO's environment" not in summary["error"], "ADO does not have it either"
    failed = project.run("run", "do it", env=ADO_ENV, check_code=1)
    assert (
        "CORP_LICENSE_TOKEN is set in ADO's environment, but agents get a minimal one; add to "
        "ado.config.yaml under providers.cursor-agent:  passEnv: [CORP_LICENSE_TOKEN]"
    ) in failed.stderr
    assert "corp-secret-value" not in failed.stdout + failed.stderr
    cfg["passEnv"] = ["CORP_LICENSE_TOKEN"]  # the line it said to add
    project.write_config({"cursor-agent": cfg})
    project.run("run", "do it", env=ADO_ENV, check_code=0)


# -- cooldowns ---------------------------------------------------------------------------------


def test_cooldowns_listed_and_cleared(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    store = store_of(project)
    until = datetime.now(UTC) + timedelta(hours=2)
    for mode in ("subscription", "api"):
        store.set_cooldown(
            "cursor-agent",
            mode,
            until=until,
            kind="rate_limited",
            reason="exceeded retry limit, last status: 429 Too Many Requests",
            reset_known=False,
        )
    listed = json.loads(project.run("providers", "cooldowns", "--json", check_code=0).stdout)
    assert [(c["provider"], c["accessMode"], c["kind"]) for c in listed] == [
        ("cursor-agent", "api", "rate_limited"),
        ("cursor-agent", "subscription", "rate_limited"),
    ]
    shown = project.run("providers", "cooldowns", check_code=0).stdout
    assert "cursor-agent/subscription rate limited until" in shown
    assert "429 Too Many Requests" in shown and "no reset time" in shown
    typo = project.run("providers", "clear-cooldown", "cursor-agnet", check_code=2)
    assert "did you mean 'cursor-agent'?" in typo.stderr
    one = project.run(
        "providers", "clear-cooldown", "cursor-agent", "--access-mode", "api", check_code=0
    )
    assert "cleared 1 cooldown(s) of cursor-agent/api" in one.stdout
    assert [c.access_mode for c in store.cooldowns(datetime.now(UTC))] == ["subscription"]
    project.run("providers", "clear-cooldown", "cursor-agent", check_code=0)
    assert store.cooldowns(datetime.now(UTC)) == []
    again = project.run("providers", "clear-cooldown", "cursor-agent", check_code=0)
    assert "had no active cooldown" in again.stdout
    assert "No active cooldowns." in project.run("providers", "cooldowns").stdout
    run_json(project, "do it")  # routed to it again at once
