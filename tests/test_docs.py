"""The CLI and configuration references are generated from the code and must not drift."""

from __future__ import annotations

import importlib.util
import re
import sys
from pathlib import Path
from types import ModuleType

import click
import pytest

from ado.config import load_config

ROOT = Path(__file__).resolve().parent.parent
FIX = "run `python scripts/gen_docs.py` and commit the result"


def _gen_docs() -> ModuleType:
    spec = importlib.util.spec_from_file_location("gen_docs", ROOT / "scripts" / "gen_docs.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("gen_docs", module)
    spec.loader.exec_module(module)
    return module


gen_docs = _gen_docs()


@pytest.mark.parametrize("name", ["cli.md", "configuration.md"])
def test_committed_docs_match_the_code(name: str) -> None:
    path = ROOT / "docs" / name
    expected = gen_docs.outputs()[path]
    assert path.read_text(encoding="utf-8") == expected, f"docs/{name} is stale: {FIX}"


def test_check_mode_reports_no_drift(capsys: pytest.CaptureFixture[str]) -> None:
    assert gen_docs.main(["--check"]) == 0, capsys.readouterr().out


def test_every_command_and_option_is_documented() -> None:
    from ado.cli import cli

    text = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    root = click.Context(cli, info_name="ado")
    seen = 0
    for command, ctx in gen_docs._commands(cli, root):
        section = text.split(f"\n## {ctx.command_path}\n", 1)
        assert len(section) == 2, f"`{ctx.command_path}` is not documented: {FIX}"
        body = section[1].split("\n## ", 1)[0]
        for param in command.params:
            for opt in param.opts if isinstance(param, click.Option) else []:
                assert f"`{opt}`" in body, f"{ctx.command_path} {opt} is not documented: {FIX}"
        seen += 1
    assert seen >= 14  # ado, 7 commands, and the subcommands of config/providers/tasks


def test_every_config_key_is_documented_with_a_description() -> None:
    from ado.config.schema import AdoConfig

    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    reference = text.split(gen_docs.START, 1)[1]
    for path, model in gen_docs._sections(AdoConfig, ""):
        title = f"### `{path}`" if path else "### Top level"
        assert title in reference, f"{path} has no section: {FIX}"
        for name, field in model.model_fields.items():
            assert field.description, f"{model.__name__}.{name} needs Field(description=...)"
            key = field.alias or name
            assert f"| `{key}` |" in reference, f"{path}.{key} is not documented: {FIX}"


@pytest.mark.parametrize(
    ("key", "unit"),
    [
        ("timeout", "Seconds"),
        ("retryDelay", "Milliseconds"),
        ("maxDuration", "Seconds"),
        ("resetTime", "HH:MM UTC"),
    ],
)
def test_units_are_documented(key: str, unit: str) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    rows = [line for line in text.splitlines() if line.startswith(f"| `{key}` |")]
    assert rows and all(unit in row for row in rows), rows


def test_the_example_configuration_is_valid(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    text = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    example = re.search(r"```yaml\n(.*?)```", text, re.DOTALL)
    assert example is not None, "docs/configuration.md lost its example"
    monkeypatch.setenv("ANTHROPIC_API_KEY", "sk-ant-example")
    path = tmp_path / "ado.config.yaml"
    path.write_text(example.group(1), encoding="utf-8")
    config = load_config(path).config
    assert config.providers["claude-code"].access_modes[1].api.api_key.get_secret_value() == (
        "sk-ant-example"
    )
    assert config.routing.failover.retry_delay == 500


def test_the_readme_command_table_matches_the_cli() -> None:
    from ado.cli import COMMANDS

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in COMMANDS:
        assert f"| `ado {name}" in readme, f"README's command table lacks `ado {name}`"
