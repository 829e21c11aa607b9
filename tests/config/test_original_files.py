"""Files written for the TypeScript original load unchanged, each difference a one-line warning.

The fixtures in ``data/`` use every key and value of the original's shipped
``ado.config.yaml`` (each version), ``ado.config.example.yaml``, its ``ado init`` template and
its Helm chart's config map (the original's repository states no licence text to copy them
under, so they are written for these tests rather than copied).
"""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

from ado.config import load_config
from ado.config.legacy import IGNORED
from ado.errors import ConfigError
from tests.fixtures.ado import Project

DATA = Path(__file__).parent / "data"
#: Variables the original's files name in ``${...}`` but only in disabled or unused sections.
UNSET = ("ANTHROPIC_API_KEY", "GOOGLE_API_KEY", "SLACK_WEBHOOK_URL", "KUBECONFIG")


@pytest.fixture
def unset_vars(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in UNSET:
        monkeypatch.delenv(name, raising=False)


def _copy(project: Project, name: str) -> Path:
    return Path(shutil.copy(DATA / name, project.config_path))


def test_the_originals_full_file_loads_with_a_warning_per_key(
    project: Project, unset_vars: None
) -> None:
    path = _copy(project, "original-full.yaml")
    proc = project.run("config", "validate", check_code=0)
    assert f"✔ {path} is valid" in proc.stdout
    assert "Traceback" not in proc.stderr and proc.stderr == ""  # listed on stdout here
    warnings = [line.strip() for line in proc.stdout.splitlines() if "warning: " in line]
    for key in IGNORED:
        named = key.replace("*", "claude-code") if key.startswith("providers.*.") else key
        if key == "providers.*.defaultOptions.approvalMode":
            named = "providers.gemini-cli.defaultOptions.approvalMode"
        assert sum(f": {named}: " in w for w in warnings) == 1, (key, warnings)
    assert any("(and 4 more providers)" in w for w in warnings), "one line per key"
    for old, new in (("codex-cli", "codex"), ("cursor-cli", "cursor-agent")):
        assert any(
            f"providers.{old}: the original's id, read as providers.{new}" in w for w in warnings
        )
    assert any("observability.logging.format: 'pretty'" in w and "'text'" in w for w in warnings)
    assert any(
        "accessModes[1].api.apiKey: environment variable ANTHROPIC_API_KEY is not set" in w
        and "disabled" in w
        for w in warnings
    )
    # Each warning names the file and the key's line.
    assert all(w.startswith(f"warning: {path}:") for w in warnings)
    assert len(warnings) == len(set(warnings))


def test_the_original_file_means_what_it_said(unset_vars: None, tmp_path: Path) -> None:
    shutil.copy(DATA / "original-full.yaml", tmp_path / "ado.config.yaml")
    loaded = load_config(cwd=tmp_path)
    cfg = loaded.config
    assert sorted(cfg.providers) == [
        "claude-code",
        "codex",
        "copilot",
        "cursor-agent",
        "gemini-cli",
    ]
    assert cfg.providers["codex"].context_file == "AGENTS.md"
    assert cfg.providers["copilot"].access_modes[0].subscription.plan == "individual"
    claude = cfg.providers["claude-code"]
    assert claude.access_modes[1].enabled is False
    assert claude.access_modes[1].api.api_key is None, "the unset key is left unset"
    assert claude.access_modes[1].api.cost_per_million.output == 15.0
    assert cfg.observability.logging.format == "text"
    assert cfg.routing.failover.on_errors == ["rate_limit", "timeout", "server_error"]
    assert cfg.hitl.default_policy == "review-edits"
    assert cfg.notifications.channels.email.smtp_host == "smtp.gmail.com"
    assert cfg.orchestration.max_parallel_agents == 10
    assert "kubeconfig" not in cfg.deployment["contexts"]["kubernetes"]  # unset, unused
    assert len(loaded.warnings) == 20


def test_the_originals_helm_config_loads(project: Project, monkeypatch: pytest.MonkeyPatch) -> None:
    _copy(project, "original-helm.yaml")
    env = {"DATABASE_URL": "postgresql://ado:secret@db.invalid:5432/ado", "REDIS_URL": ""}
    proc = project.run("config", "validate", env=env, check_code=0)
    for key in ("storage.rateLimitTracking", "deployment", "orchestration.taskQueue"):
        assert f": {key}: not used by ADO" in proc.stdout
    assert "secret" not in proc.stdout


def test_warnings_go_to_stderr_once_per_command_and_not_on_help(
    project: Project, unset_vars: None
) -> None:
    _copy(project, "original-full.yaml")
    shown = project.run("config", "show", "--json", check_code=0)
    assert shown.stderr.count("routing.matching: not used by ADO") == 1
    assert shown.stderr.count("warning: ") == 20
    assert '"routing"' in shown.stdout and "warning: " not in shown.stdout
    helped = project.run("--help", check_code=0)
    assert helped.stderr == "" and "warning: " not in helped.stdout


def test_an_unset_variable_in_an_enabled_section_is_still_an_error(
    tmp_path: Path, unset_vars: None
) -> None:
    (tmp_path / "ado.config.yaml").write_text(
        textwrap.dedent("""\
        providers:
          claude-code:
            enabled: true
            accessModes:
              - mode: api
                api: {apiKey: "${ANTHROPIC_API_KEY}"}
        """)
    )
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path)
    assert info.value.key == "providers.claude-code.accessModes[0].api.apiKey"
    assert "ANTHROPIC_API_KEY is not set" in str(info.value)


def test_both_ids_of_one_agent_keep_ados_own(tmp_path: Path) -> None:
    (tmp_path / "ado.config.yaml").write_text(
        textwrap.dedent("""\
        providers:
          codex:
            enabled: true
            accessModes: [{mode: subscription, priority: 2}]
          codex-cli:
            enabled: false
        observability:
          logging: {level: warn}
        """)
    )
    loaded = load_config(cwd=tmp_path)
    assert loaded.config.providers["codex"].enabled is True
    assert list(loaded.config.providers) == ["codex"]
    assert loaded.config.observability.logging.level == "warning"
    (first, second) = loaded.warnings
    assert ":5: providers.codex-cli: the original's id for codex, which is also configured" in first
    assert "observability.logging.level: 'warn'" in second


def test_a_file_of_ados_own_keys_has_no_warnings(tmp_path: Path) -> None:
    (tmp_path / "ado.config.yaml").write_text(
        "providers:\n  codex:\n    enabled: true\n    accessModes: [{mode: subscription}]\n"
    )
    assert load_config(cwd=tmp_path).warnings == []
