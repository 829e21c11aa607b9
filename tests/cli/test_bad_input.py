"""Bad input on the command line (issue 10, "Bad input"): huge task ids, a corrupt store,
prompts over the size limit. Each exits 2 with a message and the fix, never a traceback,
and stores nothing."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from ado.text import MAX_ARG_BYTES
from tests.fixtures.ado import Project

BIG = 2**63


def _clean_exit_2(proc: subprocess.CompletedProcess[str], *words: str) -> None:
    assert proc.returncode == 2, (proc.returncode, proc.stdout, proc.stderr)
    assert "Traceback" not in proc.stderr + proc.stdout, proc.stderr
    for word in words:
        assert word in proc.stderr, proc.stderr


@pytest.mark.parametrize(
    "value", [str(BIG), str(10**30), "0", "1.5", "٣", "1e3", "0x10", "1_000", " 7"]
)
def test_tasks_show_and_cancel_refuse_what_is_not_a_task_id(project: Project, value: str) -> None:
    for command in ("show", "cancel"):
        proc = project.run("tasks", command, "--", value)
        _clean_exit_2(proc, "is not a task id")


def test_the_largest_task_id_is_just_not_found(project: Project) -> None:
    for command in ("show", "cancel"):
        _clean_exit_2(project.run("tasks", command, str(BIG - 1)), "no task")
    _clean_exit_2(project.run("tasks", "show", "--", "-1"))  # an option, or not an id


@pytest.mark.parametrize("value", [str(BIG), str(BIG - 1), "٣"])
def test_run_resume_with_a_huge_or_foreign_id_stores_nothing(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], value: str
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    proc = project.run("run", "--resume", value, "go on")
    _clean_exit_2(proc, "--resume")
    assert project.store().list_tasks() == []


def _corrupt(path: Path, kind: str, good: bytes) -> None:
    for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if leftover.is_dir():
            leftover.rmdir()
        elif leftover.exists():
            leftover.unlink()
    if kind == "directory":
        path.mkdir()
    elif kind == "garbage":
        path.write_bytes(os.urandom(8192))
    elif kind == "truncated":
        path.write_bytes(good[: len(good) // 2])
    elif kind == "header only":
        path.write_bytes(good[:100])


@pytest.mark.parametrize("kind", ["garbage", "truncated", "header only", "directory"])
def test_a_corrupt_store_exits_2_with_the_fix(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], kind: str
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    project.run("run", "fill the store", check_code=0)
    db = project.root / ".ado" / "state.db"
    store = project.store()
    store.close()
    _corrupt(db, kind, db.read_bytes())
    for args in (("status",), ("tasks", "list"), ("run", "again"), ("serve", "--port", "1")):
        proc = project.run(*args, timeout=60)
        _clean_exit_2(proc, str(db), "mv ", "not a usable SQLite database")


def test_an_empty_store_file_is_a_new_store(project: Project) -> None:
    """Zero bytes hold no data: SQLite reads them as an empty database, which ADO sets up
    (nothing to lose, nothing to move aside)."""
    project.write_config({})
    (project.root / ".ado").mkdir()
    (project.root / ".ado" / "state.db").write_bytes(b"")
    project.run("status", check_code=0)
    project.run("tasks", "list", check_code=0)


def test_a_prompt_over_the_limit_is_refused_before_anything_runs(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    over = "é" * ((MAX_ARG_BYTES + 1) // 2)
    # Through stdin (``-``): argv itself could not carry it to ado either.
    proc = subprocess.run(
        project.ado_argv("run", "-"),
        cwd=project.root,
        input=over,
        capture_output=True,
        text=True,
        timeout=120,
    )
    _clean_exit_2(proc, "131,072 bytes", "131,071")
    assert project.store().list_tasks() == []
    longest = "x" * MAX_ARG_BYTES
    proc = subprocess.run(
        project.ado_argv("run", "--json", "-"),
        cwd=project.root,
        input=longest,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr  # the agent received it whole
    task = project.store().list_tasks()[0]
    assert project.task(task.id).prompt == longest


def test_ado_text_stays_light() -> None:
    """``ado.text`` is imported by ``ado run`` before anything heavy: keep it light."""
    code = (
        "import sys, ado.text; "
        "print(sorted(m for m in ('pydantic', 'sqlalchemy') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


def test_a_prompt_that_is_not_utf8_is_refused(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    argv = [os.fsencode(a) for a in project.ado_argv("run")] + [b"bad \xff byte"]
    by_argv = subprocess.run(argv, cwd=project.root, capture_output=True, timeout=120)
    by_stdin = subprocess.run(
        project.ado_argv("run", "-"),
        cwd=project.root,
        input=b"bad \xff byte",
        capture_output=True,
        timeout=120,
    )
    for proc in (by_argv, by_stdin):
        stderr = proc.stderr.decode(errors="replace")
        assert proc.returncode == 2, stderr
        assert "not valid UTF-8" in stderr and "Traceback" not in stderr
    assert project.store().list_tasks() == []
