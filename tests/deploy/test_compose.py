"""compose.yaml: valid against the Compose specification, and a stack that starts in order.

No Docker engine here: the file is validated against the specification's JSON schema
(tests/data/compose-spec/) and by Docker Compose itself (``docker-compose config``, which
interpolates ``.env`` and checks references without an engine); the rest are the rules a
``docker compose up`` would only break at run time.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path
from typing import Any

import jsonschema  # type: ignore[import-untyped]
import pytest
from ruamel.yaml import YAML

from tests.deploy.tools import ROOT, tool

COMPOSE = ROOT / "compose.yaml"
SCHEMA = ROOT / "tests/data/compose-spec/compose-spec.json"
ENV_EXAMPLE = ROOT / ".env.example"


def load(path: Path = COMPOSE) -> dict[str, Any]:
    data: dict[str, Any] = YAML(typ="safe").load(path.read_text())
    return data


def schema_errors(document: dict[str, Any]) -> list[str]:
    schema = json.loads(SCHEMA.read_text())
    validator = jsonschema.Draft202012Validator(schema)
    return [
        f"{'.'.join(map(str, error.absolute_path))}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def compose_config(
    env_file: Path, home: Path, file: Path = COMPOSE
) -> subprocess.CompletedProcess[str]:
    """``docker-compose config --quiet``: Compose's own parsing, interpolation and checks."""
    argv = [tool("docker-compose"), "--env-file", str(env_file), "-f", str(file)]
    return subprocess.run(
        [*argv, "--project-directory", str(ROOT), "config", "--quiet"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        env={"HOME": str(home), "PATH": "/usr/bin:/bin"},
        check=False,
    )


def test_compose_file_matches_the_specification_schema() -> None:
    assert schema_errors(load()) == []


def test_the_schema_refuses_a_misspelt_key() -> None:
    document = load()
    document["services"]["ado"]["helthcheck"] = document["services"]["ado"].pop("healthcheck")
    errors = schema_errors(document)
    assert any("helthcheck" in error for error in errors), errors


def test_docker_compose_accepts_it_with_the_example_env(tmp_path: Path) -> None:
    result = compose_config(ENV_EXAMPLE, tmp_path)
    assert result.returncode == 0, result.stderr


def test_docker_compose_names_each_missing_secret(tmp_path: Path) -> None:
    empty = tmp_path / "empty.env"
    empty.write_text("")
    result = compose_config(empty, tmp_path)
    assert result.returncode != 0
    for name in ("POSTGRES_PASSWORD", "REDIS_PASSWORD", "ADO_SECRET_KEY", "GRAFANA_ADMIN_PASSWORD"):
        assert f"set {name} in .env" in result.stderr


def test_docker_compose_refuses_a_service_depending_on_an_unknown_one(tmp_path: Path) -> None:
    broken = tmp_path / "compose.yaml"
    document = load()
    document["services"]["ado"]["depends_on"]["postgress"] = {"condition": "service_healthy"}
    broken.write_text(json.dumps(document))  # JSON is YAML
    result = compose_config(ENV_EXAMPLE, tmp_path, broken)
    assert result.returncode != 0
    assert "postgress" in result.stderr


def test_the_stack_has_every_service_of_the_issue() -> None:
    services = load()["services"]
    assert set(services) == {
        "ado",
        "ado-worker",
        "postgres",
        "redis",
        "jaeger",
        "prometheus",
        "grafana",
    }
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["redis"]["image"].startswith("redis:7")
    assert services["ado"]["command"][:2] == ["ado", "serve"]
    assert services["ado-worker"]["command"][:2] == ["ado", "worker"]
    # Scalable: nothing pins one container (a name or a published port would clash).
    assert "container_name" not in services["ado-worker"]
    assert "ports" not in services["ado-worker"]


def test_each_dependency_waits_for_a_healthy_service() -> None:
    services = load()["services"]
    # The workers serve nothing to probe and nothing waits for them.
    assert set(services) - {name for name in services if "healthcheck" in services[name]} == {
        "ado-worker"
    }
    for name, service in services.items():
        assert service["deploy"]["resources"]["limits"]["memory"], name
        for target, condition in service.get("depends_on", {}).items():
            assert condition == {"condition": "service_healthy"}, (name, target)
            assert "healthcheck" in services[target], (name, target)


def test_mounted_files_exist_and_volumes_are_declared() -> None:
    document = load()
    declared = set(document["volumes"])
    for name, service in document["services"].items():
        for volume in service.get("volumes", []):
            source = volume.split(":", 1)[0]
            if source.startswith("./") and "$" not in source:
                assert (ROOT / source).exists(), f"{name} mounts {source}, which is missing"
            elif not source.startswith(("$", "~", "/", ".")):
                assert source in declared, f"{name} uses the undeclared volume {source}"
    for config in document["configs"].values():
        assert (ROOT / config["file"]).is_file()


def test_no_secret_is_written_in_the_file_and_the_example_covers_each_one() -> None:
    text = COMPOSE.read_text()
    required = set(re.findall(r"\$\{([A-Z_]+):\?", text))
    assert {"POSTGRES_PASSWORD", "REDIS_PASSWORD", "ADO_SECRET_KEY"} <= required
    example = dict(
        line.split("=", 1)
        for line in ENV_EXAMPLE.read_text().splitlines()
        if line and not line.startswith("#")
    )
    assert required <= set(example), required - set(example)
    # Placeholders only: nothing in the example works as a real secret.
    assert all(value.startswith("change-me") for value in example.values()), example
    for service in load()["services"].values():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if re.search(r"PASSWORD|SECRET|_KEY$|AUTH", key):
                assert str(value).startswith("${"), f"{key} is written in compose.yaml"


def test_prometheus_and_grafana_use_the_deploy_files() -> None:
    prometheus = YAML(typ="safe").load((ROOT / "deploy/prometheus/prometheus.yml").read_text())
    targets = prometheus["scrape_configs"][0]["static_configs"][0]["targets"]
    assert targets == ["ado:8080"]
    assert load()["services"]["ado"]["ports"][0].endswith(":8080")
    provisioning = ROOT / "deploy/grafana/provisioning"
    datasource = YAML(typ="safe").load((provisioning / "datasources/prometheus.yaml").read_text())
    assert datasource["datasources"][0]["url"] == "http://prometheus:9090"
    dashboards = YAML(typ="safe").load((provisioning / "dashboards/ado.yaml").read_text())
    path = dashboards["providers"][0]["options"]["path"]
    mounts = load()["services"]["grafana"]["volumes"]
    assert f"./deploy/grafana/ado-dashboard.json:{path}/ado-dashboard.json:ro" in mounts


def test_the_stack_configuration_is_a_valid_ado_config() -> None:
    from ado.config.schema import AdoConfig, OrchestrationConfig

    if "executor" not in OrchestrationConfig.model_fields:
        pytest.skip("orchestration.executor comes with the Celery executor (issue 12)")
    config = YAML(typ="safe").load((ROOT / "deploy/compose/ado.config.yaml").read_text())
    AdoConfig.model_validate(config)
