"""Killing an orphaned agent's process group (``ado.providers.orphans``), real processes."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator

import pytest

from ado.providers.orphans import GROUP_MARK_ENV, group_members, kill_orphaned_group
from tests.support import poll_until, process_gone

CHILD = (
    "import signal, time\n"
    "for s in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):\n"
    "    signal.signal(s, signal.SIG_IGN)\n"
    "time.sleep(600)\n"
)


def leader(
    *, mark: str | None, leader_exits: bool, scrub_child_env: bool = False
) -> tuple[int, int]:
    """A session leader (as ADO starts agents) with a SIGTERM-ignoring child: their pids."""
    env = {"PATH": os.environ.get("PATH", "")}
    if mark is not None:
        env[GROUP_MARK_ENV] = mark
    code = (
        "import subprocess, sys, time\n"
        f"env = {{}} if {scrub_child_env} else None\n"
        f"child = subprocess.Popen([sys.executable, '-c', {CHILD!r}], env=env)\n"
        "print(child.pid, flush=True)\n"
        f"time.sleep(0 if {leader_exits} else 600)\n"
    )
    proc = subprocess.Popen(
        [sys.executable, "-c", code], start_new_session=True, stdout=subprocess.PIPE, env=env
    )
    assert proc.stdout is not None
    child = int(proc.stdout.readline())
    proc.stdout.close()
    if leader_exits:
        proc.wait()
    _leaders.append(proc)
    _children.append(child)
    return proc.pid, child


_leaders: list[subprocess.Popen[bytes]] = []
_children: list[int] = []


@pytest.fixture(autouse=True)
def _cleanup() -> Iterator[None]:
    yield
    for pid in _children:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    for proc in _leaders:
        proc.kill()
        proc.wait()
    _children.clear()
    _leaders.clear()


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether ``pid`` is gone within ``within`` seconds."""
    return bool(poll_until(lambda: process_gone(pid), within))


def test_the_group_is_killed_when_its_leader_is_already_gone() -> None:
    pgid, child = leader(mark="m1", leader_exits=True)
    assert group_members(pgid) == [child]
    assert kill_orphaned_group(pgid, "m1")
    assert gone(child)


def test_the_group_is_killed_when_its_leader_is_alive() -> None:
    pgid, child = leader(mark="m2", leader_exits=False)
    assert kill_orphaned_group(pgid, "m2")
    assert gone(child) and gone(pgid)


def test_a_member_with_its_own_environment_goes_with_a_marked_group() -> None:
    pgid, child = leader(mark="m3", leader_exits=False, scrub_child_env=True)
    assert kill_orphaned_group(pgid, "m3")
    assert gone(child)


def test_a_reused_pid_without_the_mark_is_left_alone() -> None:
    pgid, child = leader(mark=None, leader_exits=False)  # an unrelated session leader
    assert not kill_orphaned_group(pgid, "m4")
    assert not gone(child, within=0.3) and not gone(pgid, within=0.1)


def test_another_attempts_mark_is_not_enough() -> None:
    pgid, child = leader(mark="other-attempt", leader_exits=True)
    assert not kill_orphaned_group(pgid, "m5")
    assert not gone(child, within=0.3)


def test_attempts_stored_without_a_mark_need_a_live_session_leader() -> None:
    pgid, child = leader(mark=None, leader_exits=False)
    assert kill_orphaned_group(pgid, None)
    assert gone(child)
    pgid, child = leader(mark=None, leader_exits=True)
    assert not kill_orphaned_group(pgid, None)  # nothing proves whose group it is
    assert not gone(child, within=0.3)


def test_nothing_left_means_nothing_to_do() -> None:
    pgid, child = leader(mark="m6", leader_exits=True)
    os.kill(child, signal.SIGKILL)
    assert gone(child)
    assert not kill_orphaned_group(pgid, "m6")
    assert not kill_orphaned_group(1, "m6") and not kill_orphaned_group(0, None)
