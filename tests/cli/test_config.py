"""``ado config show|set|validate`` on real files, through the real ``ado`` command."""

from __future__ import annotations

import json
import re
import textwrap

import pytest
from click.testing import CliRunner

from ado.cli import cli
from ado.config import load_config
from tests.fixtures.ado import Project

CONFIG = textwrap.dedent("""\
    # ADO configuration for the demo   (top comment)
    version: "1.1"

    project:
      id: demo            # the project's name

    providers:
      claude-code:
        enabled: true
        accessModes:
          - mode: subscription    # flat rate first
            priority: 1
          - mode: api
            priority: 10
            api:
              apiKey: ${ANTHROPIC_API_KEY:-sk-ant-default-secret}
        env:
          GH_TOKEN: ghp-env-secret
          NO_COLOR: "1"

    routing:
      strategy: subscription-first    # or round-robin
      failover:
        maxRetries: 3

    storage:
      driver: sqlite
      connectionString: postgresql://ado:pg-secret-pw@db.example:5432/ado
    """)

SECRETS = ("sk-ant-default-secret", "sk-ant-from-env", "pg-secret-pw", "ghp-env-secret")


@pytest.fixture
def configured(project: Project) -> Project:
    project.config_path.write_text(CONFIG, encoding="utf-8")
    return project


# -- show ---------------------------------------------------------------------------------------


def test_show_masks_every_secret(configured: Project) -> None:
    proc = configured.run(
        "config", "show", env={"ANTHROPIC_API_KEY": "sk-ant-from-env"}, check_code=0
    )
    assert f"# source: {configured.config_path}" in proc.stdout
    assert "strategy: subscription-first" in proc.stdout
    for secret in SECRETS:
        assert secret not in proc.stdout + proc.stderr
    assert "apiKey: '**********'" in proc.stdout
    assert "connectionString: '**********'" in proc.stdout
    assert "GH_TOKEN: '**********'" in proc.stdout
    assert "NO_COLOR: '1'" in proc.stdout


def test_show_json_masks_secrets_and_names_the_source(configured: Project) -> None:
    proc = configured.run(
        "config", "show", "--json", env={"ANTHROPIC_API_KEY": "sk-ant-from-env"}, check_code=0
    )
    for secret in SECRETS:
        assert secret not in proc.stdout
    data = json.loads(proc.stdout)
    assert data["source"] == str(configured.config_path)
    config = data["config"]
    claude = config["providers"]["claude-code"]
    assert claude["accessModes"][1]["api"]["apiKey"] == "**********"
    assert claude["env"] == {"GH_TOKEN": "**********", "NO_COLOR": "1"}
    assert config["storage"]["connectionString"] == "**********"
    # defaults are filled in, under their camelCase names
    assert config["routing"]["apiFallback"]["maxDailyCost"] == 50.0
    assert claude["timeout"] == 1800


def test_show_without_a_file_prints_the_defaults(project: Project) -> None:
    proc = project.run("config", "show", "--json", check_code=0)
    data = json.loads(proc.stdout)
    assert data["source"] is None
    assert data["config"]["storage"] == {
        "driver": "sqlite",
        "path": ".ado/state.db",
        "maxEventsPerTask": 20000,
        "maxEventBytes": 65536,
        "maxBytesPerTask": 33554432,
    }


