"""Finding, expanding and validating ado.config.yaml, and the errors a user sees."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from ado.config import find_config_file, load_config
from ado.errors import ConfigError
from tests.fixtures.ado import Project


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def project_id(path: Path, value: str) -> Path:
    return write(path, f"project:\n  id: {value}\n")


def error_for(tmp_path: Path, text: str) -> ConfigError:
    path = write(tmp_path / "ado.config.yaml", text)
    with pytest.raises(ConfigError) as info:
        load_config(cwd=tmp_path)
    assert info.value.file == str(path)
    return info.value


# -- search order -----------------------------------------------------------------------------


def test_search_order_walks_every_location_then_defaults(
    tmp_path: Path, isolated_env: Path
) -> None:
    cwd = tmp_path / "work"
    cwd.mkdir()
    assert load_config(cwd=cwd).path is None
    assert load_config(cwd=cwd).config.storage.path == ".ado/state.db"

    user = project_id(isolated_env / ".config" / "ado" / "config.yaml", "user")
    loaded = load_config(cwd=cwd)
    assert (loaded.path, loaded.config.project.id, loaded.base_dir) == (str(user), "user", str(cwd))

    dot = project_id(cwd / ".ado" / "config.yaml", "dot-ado")
    loaded = load_config(cwd=cwd)
    assert (loaded.path, loaded.config.project.id) == (str(dot), "dot-ado")
    assert loaded.base_dir == str(cwd)  # relative paths resolve against the project, not .ado/

    yml = project_id(cwd / "ado.config.yml", "yml")
    assert load_config(cwd=cwd).path == str(yml)

    yaml = project_id(cwd / "ado.config.yaml", "yaml")
    assert load_config(cwd=cwd).path == str(yaml)

    explicit = project_id(tmp_path / "elsewhere" / "mine.yaml", "explicit")
    loaded = load_config(explicit, cwd=cwd)
    assert (loaded.path, loaded.config.project.id) == (str(explicit), "explicit")
    assert loaded.base_dir == str(explicit.parent)


def test_xdg_config_home_is_honoured(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    xdg = tmp_path / "xdg"
    monkeypatch.setenv("XDG_CONFIG_HOME", str(xdg))
    path = project_id(xdg / "ado" / "config.yaml", "from-xdg")
    assert find_config_file(cwd=tmp_path) == str(path)


def test_ado_config_environment_variable_names_the_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project_id(tmp_path / "ado.config.yaml", "local")
    other = project_id(tmp_path / "other.yaml", "env")
    monkeypatch.setenv("ADO_CONFIG", str(other))
    assert load_config(cwd=tmp_path).config.project.id == "env"


def test_missing_explicit_file_is_an_error_with_a_fix(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load_config(tmp_path / "nope.yaml", cwd=tmp_path)
    assert "not found" in str(info.value) and "ado init" in str(info.value)


def test_cli_config_option_wins(project: Project) -> None:
    project_id(project.config_path, "local")
    other = project_id(project.root / "conf" / "team.yaml", "team")
    proc = project.run("--config", str(other), "config", "show", "--json", check_code=0)
    assert '"id": "team"' in proc.stdout and str(other) in proc.stdout


# -- ${VAR} expansion -------------------------------------------------------------------------


def test_variables_expand_with_and_without_defaults(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("ADO_TEST_PLAN", "max")
    monkeypatch.setenv("ADO_TEST_TIMEOUT", "42")
    write(
        tmp_path / "ado.config.yaml",
        """\
        project:
          id: app-${ADO_TEST_PLAN}-${ADO_TEST_SUFFIX:-dev}
          repository: ${ADO_TEST_EMPTY:-}
        providers:
          claude-code:
            timeout: ${ADO_TEST_TIMEOUT}
            accessModes:
              - mode: subscription
                subscription: {plan: "${ADO_TEST_PLAN}"}
        """,
    )
    config = load_config(cwd=tmp_path).config
    assert config.project.id == "app-max-dev"
    assert config.project.repository == ""
    assert config.providers["claude-code"].timeout == 42
    assert config.providers["claude-code"].access_modes[0].subscription.plan == "max"


def test_unset_variable_names_it_and_its_key(tmp_path: Path) -> None:
    err = error_for(
        tmp_path,
        """\
        version: "1.1"
        storage:
          connectionString: ${ADO_TEST_NOT_SET}
        """,
    )
    assert "ADO_TEST_NOT_SET is not set" in str(err)
    assert (err.line, err.key) == (3, "storage.connectionString")
    assert err.expected and "ADO_TEST_NOT_SET" in err.expected
    assert err.fix and "${ADO_TEST_NOT_SET:-default}" in err.fix


# -- errors -----------------------------------------------------------------------------------


def test_unknown_key_suggests_the_close_one(tmp_path: Path) -> None:
    err = error_for(
        tmp_path,
        """\
        version: "1.1"
        providers:
          claude-code:
            enabled: true
            timout: 30
        """,
    )
    assert (err.line, err.key) == (5, "providers.claude-code.timout")
    assert "unknown key 'timout'" in str(err)
    assert err.expected and "timeout" in err.expected and "accessModes" in err.expected
    assert err.fix == "did you mean 'timeout'?"


def test_unknown_top_level_key_suggests_too(tmp_path: Path) -> None:
    err = error_for(tmp_path, "version: '1.1'\nrouteing:\n  strategy: round-robin\n")
    assert (err.line, err.key, err.fix) == (2, "routeing", "did you mean 'routing'?")


def test_wrong_type_names_expected_and_given(tmp_path: Path) -> None:
    err = error_for(
        tmp_path,
        """\
        routing:
          failover:
            maxRetries: lots
        """,
    )
    assert (err.line, err.key, err.expected) == (3, "routing.failover.maxRetries", "a whole number")
    assert err.fix == "replace 'lots' with a whole number"


def test_bad_enum_lists_the_choices(tmp_path: Path) -> None:
    err = error_for(
        tmp_path,
        """\
        providers:
          codex:
            accessModes:
              - mode: monthly
        """,
    )
    assert (err.line, err.key) == (4, "providers.codex.accessModes[0].mode")
    assert err.expected and "'subscription'" in err.expected and "'api'" in err.expected


@pytest.mark.parametrize("value", ["25:00", "noon", "12:60 UTC"])
def test_bad_reset_time_shows_the_format(tmp_path: Path, value: str) -> None:
    err = error_for(
        tmp_path,
        f"""\
        providers:
          claude-code:
            accessModes:
              - mode: subscription
                subscription:
                  resetTime: "{value}"
        """,
    )
    assert err.line == 6
    assert err.key == "providers.claude-code.accessModes[0].subscription.resetTime"
    assert err.expected and "14:30 UTC" in err.expected
    assert err.fix and value in err.fix


@pytest.mark.parametrize("value", ["00:00 UTC", "14:30 UTC", "7:05", "23:59 utc"])
def test_good_reset_times_load(tmp_path: Path, value: str) -> None:
    write(
        tmp_path / "ado.config.yaml",
        f"providers:\n  codex:\n    accessModes:\n      - mode: subscription\n"
        f'        subscription: {{resetTime: "{value}"}}\n',
    )
    mode = load_config(cwd=tmp_path).config.providers["codex"].access_modes[0]
    assert mode.subscription.reset_time == value


def test_unknown_provider_id_lists_the_known_ones(tmp_path: Path) -> None:
    err = error_for(tmp_path, "version: '1.1'\nproviders:\n  claude:\n    enabled: true\n")
    assert (err.line, err.key) == (3, "providers.claude")
    assert "unknown provider 'claude'" in str(err)
    assert err.expected and all(
        pid in err.expected for pid in ("claude-code", "codex", "gemini-cli", "cursor-agent")
    )
    assert err.fix == "did you mean 'claude-code'?"


def test_yaml_syntax_error_points_at_the_line(tmp_path: Path) -> None:
    err = error_for(tmp_path, "version: '1.1'\nrouting:\n  strategy: [round-robin\n")
    assert "not valid YAML" in str(err)
    assert err.line is not None and err.line >= 3
    assert err.expected and err.fix


@pytest.mark.parametrize(("text", "what"), [("- a\n- b\n", "a list"), ("just text\n", "value")])
def test_top_level_must_be_a_mapping(tmp_path: Path, text: str, what: str) -> None:
    err = error_for(tmp_path, text)
    assert err.line == 1 and "top level must be a mapping" in str(err)
    assert err.expected and what in err.expected
    assert err.fix and "ado init" in err.fix


def test_empty_file_means_defaults(tmp_path: Path) -> None:
    write(tmp_path / "ado.config.yaml", "# nothing yet\n")
    loaded = load_config(cwd=tmp_path)
    assert loaded.path == str(tmp_path / "ado.config.yaml")
    assert loaded.config.routing.strategy == "subscription-first"


def test_error_text_names_file_line_key_expected_and_fix(project: Project) -> None:
    project.config_path.write_text("version: '1.1'\nrouting:\n  stratgy: round-robin\n")
    proc = project.run("config", "validate", check_code=2)
    assert f"{project.config_path}:3: routing.stratgy: unknown key 'stratgy'" in proc.stderr
    assert "expected: one of apiFallback, failover, matching, quota, strategy" in proc.stderr
    assert "fix: did you mean 'strategy'?" in proc.stderr
    assert "Traceback" not in proc.stderr


def test_quota_thresholds_out_of_order_are_refused(project: Project) -> None:
    project.config_path.write_text(
        "version: '1.1'\nrouting:\n  quota:\n    warnAt: 0.97\n    stopAt: 0.95\n"
    )
    proc = project.run("config", "validate", check_code=2)
    assert f"{project.config_path}:5: routing.quota.stopAt:" in proc.stderr
    assert "fix: replace 0.95 with a number ≥ warnAt (0.97), at most 1" in proc.stderr
    assert "Traceback" not in proc.stderr


# -- keys of the TypeScript original ------------------------------------------------------------


def test_original_typescript_keys_are_accepted(tmp_path: Path) -> None:
    write(
        tmp_path / "ado.config.yaml",
        """\
        version: "1.1"
        providers:
          claude-code:
            enabled: true
            capabilities:
              supportsMCP: true
              supportsStreaming: true
              supportsResume: true
            accessModes:
              - mode: subscription
        routing:
          matching:
            preferCapabilityMatch: true
            preferLargerContext: false
            preferFasterProvider: true
        hitl:
          defaultPolicy: review-edits
          approvalTimeout: 24h
          notifications:
            slack: {enabled: true, webhookUrl: "https://hooks.example/x"}
        orchestration:
          maxParallelAgents: 2
          worktreeIsolation: true
          checkpointInterval: 300
        storage:
          driver: sqlite
          rateLimitTracking: true
        observability:
          logging: {level: info}
          telemetry: {enabled: false}
        deployment:
          default: local
          docker: {image: ado:latest}
        notifications:
          email: {enabled: false}
        """,
    )
    config = load_config(cwd=tmp_path).config
    assert config.providers["claude-code"].capabilities.supports_mcp is True
    assert config.routing.matching.prefer_faster_provider is True
    assert config.hitl.default_policy == "review-edits"
    assert config.hitl.notifications.slack.enabled is True
    assert config.notifications.channels.slack.enabled is True  # mapped to the new section
    assert config.notifications.channels.slack.webhook_url.get_secret_value() == (
        "https://hooks.example/x"
    )
    assert config.notifications.channels.email.enabled is False
    assert config.orchestration.model_extra["worktreeIsolation"] is True
    assert config.storage.model_extra["rateLimitTracking"] is True
    assert config.observability.logging.level == "info"
    assert config.deployment["default"] == "local"


def _laughs(levels: int, width: int = 9) -> str:
    lines = ['version: "1.1"', "deployment:", f"  a0: &a0 [{', '.join(['lol'] * width)}]"]
    for i in range(1, levels + 1):
        lines.append(f"  a{i}: &a{i} [{', '.join([f'*a{i - 1}'] * width)}]")
    return "\n".join(lines) + "\n"


@pytest.mark.parametrize("levels", [6, 9, 30])
def test_a_billion_laughs_is_refused_at_once(tmp_path: Path, levels: int) -> None:
    import time

    started = time.monotonic()
    error = error_for(tmp_path, _laughs(levels))
    assert time.monotonic() - started < 5
    assert "expands to more than 100,000 values" in error.message
    assert "alias" in str(error)


def test_a_few_aliases_load(tmp_path: Path) -> None:
    path = write(
        tmp_path / "ado.config.yaml",
        """\
        version: "1.1"
        providers:
          codex:
            enabled: true
            accessModes: &modes
              - mode: subscription
                priority: 1
          claude-code:
            enabled: true
            accessModes: *modes
        deployment:
          small: &s [1, 2, 3]
          twice: [*s, *s]
        """,
    )
    config = load_config(path).config
    assert [m.mode for m in config.providers["claude-code"].access_modes] == ["subscription"]
    assert config.deployment["twice"] == [[1, 2, 3], [1, 2, 3]]
    # Three levels of nine: 7,380 values, an odd file but an ordinary size.
    path = write(tmp_path / "ado.config.yaml", _laughs(3))
    assert len(load_config(path).config.deployment["a3"]) == 9


def test_deep_nesting_is_refused(tmp_path: Path) -> None:
    error = error_for(tmp_path, 'version: "1.1"\ndeployment: ' + "[" * 100 + "]" * 100 + "\n")
    assert "64 levels" in error.message


def test_base_dir_is_the_project_whatever_the_file_is_called(
    tmp_path: Path, isolated_env: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    project = tmp_path / "proj"
    # the project's own file, its .ado/config.yaml, another file named on the command line
    for where, base in (
        (project / "ado.config.yaml", project),
        (project / ".ado" / "config.yaml", project),
        (project / "conf" / "mine.yaml", project / "conf"),
    ):
        write(where, 'version: "1.1"\n')
        assert load_config(where, cwd=tmp_path).base_dir == str(base)
    # the user's own file: relative paths resolve against the working directory
    write(isolated_env / ".config" / "ado" / "config.yaml", 'version: "1.1"\n')
    assert load_config(cwd=project).base_dir == str(project)
    # a relative --config: the paths stay relative to the working directory
    monkeypatch.chdir(project)
    loaded = load_config("ado.config.yaml")
    assert (loaded.path, loaded.base_dir) == ("ado.config.yaml", ".")
    loaded = load_config(".ado/config.yaml")
    assert (loaded.path, loaded.base_dir) == (".ado/config.yaml", ".")
