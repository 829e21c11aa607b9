"""Accounts: one agent configured more than once under ids of its own (``adapter:``), each
with its own cooldowns and quota windows, failing over to each other."""

from __future__ import annotations

import json
from pathlib import Path

from ado.config.loader import load_config
from ado.errors import ConfigError
from tests.agent_harness import cursor_agent_provider
from tests.fixtures.ado import Project


def _account(tmp_path: Path, name: str, priority: int, **kwargs: str) -> dict[str, object]:
    cfg = cursor_agent_provider("", tmp_path / name, **kwargs)
    cfg["adapter"] = "cursor-agent"
    cfg["accessModes"][0]["priority"] = priority
    return cfg


def test_two_accounts_of_one_agent_fail_over_to_each_other(
    project: Project, tmp_path: Path
) -> None:
    target = project.root / "done.txt"
    project.write_config(
        {
            "cursor-work": _account(tmp_path, "work", 1, scenario="rate_limit"),
            "cursor-home": _account(tmp_path, "home", 2, write=f"{target}:hi"),
        },
        routing={"failover": {"retryDelay": 0}},
    )
    proc = project.run("run", "--json", "write the file", timeout=120, check_code=0)
    assert target.read_text() == "hi"
    store = project.store()
    task = store.get_task(json.loads(proc.stdout.strip().splitlines()[-1])["taskId"])
    assert task is not None and task.status == "succeeded"
    # the fake's limit is cursor's monthly one: a quota exhausted
    assert [(a.provider, a.outcome) for a in task.attempts] == [
        ("cursor-work", "quota_exhausted"),
        ("cursor-home", "success"),
    ]
    # the cooldown is the account's, not the agent's
    assert {c.provider for c in store.cooldowns(task.attempts[0].started_at)} == {"cursor-work"}
    second = project.run("run", "--json", "write the file", timeout=120, check_code=0)
    again = store.get_task(json.loads(second.stdout.strip().splitlines()[-1])["taskId"])
    assert again is not None
    assert [a.provider for a in again.attempts] == ["cursor-home"]
    listed = json.loads(project.run("providers", "list", "--json", check_code=0).stdout)
    ids = {p["id"] for p in listed} if isinstance(listed, list) else set()
    assert {"cursor-work", "cursor-home"} <= ids


def test_an_account_of_an_unknown_agent_is_a_config_error(tmp_path: Path) -> None:
    (tmp_path / "ado.config.yaml").write_text(
        "providers:\n  claude-work:\n    adapter: claude-cod\n    enabled: true\n"
    )
    try:
        load_config(cwd=tmp_path)
    except ConfigError as exc:
        assert exc.key == "providers.claude-work.adapter"
        assert "claude-code" in str(exc)
    else:
        raise AssertionError("an unknown adapter was accepted")
    (tmp_path / "ado.config.yaml").write_text("providers:\n  claude-work:\n    enabled: true\n")
    try:
        load_config(cwd=tmp_path)
    except ConfigError as exc:
        assert exc.key == "providers.claude-work" and "adapter" in str(exc)
    else:
        raise AssertionError("an unknown provider id was accepted")