def test_show_in_process_with_clirunner(configured: Project) -> None:
    result = CliRunner().invoke(
        cli, ["--config", str(configured.config_path), "config", "show", "--json"]
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["config"]["project"]["id"] == "demo"
    # the database the file names is unreachable: said on stderr, the file's values shown
    assert "saved through the API cannot be read" in result.stderr


# -- validate -------------------------------------------------------------------------------------


def test_validate_ok_exits_0(configured: Project) -> None:
    proc = configured.run("config", "validate", check_code=0)
    assert f"{configured.config_path} is valid" in proc.stdout
    assert "providers enabled: claude-code" in proc.stdout
    assert "subscription-first, API fallback off" in proc.stdout


def test_validate_bad_file_exits_2(configured: Project) -> None:
    configured.config_path.write_text(CONFIG.replace("maxRetries: 3", "maxRetries: -1"))
    proc = configured.run("config", "validate", check_code=2)
    assert "routing.failover.maxRetries" in proc.stderr and "≥ 0" in proc.stderr
    assert f"ado.config.yaml:{_line_of(CONFIG, 'maxRetries')}" in proc.stderr


def test_validate_without_a_file_says_so(project: Project) -> None:
    proc = project.run("config", "validate", check_code=0)
    assert "No configuration file found" in proc.stdout and "ado init" in proc.stdout


def _line_of(text: str, needle: str) -> int:
    return next(i for i, line in enumerate(text.splitlines(), 1) if needle in line)


# -- set ------------------------------------------------------------------------------------------


def test_set_keeps_comments_and_layout(configured: Project) -> None:
    configured.run("config", "set", "routing.strategy", "round-robin", check_code=0)
    before, after = CONFIG.splitlines(), configured.config_path.read_text().splitlines()
    changed = [(b, a) for b, a in zip(before, after, strict=True) if b != a]
    assert len(changed) == 1
    # only the value changed; the comment keeps its column
    assert re.fullmatch(r"  strategy: round-robin +# or round-robin", changed[0][1])
    assert changed[0][1].index("#") == changed[0][0].index("#")
    assert load_config(configured.config_path).config.routing.strategy == "round-robin"


def test_set_list_item_by_index(configured: Project) -> None:
    proc = configured.run(
        "config", "set", "providers.claude-code.accessModes[0].priority", "5", check_code=0
    )
    assert "providers.claude-code.accessModes[0].priority = 5" in proc.stdout
    after = configured.config_path.read_text()
    assert after == CONFIG.replace("priority: 1\n", "priority: 5\n")
    modes = load_config(configured.config_path).config.providers["claude-code"].access_modes
    assert [m.priority for m in modes] == [5, 10]


def test_set_creates_nested_keys(configured: Project) -> None:
    configured.run("config", "set", "routing.apiFallback.maxDailyCost", "12.5", check_code=0)
    configured.run("config", "set", "hitl.escalationThresholds.maxDuration", "600", check_code=0)
    configured.run("config", "set", "providers.codex.enabled", "true", check_code=0)
    configured.run(
        "config", "set", "providers.codex.accessModes[0].mode", "subscription", check_code=0
    )
    configured.run("config", "set", "providers.codex.args", "[--verbose, -q]", check_code=0)
    after = configured.config_path.read_text()
    assert after.startswith(CONFIG.split("storage:")[0].split("routing:")[0])
    assert "# flat rate first" in after and "# the project's name" in after
    config = load_config(configured.config_path).config
    assert config.routing.api_fallback.max_daily_cost == 12.5
    assert config.routing.failover.max_retries == 3
    assert config.hitl.escalation_thresholds.max_duration == 600
    codex = config.providers["codex"]
    assert codex.enabled and codex.access_modes[0].mode == "subscription"
    assert codex.args == ["--verbose", "-q"]
    assert "    accessModes:\n      - mode: subscription\n" in after  # the file's list style


def test_set_creates_the_file_when_there_is_none(project: Project) -> None:
    project.run("config", "set", "routing.strategy", "cost-optimized", check_code=0)
    assert project.config_path.read_text() == "routing:\n  strategy: cost-optimized\n"


@pytest.mark.parametrize(
    ("key", "value", "message"),
    [
        ("routing.strategy", "fastest", "routing.strategy"),
        ("routing.failover.maxRetries", "many", "a whole number"),
        ("providers.claude-code.timeout", "0", "> 0"),
        ("providers.claude-code.timout", "30", "did you mean 'timeout'?"),
        ("providers.claud.enabled", "true", "did you mean 'claude-code'?"),
        ("providers.claude-code.accessModes[7].priority", "1", "no item 7"),
        ("project.id.name", "x", "cannot set"),
        ("routing.strategy", "[unclosed", "not a valid YAML value"),
        ("routing..strategy", "x", "bad key"),
    ],
)
def test_set_refuses_invalid_values_without_touching_the_file(
    configured: Project, key: str, value: str, message: str
) -> None:
    before = configured.config_path.read_bytes()
    proc = configured.run("config", "set", key, value, check_code=2)
    assert message in proc.stderr
    assert "Traceback" not in proc.stderr
    assert configured.config_path.read_bytes() == before
    assert sorted(p.name for p in configured.root.iterdir()) == ["ado.config.yaml"]


def test_set_masks_secret_values_in_its_echo(configured: Project) -> None:
    proc = configured.run(
        "config",
        "set",
        "providers.claude-code.accessModes[1].api.apiKey",
        "sk-ant-new-secret",
        check_code=0,
    )
    assert "sk-ant-new-secret" not in proc.stdout and "***" in proc.stdout
    mode = load_config(configured.config_path).config.providers["claude-code"].access_modes[1]
    assert mode.api.api_key.get_secret_value() == "sk-ant-new-secret"


# -- secrets, saved settings --------------------------------------------------------------------


def test_show_masks_webhook_headers_and_secret_names(project: Project) -> None:
    project.config_path.write_text(
        textwrap.dedent("""\
            notifications:
              channels:
                webhook:
                  enabled: true
                  url: https://hooks.example/x
                  headers:
                    Authorization: Bearer hdr-secret-1
                    X-Api-Key: hdr-secret-2
                    X-Team: blue
            """),
        encoding="utf-8",
    )
    for args in (("config", "show"), ("config", "show", "--json"), ("config", "show", "--origin")):
        out = project.run(*args, check_code=0).stdout
        assert "hdr-secret" not in out, args
        assert "blue" in out, args
    data = json.loads(project.run("config", "show", "--json", check_code=0).stdout)
    headers = data["config"]["notifications"]["channels"]["webhook"]["headers"]
    assert headers == {"Authorization": "**********", "X-Api-Key": "**********", "X-Team": "blue"}
    origins = data["origins"]
    assert origins["notifications.channels.webhook.headers.Authorization"] == "file"


def test_a_saved_secret_whose_key_is_lost_is_a_clear_error(project: Project) -> None:
    from ado.config.overrides import SETTINGS_KEY, settings_after_patch
    from ado.config.secrets import SecretBox, key_file_path

    project.write_config({"codex": {"enabled": True, "accessModes": [{"mode": "subscription"}]}})
    store = project.store()
    try:
        patch = {"notifications": {"channels": {"slack": {"webhookUrl": "https://hooks/x-s3cret"}}}}
        loaded = load_config(project.config_path)
        store.set_value(SETTINGS_KEY, settings_after_patch(loaded.config, {}, patch, SecretBox()))
    finally:
        store.close()
    key_file_path().unlink()
    proc = project.run("run", "do it", check_code=2)
    assert "Traceback" not in proc.stderr
    assert "notifications.channels.slack.webhookUrl" in proc.stderr
    assert "cannot be decrypted" in proc.stderr
    assert "ado config reset notifications.channels.slack.webhookUrl" in proc.stderr
    # showing needs no key; the advised fix works
    assert "x-s3cret" not in project.run("config", "show", check_code=0).stdout
    project.run("config", "reset", "notifications.channels.slack.webhookUrl", check_code=0)
    assert "cannot be decrypted" not in project.run("run", "do it").stderr


def test_validate_warns_when_env_and_api_key_set_the_same_variable(project: Project) -> None:
    project.config_path.write_text(
        textwrap.dedent("""\
            providers:
              claude-code:
                enabled: true
                accessModes:
                  - mode: api
                    api:
                      apiKey: sk-from-api-key
                env:
                  ANTHROPIC_API_KEY: sk-from-env
              codex:
                enabled: true
                accessModes:
                  - mode: api
                    api:
                      apiKey: sk-codex
            """),
        encoding="utf-8",
    )
    out = project.run("config", "validate", check_code=0).stdout
    assert (
        "providers.claude-code.env.ANTHROPIC_API_KEY (line 9) and "
        "providers.claude-code.accessModes[0].api.apiKey both set ANTHROPIC_API_KEY: the env "
        "value wins"
    ) in " ".join(out.split())
    assert "codex" not in out.split("⚠")[-1]  # no env: no warning
    assert "sk-from" not in out
