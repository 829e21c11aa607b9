"""Reading a running agent: its output in chunks split into lines, its exit, its stop.

The agent is started by ``ado.providers.spawn`` (synchronously: ``ado run`` spawns before the
event loop exists); ``AgentProcess`` adopts that ``subprocess.Popen`` in the loop. Output is
read in chunks and split into lines here, so a line of many megabytes or a flood of output
is contained rather than fatal. A stop reaches the agent's whole process group.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections import deque
from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import IO, Literal

__all__ = ["MAX_LINE_BYTES", "AgentProcess", "OutputLine"]

#: Longest line kept whole; longer lines are cut to this size and flagged ``truncated``.
MAX_LINE_BYTES = 8 * 1024 * 1024
_CHUNK = 256 * 1024
_STDERR_TAIL_LINES = 200
_STDERR_LINE_CHARS = 4096
_QUEUE_CHARS = 4 * 1024 * 1024
#: Lines handed to the parser at once, at most about this much (one line, if longer): the
#: room they take is freed, and the stop and the deadline looked at, after each batch.
_BATCH_CHARS = 256 * 1024
#: After the agent exits, how long its output may stay open before its group is killed.
_EXIT_GRACE = 2.0
_EXIT_POLL = 0.1


@dataclass(slots=True)
class OutputLine:
    stream: Literal["stdout", "stderr"]
    text: str
    truncated: bool = False


class AgentProcess:
    """One running agent (a ``subprocess.Popen`` from ``ado.providers.spawn``): read its
    lines, wait for its exit, stop its whole process group."""

    def __init__(self, popen: subprocess.Popen[bytes]) -> None:
        self._popen = popen
        self.stderr_tail: deque[str] = deque(maxlen=_STDERR_TAIL_LINES)
        self._last_output = 0.0
        self._held = 0  # readers waiting for the parser to catch up
        self._exit: asyncio.Future[int] | None = None
        #: The signal ``stop()`` sent that ended the agent (None: it exited by itself).
        self.stopped_by: signal.Signals | None = None

    @property
    def pid(self) -> int:
        return self._popen.pid

    @property
    def returncode(self) -> int | None:
        return self._popen.returncode

    @property
    def exit_status(self) -> int | None:
        """What ended the agent: minus the signal ``stop()`` sent when that ended it (an agent
        may exit 0 on SIGINT: a stopped run never reads as a clean exit), else its own exit
        code (negative when a signal from elsewhere killed it)."""
        if self.stopped_by is not None:
            return -int(self.stopped_by)
        return self.returncode

    async def batches(self) -> AsyncGenerator[list[OutputLine], None]:
        """Lines from stdout and stderr as they arrive, until both are closed: each time,
        every line read and not yet taken, in order (one wake-up for many lines)."""
        popen = self._popen
        assert popen.stdout is not None and popen.stderr is not None
        loop = asyncio.get_running_loop()
        # Lines wait here, or in the batch being parsed, at most _QUEUE_CHARS at a time
        # (plus one): a reader faster than the parser stops reading the pipe, and the
        # agent waits on its writes.
        pending: list[OutputLine] = []
        queued = 0
        open_streams = 2
        ready = asyncio.Event()  # lines pending, or a stream closed
        room = asyncio.Event()

        async def pump(reader: asyncio.StreamReader, stream: Literal["stdout", "stderr"]) -> None:
            nonlocal queued, open_streams
            splitter = _LineSplitter(stream)
            try:
                while chunk := await reader.read(_CHUNK):
                    self._last_output = time.monotonic()
                    for line in splitter.feed(chunk):
                        if stream == "stderr":
                            self.stderr_tail.append(line.text[:_STDERR_LINE_CHARS])
                        while queued > _QUEUE_CHARS:
                            ready.set()
                            room.clear()
                            self._held += 1
                            try:
                                await room.wait()
                            finally:
                                self._held -= 1
                                self._last_output = time.monotonic()
                        queued += len(line.text) + 1
                        pending.append(line)
                    ready.set()
                for line in splitter.end():
                    queued += len(line.text) + 1
                    pending.append(line)
            finally:
                open_streams -= 1
                ready.set()

        # Plain tasks, not a TaskGroup: this generator may be closed at its ``yield``
        # (the run stopped), which a TaskGroup would turn into an exception group.
        readers = [await _reader(loop, popen.stdout), await _reader(loop, popen.stderr)]
        pumps = [
            asyncio.create_task(pump(readers[0][0], "stdout")),
            asyncio.create_task(pump(readers[1][0], "stderr")),
        ]
        reaper = asyncio.create_task(self._close_after_exit(pumps))
        try:
            while pending or open_streams:
                if not pending:
                    ready.clear()
                    await ready.wait()
                    continue
                size, end = 0, 0
                while end < len(pending) and (size < _BATCH_CHARS or not end):
                    size += len(pending[end].text) + 1
                    end += 1
                batch = pending[:end]
                del pending[:end]
                yield batch
                # parsed: its room is free (only now, so the bound holds while it is parsed)
                queued -= size
                room.set()
        finally:
            for task in (*pumps, reaper):
                task.cancel()
            await asyncio.gather(*pumps, reaper, return_exceptions=True)
            for _, transport in readers:
                transport.close()
        for task in pumps:
            if not task.cancelled() and task.exception() is not None:
                raise task.exception()  # type: ignore[misc]  # a read that failed

    async def _close_after_exit(self, pumps: list[asyncio.Task[None]]) -> None:
        """When the agent has exited but something it started still holds its output
        pipes open (a child ignoring SIGTERM, a daemon), the run must not wait for them:
        once they have been quiet for ``_EXIT_GRACE`` the group is killed, and after
        another grace the reading stops. Output held back while the parser catches up is
        not quiet: it is read whole however long ADO takes over it.
        """
        await self.wait()
        while True:
            if self._held:  # output waits for ADO, not the other way round
                await asyncio.sleep(_EXIT_POLL)
                continue
            if (quiet := time.monotonic() - self._last_output) >= _EXIT_GRACE:
                break
            await asyncio.sleep(_EXIT_GRACE - quiet)  # still writing: let it finish
        self._kill_group(signal.SIGKILL)
        await asyncio.sleep(_EXIT_GRACE)
        for task in pumps:
            task.cancel()  # a process outside the group still holds a pipe

    async def wait(self) -> int:
        """The agent's exit code, once it has exited (its output may still be open)."""
        if self._exit is None:
            self._exit = _exit_future(self._popen)
        return await asyncio.shield(self._exit)

    async def stop(self, grace: float = 3.0) -> None:
        """SIGINT, then SIGTERM, then SIGKILL to the whole process group."""
        if self._popen.poll() is not None:
            self._kill_group(signal.SIGKILL)  # reap stragglers left by a finished leader
            return
        for sig in (signal.SIGINT, signal.SIGTERM):
            self.stopped_by = sig
            self._kill_group(sig)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.wait(), grace)
                self._kill_group(signal.SIGKILL)
                return
        self.stopped_by = signal.SIGKILL
        self._kill_group(signal.SIGKILL)
        await self.wait()

    def _kill_group(self, sig: signal.Signals) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self._popen.pid, sig)


