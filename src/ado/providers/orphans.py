"""Stopping what a dead ADO process left running: its agents' process groups.

ADO starts each agent as the leader of a new session and process group (``setsid``), and
gives it ``ADO_AGENT_GROUP=<random mark>`` in its environment, which every child inherits;
the store keeps the agent's pid (= the group id) and the mark with the attempt.

At the next start the group must go even when its leader has already exited (a child that
ignores SIGTERM, reparented to init, still sits in the group). A pid is only a number,
though: once every member of the group has exited, the kernel may hand it to an unrelated
process. So the group is killed only when one of its current members carries the mark in
``/proc/<pid>/environ``. While any member exists the group id cannot be reused (Linux keeps
a pid allocated while it names a live group), so one marked member proves the whole group
is the one ADO started, including children that were given an environment of their own.

Why a mark and not the leader's start time: the start time proves nothing once the leader
is gone, which is exactly the case to handle. Attempts stored before marks existed fall
back to the old rule: the leader must be alive and lead its own session.
"""

from __future__ import annotations

import contextlib
import os
import signal

__all__ = ["GROUP_MARK_ENV", "group_members", "kill_orphaned_group"]

GROUP_MARK_ENV = "ADO_AGENT_GROUP"
_PROC = "/proc"


def kill_orphaned_group(pgid: int, mark: str | None) -> bool:
    """SIGKILL the process group ``pgid`` if it is still the one ADO started (see above);
    whether it was signalled."""
    if pgid <= 1:
        return False
    members = group_members(pgid)
    if not members:
        return False
    if mark is None:
        owned = _stat(pgid, alive_only=True) == (pgid, pgid)
    else:
        needle = f"\0{GROUP_MARK_ENV}={mark}\0".encode()
        owned = any(needle in _environ(pid) for pid in members)
    if owned:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, signal.SIGKILL)
    return owned


def group_members(pgid: int) -> list[int]:
    """The pids whose process group is ``pgid`` (zombies excluded), from /proc."""
    found = []
    try:
        entries = os.listdir(_PROC)
    except OSError:
        return []
    for name in entries:
        if name.isdigit():
            stat = _stat(int(name), alive_only=True)
            if stat is not None and stat[0] == pgid:
                found.append(int(name))
    return found


def _stat(pid: int, *, alive_only: bool = False) -> tuple[int, int] | None:
    """(process group, session) of ``pid``; None when it is gone (or a zombie, if asked)."""
    try:
        fields = _read(f"{_PROC}/{pid}/stat").decode().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None
    if alive_only and fields[0] in ("Z", "X"):
        return None
    return int(fields[2]), int(fields[3])


def _environ(pid: int) -> bytes:
    try:
        return b"\0" + _read(f"{_PROC}/{pid}/environ") + b"\0"
    except OSError:
        return b""


def _read(path: str) -> bytes:
    with open(path, "rb") as f:
        return f.read()
