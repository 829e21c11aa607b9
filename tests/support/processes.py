"""Whether a process, or a whole process group, is gone (read from ``/proc``).

A zombie nobody has reaped yet is gone too: it runs nothing and holds no resources but its
process-table entry.
"""

from __future__ import annotations

import os
from pathlib import Path

_DEAD_STATES = ("Z", "X")  # zombie, dead


def _stat(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state first), or ``None``."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (OSError, IndexError):
        return None


def process_gone(pid: int) -> bool:
    """True once ``pid`` has exited (or is a zombie)."""
    fields = _stat(pid)
    return fields is None or fields[0] in _DEAD_STATES


def group_gone(pgid: int) -> bool:
    """True once no live process is left in process group ``pgid``."""
    for name in os.listdir("/proc"):
        if name.isdigit():
            fields = _stat(int(name))
            if fields and fields[0] not in _DEAD_STATES and int(fields[2]) == pgid:
                return False
    return True
