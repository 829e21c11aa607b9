"""Subprocess plumbing shared by every agent adapter.

Agents run without a shell, with stdin from /dev/null, in their own process group (so a
stop reaches every child they spawn), in the task's working directory, with only the
environment they are given. Output is read in chunks and split into lines here, so a line
of many megabytes or a flood of output is contained rather than fatal.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

__all__ = ["MAX_LINE_BYTES", "AgentProcess", "OutputLine", "SpawnError"]

#: Longest line kept whole; longer lines are cut to this size and flagged ``truncated``.
MAX_LINE_BYTES = 8 * 1024 * 1024
_CHUNK = 256 * 1024
_STDERR_TAIL_LINES = 200
_STDERR_LINE_CHARS = 4096
_QUEUE_CHARS = 4 * 1024 * 1024
#: After the agent exits, how long its output may stay open before its group is killed.
_EXIT_GRACE = 2.0
_EXIT_POLL = 0.1


class SpawnError(Exception):
    """The executable could not be started (missing, not executable, bad cwd)."""

    def __init__(self, message: str, *, not_found: bool) -> None:
        super().__init__(message)
        self.not_found = not_found


@dataclass(slots=True)
class OutputLine:
    stream: Literal["stdout", "stderr"]
    text: str
    truncated: bool = False


class AgentProcess:
    """One agent subprocess: start it, read its lines, stop its whole process group."""

    def __init__(self, argv: Sequence[str], *, cwd: str, env: Mapping[str, str]) -> None:
        self.argv = list(argv)
        self.cwd = cwd
        self.env = dict(env)
        self._proc: asyncio.subprocess.Process | None = None
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._last_output = 0.0
        #: The signal ``stop()`` sent that ended the agent (None: it exited by itself).
        self.stopped_by: signal.Signals | None = None

    @property
    def pid(self) -> int | None:
        return self._proc.pid if self._proc else None

    @property
    def returncode(self) -> int | None:
        return self._proc.returncode if self._proc else None

    @property
    def exit_status(self) -> int | None:
        """What ended the agent: minus the signal ``stop()`` sent when that ended it (an agent
        may exit 0 on SIGINT: a stopped run never reads as a clean exit), else its own exit
        code (negative when a signal from elsewhere killed it)."""
        if self.stopped_by is not None:
            return -int(self.stopped_by)
        return self.returncode

    async def start(self) -> None:
        try:
            self._proc = await asyncio.create_subprocess_exec(
                *self.argv,
                cwd=self.cwd,
                env=self.env,
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
                start_new_session=True,
            )
        except FileNotFoundError as exc:
            missing = exc.filename or self.argv[0]
            if missing == self.cwd or not os.path.isdir(self.cwd):  # noqa: ASYNC240 (error path)
                raise SpawnError(
                    f"working directory {self.cwd} does not exist", not_found=False
                ) from exc
            raise SpawnError(f"{self.argv[0]}: command not found", not_found=True) from exc
        except PermissionError as exc:
            raise SpawnError(f"{self.argv[0]}: permission denied", not_found=False) from exc
        except OSError as exc:
            raise SpawnError(f"{self.argv[0]}: {exc.strerror or exc}", not_found=False) from exc

    async def lines(self) -> AsyncGenerator[OutputLine, None]:
        """Lines from stdout and stderr as they arrive, until both are closed."""
        assert self._proc is not None and self._proc.stdout and self._proc.stderr
        # Lines wait here at most _QUEUE_CHARS at a time (plus one): a reader faster than
        # the parser stops reading the pipe, and the agent waits on its writes.
        queue: asyncio.Queue[OutputLine | None] = asyncio.Queue()
        queued = 0
        room = asyncio.Event()

        async def pump(reader: asyncio.StreamReader, stream: Literal["stdout", "stderr"]) -> None:
            nonlocal queued
            try:
                async for line in _split_lines(reader, stream):
                    if stream == "stderr":
                        self.stderr_tail.append(line.text[:_STDERR_LINE_CHARS])
                    while queued > _QUEUE_CHARS:
                        room.clear()
                        await room.wait()
                    queued += len(line.text) + 1
                    self._last_output = time.monotonic()
                    queue.put_nowait(line)
            finally:
                queue.put_nowait(None)

        # Plain tasks, not a TaskGroup: this generator may be closed at its ``yield``
        # (the run stopped), which a TaskGroup would turn into an exception group.
        pumps = [
            asyncio.create_task(pump(self._proc.stdout, "stdout")),
            asyncio.create_task(pump(self._proc.stderr, "stderr")),
        ]
        reaper = asyncio.create_task(self._close_after_exit(pumps))
        try:
            open_streams = 2
            while open_streams:
                item = await queue.get()
                if item is None:
                    open_streams -= 1
                    continue
                queued -= len(item.text) + 1
                room.set()
                yield item
        finally:
            for task in (*pumps, reaper):
                task.cancel()
            await asyncio.gather(*pumps, reaper, return_exceptions=True)
        for task in pumps:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]  # a read that failed

    async def _close_after_exit(self, pumps: list[asyncio.Task[None]]) -> None:
        """When the agent has exited but something it started still holds its output
        pipes open (a child ignoring SIGTERM, a daemon), the run must not wait for them:
        once they have been quiet for ``_EXIT_GRACE`` the group is killed, and after
        another grace the reading stops.
        (``Process.wait()`` would only return once the pipes close, hence the polling.)"""
        assert self._proc is not None
        while self._proc.returncode is None:  # noqa: ASYNC110 (wait() waits on the pipes)
            await asyncio.sleep(_EXIT_POLL)
        while (quiet := time.monotonic() - self._last_output) < _EXIT_GRACE:  # noqa: ASYNC110
            await asyncio.sleep(_EXIT_GRACE - quiet)  # still writing: let it finish
        self._kill_group(signal.SIGKILL)
        await asyncio.sleep(_EXIT_GRACE)
        for task in pumps:
            task.cancel()  # a process outside the group still holds a pipe

    async def wait(self) -> int:
        assert self._proc is not None
        return await self._proc.wait()

    async def stop(self, grace: float = 3.0) -> None:
        """SIGINT, then SIGTERM, then SIGKILL to the whole process group."""
        proc = self._proc
        if proc is None or proc.returncode is not None:
            self._kill_group(signal.SIGKILL)  # reap stragglers left by a finished leader
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.stopped_by = sig
            self._kill_group(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(proc.wait(), grace)
                self._kill_group(signal.SIGKILL)
                return
        self.stopped_by = signal.SIGKILL
        self._kill_group(signal.SIGKILL)
        await proc.wait()

    def _kill_group(self, sig: signal.Signals) -> None:
        if self._proc is None:
            return
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._proc.pid, sig)


async def _split_lines(
    reader: asyncio.StreamReader, stream: Literal["stdout", "stderr"]
) -> AsyncIterator[OutputLine]:
    buf = bytearray()
    skipping = False  # inside an over-long line, dropping bytes until its newline
    while True:
        chunk = await reader.read(_CHUNK)
        if not chunk:
            break
        start = 0
        while True:
            nl = chunk.find(b"\n", start)
            piece = chunk[start:] if nl < 0 else chunk[start:nl]
            if not skipping:
                room = MAX_LINE_BYTES - len(buf)
                if len(piece) > room:
                    buf += piece[:room]
                    yield OutputLine(stream, _decode(buf), truncated=True)
                    buf.clear()
                    skipping = True
                else:
                    buf += piece
            if nl < 0:
                break
            if skipping:
                skipping = False
            else:
                yield OutputLine(stream, _decode(buf))
                buf.clear()
            start = nl + 1
    if buf and not skipping:
        yield OutputLine(stream, _decode(buf))


def _decode(raw: bytes | bytearray) -> str:
    """A line as text: invalid UTF-8 and NUL become U+FFFD (``ado.providers.sanitize``)."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
