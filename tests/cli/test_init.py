"""``ado init`` with a PATH holding stub agent executables written by the test."""

from __future__ import annotations

from pathlib import Path

import pytest

from ado.config import load_config
from tests.fixtures.ado import Project

#: executable name → provider id
STUBS = {
    "claude": "claude-code",
    "codex": "codex",
    "gemini": "gemini-cli",
    "opencode": "opencode",
    "copilot": "copilot",
}
CONTEXT_FILES = {
    "claude-code": "CLAUDE.md",
    "codex": "AGENTS.md",
    "opencode": "AGENTS.md",
    "gemini-cli": "GEMINI.md",
    "copilot": ".github/copilot-instructions.md",
}
DESCRIPTION = "Payroll service: *Go* backend, `make test` runs everything; 100% €-safe."


def fake_path(tmp_path: Path, names: list[str]) -> dict[str, str]:
    """An environment whose PATH holds only stubs answering ``--version``."""
    bin_dir = tmp_path / "fake-bin"
    bin_dir.mkdir(exist_ok=True)
    for i, name in enumerate(names):
        stub = bin_dir / name
        stub.write_text(f'#!/bin/sh\necho "{name} 1.{i}.0"\n')
        stub.chmod(0o755)
    return {"PATH": str(bin_dir)}


def run_init(project: Project, env: dict[str, str], *args: str, code: int = 0) -> str:
    proc = project.run("init", "-y", *args, env=env, check_code=code)
    return proc.stdout + proc.stderr


def test_enables_exactly_the_agents_found_and_writes_their_context_files(
    project: Project, tmp_path: Path
) -> None:
    env = fake_path(tmp_path, list(STUBS))
    out = run_init(project, env, "--description", DESCRIPTION)
    config = load_config(project.config_path).config
    enabled = {pid for pid, p in config.providers.items() if p.enabled}
    assert enabled == set(STUBS.values())
    assert config.providers["cursor-agent"].enabled is False
    assert "5 agent(s) enabled" in out
    for pid in STUBS.values():
        assert f"{pid:<13} 1." in out  # the version each stub printed

    texts = {rel: (project.root / rel).read_text() for rel in set(CONTEXT_FILES.values())}
    assert len(set(texts.values())) == 1  # one description, everywhere
    assert DESCRIPTION in texts["CLAUDE.md"]  # verbatim
    assert out.count("AGENTS.md") == 1  # written once for codex and opencode
    assert not (project.root / ".cursorrules").exists()
    validate = project.run("config", "validate", check_code=0)
    assert "providers enabled: claude-code, codex, gemini-cli, copilot, opencode" in (
        validate.stdout
    )


def test_only_found_agents_get_context_files(project: Project, tmp_path: Path) -> None:
    env = fake_path(tmp_path, ["claude", "gemini"])
    run_init(project, env, "--description", DESCRIPTION)
    config = load_config(project.config_path).config
    assert {pid for pid, p in config.providers.items() if p.enabled} == {
        "claude-code",
        "gemini-cli",
    }
    # every known agent is listed, the missing ones disabled, in routing order
    assert list(config.providers)[:3] == ["claude-code", "codex", "gemini-cli"]
    priorities = [p.access_modes[0].priority for p in config.providers.values()]
    assert priorities == sorted(priorities)
    assert sorted(p.name for p in project.root.iterdir()) == [
        "CLAUDE.md",
        "GEMINI.md",
        "ado.config.yaml",
    ]


def test_existing_context_files_are_kept(project: Project, tmp_path: Path) -> None:
    env = fake_path(tmp_path, ["claude", "codex"])
    (project.root / "CLAUDE.md").write_text("# hand written\n")
    out = run_init(project, env, "--description", DESCRIPTION)
    assert (project.root / "CLAUDE.md").read_text() == "# hand written\n"
    assert DESCRIPTION in (project.root / "AGENTS.md").read_text()
    assert "CLAUDE.md" not in out


def test_refuses_to_overwrite_the_config_without_force(project: Project, tmp_path: Path) -> None:
    env = fake_path(tmp_path, ["codex"])
    project.config_path.write_text("# mine\nversion: '1.1'\n")
    out = run_init(project, env, code=2)
    assert "already exists" in out and "-f" in out
    assert project.config_path.read_text() == "# mine\nversion: '1.1'\n"
    assert not (project.root / "AGENTS.md").exists()

    run_init(project, env, "-f", "--description", DESCRIPTION)
    assert load_config(project.config_path).config.providers["codex"].enabled is True


def test_description_defaults_to_the_readme(project: Project, tmp_path: Path) -> None:
    env = fake_path(tmp_path, ["claude"])
    (project.root / "README.md").write_text(
        "# Payroll\n\n[![badge](x)](y)\n\nComputes payslips\nfor small shops.\n\nMore.\n"
    )
    run_init(project, env)
    assert "Computes payslips for small shops." in (project.root / "CLAUDE.md").read_text()


def test_no_agent_found_writes_a_config_with_none_enabled(project: Project, tmp_path: Path) -> None:
    out = run_init(project, fake_path(tmp_path, []), "--description", DESCRIPTION)
    assert "No agent enabled" in out
    config = load_config(project.config_path).config
    assert not any(p.enabled for p in config.providers.values())
    assert sorted(p.name for p in project.root.iterdir()) == ["ado.config.yaml"]


@pytest.mark.parametrize("name", ["2024", "yes", "null", "a: b"])
def test_awkward_directory_names_still_give_a_valid_config(tmp_path: Path, name: str) -> None:
    root = tmp_path / name
    root.mkdir()
    project = Project(root)
    run_init(project, fake_path(tmp_path, ["codex"]), "--description", DESCRIPTION)
    assert load_config(project.config_path).config.project.id == name
