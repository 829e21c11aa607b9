"""This machine's name, as the store records who owns a task, an attempt or a pool.

``os.uname().nodename`` is what ``socket.gethostname()`` returns on POSIX (glibc reads it
from ``uname``), without loading the socket module: ``ado run`` records its task's owner
before it spawns the agent, where every module loaded costs start-up time.
"""

from __future__ import annotations

import os

__all__ = ["hostname"]


def hostname() -> str:
    return os.uname().nodename
