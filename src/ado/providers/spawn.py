"""Starting an agent's process: the one spawn, synchronous, with nothing of asyncio.

    popen = spawn(argv, cwd=request.cwd, env=env)   # SpawnError when it cannot start

Agents run without a shell, with stdin from /dev/null, their output on pipes, in their own
process group (so a stop reaches every child they spawn), in the task's working directory,
with only the environment they are given. ``ado run`` spawns its first agent before the
event loop exists (``ado.orchestrator.start``); ``ado.providers.process.AgentProcess`` then
reads the pipes in the loop. ``asyncio.create_subprocess_exec`` calls the same
``subprocess.Popen`` on the loop's thread, so a spawn costs the loop no more than before.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence

from ado.records import Record

__all__ = ["SpawnError", "Spawned", "spawn", "which"]


def which(name: str) -> str | None:
    """Where ``name`` is found on ``PATH``, as ``shutil.which`` finds it on POSIX (the first
    directory holding an executable file of that name). Importing ``shutil`` loads the zlib,
    bz2 and lzma libraries (~4 ms), which ``ado run`` has no use for before its spawn."""
    seen = set()
    for directory in os.get_exec_path():
        if directory in seen:
            continue
        seen.add(directory)
        path = os.path.join(directory, name)
        if os.access(path, os.X_OK) and os.path.isfile(path):
            return path
    return None


class SpawnError(Exception):
    """The executable could not be started (missing, not executable, bad cwd)."""

    def __init__(self, message: str, *, not_found: bool) -> None:
        super().__init__(message)
        self.not_found = not_found


class Spawned(Record):
    """An attempt's agent, started (``AgentAdapter.start``): its process, or why it could
    not start; the environment it got; when it started (its timeout counts from then)."""

    __slots__ = ("env", "process", "error", "started", "pid")

    def __init__(
        self,
        env: dict[str, str],
        process: subprocess.Popen[bytes] | None = None,
        error: SpawnError | None = None,
        started: float = 0.0,
        pid: int | None = None,
    ) -> None:
        self.env = env
        self.process = process
        self.error = error
        #: ``time.monotonic()`` at the spawn.
        self.started = started
        #: The process id to record (a scripted agent in tests has one and no process).
        self.pid = pid

    @classmethod
    def of(cls, env: dict[str, str], process: subprocess.Popen[bytes]) -> Spawned:
        """``process``, started just now."""
        return cls(env, process, started=time.monotonic(), pid=process.pid)

    @classmethod
    def failed(cls, env: dict[str, str], error: SpawnError) -> Spawned:
        return cls(env, error=error, started=time.monotonic())

    def abandon(self) -> None:
        """Kill the agent's whole process group, reap it and close its pipes: for an agent
        that no runner will adopt (its start could not be recorded)."""
        if self.pid is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.pid, signal.SIGKILL)
        if self.process is not None:
            self.process.wait()
            for pipe in (self.process.stdout, self.process.stderr):
                if pipe is not None:
                    pipe.close()


def spawn(argv: Sequence[str], *, cwd: str, env: Mapping[str, str]) -> subprocess.Popen[bytes]:
    """Start ``argv`` as an agent: no shell, own session, stdout and stderr on pipes."""
    try:
        return subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
    except FileNotFoundError as exc:
        missing = exc.filename or argv[0]
        if missing == cwd or not os.path.isdir(cwd):
            raise SpawnError(f"working directory {cwd} does not exist", not_found=False) from exc
        raise SpawnError(f"{argv[0]}: command not found", not_found=True) from exc
    except PermissionError as exc:
        raise SpawnError(f"{argv[0]}: permission denied", not_found=False) from exc
    except OSError as exc:
        raise SpawnError(f"{argv[0]}: {exc.strerror or exc}", not_found=False) from exc