async def _reader(
    loop: asyncio.AbstractEventLoop, pipe: IO[bytes]
) -> tuple[asyncio.StreamReader, asyncio.BaseTransport]:
    """A pipe of the agent's as a StreamReader of this loop (reading pauses while ADO is
    behind, so the agent waits on its writes)."""
    reader = asyncio.StreamReader(limit=_CHUNK, loop=loop)
    transport, _ = await loop.connect_read_pipe(
        lambda: asyncio.StreamReaderProtocol(reader, loop=loop), pipe
    )
    return reader, transport


def _exit_future(popen: subprocess.Popen[bytes]) -> asyncio.Future[int]:
    """Resolved with the exit code when ``popen`` exits, whether or not its pipes are still
    open: a pidfd watched by the loop (Linux), else a poll every ``_EXIT_POLL`` seconds."""
    loop = asyncio.get_running_loop()
    future: asyncio.Future[int] = loop.create_future()
    if popen.poll() is not None:
        future.set_result(popen.returncode)
        return future
    try:
        pidfd = os.pidfd_open(popen.pid)
    except (AttributeError, OSError):  # not Linux, or an old kernel: poll
        pidfd = None

    def check() -> bool:
        if future.done():
            return True
        code = popen.poll()
        if code is None:
            return False
        future.set_result(code)
        return True

    if pidfd is not None:

        def readable() -> None:
            if check():
                loop.remove_reader(pidfd)
                os.close(pidfd)

        loop.add_reader(pidfd, readable)
        readable()  # it may have exited between the poll and the watch
    else:

        def again() -> None:
            if not check():
                loop.call_later(_EXIT_POLL, again)

        loop.call_later(_EXIT_POLL, again)
    return future


class _LineSplitter:
    """One stream's bytes cut into lines; a line over ``MAX_LINE_BYTES`` is kept cut to
    that size (``truncated``) and the rest of it, up to its newline, dropped."""

    def __init__(self, stream: Literal["stdout", "stderr"]) -> None:
        self.stream = stream
        self._buf = bytearray()
        self._skipping = False  # inside an over-long line, dropping bytes until its newline

    def feed(self, chunk: bytes) -> list[OutputLine]:
        """The lines ``chunk`` completes (its last, unfinished line is kept for later)."""
        stream, out = self.stream, []
        *ended, tail = chunk.split(b"\n")
        for piece in ended:
            if not (self._buf or self._skipping) and len(piece) <= MAX_LINE_BYTES:
                out.append(OutputLine(stream, _decode(piece)))  # the usual case: a whole line
                continue
            self._add(piece, out)
            if self._skipping:
                self._skipping = False
            else:
                out.append(OutputLine(stream, _decode(self._buf)))
                self._buf.clear()
        self._add(tail, out)
        return out

    def end(self) -> list[OutputLine]:
        """The last line, when the stream ended without a newline."""
        if self._buf and not self._skipping:
            return [OutputLine(self.stream, _decode(self._buf))]
        return []

    def _add(self, piece: bytes, out: list[OutputLine]) -> None:
        if self._skipping:
            return
        room = MAX_LINE_BYTES - len(self._buf)
        if len(piece) > room:
            self._buf += piece[:room]
            out.append(OutputLine(self.stream, _decode(self._buf), truncated=True))
            self._buf.clear()
            self._skipping = True
        else:
            self._buf += piece


def _decode(raw: bytes | bytearray) -> str:
    """A line as text: invalid UTF-8 and NUL become U+FFFD (``ado.providers.sanitize``)."""
    text = raw.decode("utf-8", errors="replace").rstrip("\r")
    return text.replace("\x00", "\ufffd") if "\x00" in text else text
