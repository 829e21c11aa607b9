"""``ado.providers.spawn.which`` finds an agent on PATH as ``shutil.which`` does (it exists so
that ``ado run`` need not import ``shutil`` before its spawn)."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

from ado.providers.spawn import which


def _exe(path: Path, mode: int = 0o755) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(mode)
    return path


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[Path]:
    names = ["a", "b", "c"]
    found = [tmp_path / n for n in names]
    for d in found:
        d.mkdir()
    monkeypatch.setenv("PATH", os.pathsep.join(map(str, found)))
    return found


def test_the_first_executable_on_path_wins(dirs: list[Path]) -> None:
    _exe(dirs[1] / "agent")
    _exe(dirs[2] / "agent")
    assert which("agent") == str(dirs[1] / "agent") == shutil.which("agent")


@pytest.mark.parametrize(
    "shadow",
    ["not executable", "a directory", "a dangling symlink"],
)
def test_what_only_looks_like_the_agent_is_passed_over(dirs: list[Path], shadow: str) -> None:
    first = dirs[0] / "agent"
    if shadow == "not executable":
        _exe(first, 0o644)
    elif shadow == "a directory":
        first.mkdir()
    else:
        first.symlink_to(dirs[0] / "gone")
    _exe(dirs[2] / "agent")
    assert which("agent") == str(dirs[2] / "agent") == shutil.which("agent")


def test_a_symlink_to_an_executable_is_found_as_the_link(dirs: list[Path]) -> None:
    target = _exe(dirs[2] / "real-agent")
    (dirs[0] / "agent").symlink_to(target)
    assert which("agent") == str(dirs[0] / "agent") == shutil.which("agent")


def test_nothing_found(dirs: list[Path]) -> None:
    assert which("agent") is None is shutil.which("agent")


@pytest.mark.parametrize("path", ["", os.pathsep, "/nonexistent" + os.pathsep * 2])
def test_an_empty_or_odd_path_finds_nothing_it_should_not(
    path: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("PATH", path)
    assert which("agent") is None is shutil.which("agent")
