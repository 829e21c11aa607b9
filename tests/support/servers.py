"""Server subprocesses on a loopback port: started, waited on until they answer, stopped.

``spawn_server`` runs any server command (``ado serve``, uvicorn) with its output in a log
file and returns once ``ready`` answers 200; ``ServerProcess.stop`` ends it with SIGTERM (then
SIGKILL). The ``serve`` fixture (``tests/server/conftest.py``) and the dashboard's server
fixture are built on them.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.support.waiting import wait_for


def free_port() -> int:
    """A TCP port of 127.0.0.1 that nothing listens on (at the moment of asking)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def ado_serve_argv(*args: str, port: int, host: str = "127.0.0.1") -> list[str]:
    """``ado serve`` on ``host``:``port`` (this interpreter's ``ado``), no browser opened."""
    return [
        sys.executable,
        "-m",
        "ado",
        "serve",
        "--host",
        host,
        "--port",
        str(port),
        "--no-open",
        *args,
    ]


@dataclass
class ServerProcess:
    """A server subprocess listening on ``host``:``port``; its output goes to ``log``."""

    proc: subprocess.Popen[bytes]
    port: int
    host: str
    log: Path

    @property
    def address(self) -> str:
        """Where a client reaches it: its IPv6 loopback, else 127.0.0.1."""
        return "[::1]" if self.host.strip("[]") == "::1" else "127.0.0.1"

    @property
    def url(self) -> str:
        return f"http://{self.address}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def signal(self, sig: int) -> None:
        self.proc.send_signal(sig)

    def wait(self, timeout: float = 60) -> int:
        return self.proc.wait(timeout=timeout)

    def wait_ready(self, path: str = "/health", timeout: float = 60) -> None:
        """Wait until ``path`` answers 200; fails with the server's output if it exits."""

        def answers() -> bool:
            if self.proc.poll() is not None:
                code = self.proc.returncode
                raise AssertionError(f"the server of {self.url} exited {code}:\n{self.output()}")
            try:
                return httpx.get(f"{self.url}{path}", timeout=1).status_code == 200
            except httpx.TransportError:
                return False

        wait_for(answers, timeout, what=f"the server to answer {self.url}{path}")

    def stop(self, timeout: float = 30) -> None:
        """SIGTERM, and SIGKILL if it is still running ``timeout`` seconds later."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def spawn_server(
    argv: Sequence[str],
    *,
    port: int,
    cwd: Path,
    log: Path,
    env: dict[str, str] | None = None,
    host: str = "127.0.0.1",
    ready: str = "/health",
    timeout: float = 60,
) -> ServerProcess:
    """Start ``argv`` (a server listening on ``host``:``port``) and wait until ``ready``
    answers 200. Stopped (SIGTERM, then SIGKILL) when it does not answer in time."""
    with log.open("wb") as sink:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            stdout=sink,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=os.environ.copy() if env is None else env,
        )
    server = ServerProcess(proc, port, host, log)
    try:
        server.wait_ready(ready, timeout)
    except BaseException:
        server.stop()
        raise
    return server
