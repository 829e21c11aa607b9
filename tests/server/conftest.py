"""Fixtures of the server tests: a gated scripted agent, and real ``ado serve`` processes."""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.ado import Project
from tests.support import ServerProcess, ado_serve_argv, free_port, python_script, spawn_server


@dataclass
class Gate:
    """A scripted cursor-agent that waits until ``open()`` before answering.

    Each run appends ``start <pid> <time>`` and ``end <pid> <time>`` to ``log``, so a test
    can tell how many agents ran at once.
    """

    script: Path
    path: Path
    log: Path

    def open(self) -> None:
        self.path.touch()

    def provider(
        self, scenario: str = "success", *, gated: bool = True, priority: int = 1
    ) -> dict[str, Any]:
        env = {"FAKE_CURSOR_SCENARIO": scenario, "AGENT_LOG": str(self.log)}
        if gated:
            env["AGENT_GATE"] = str(self.path)
        return {
            "enabled": True,
            "command": str(self.script),
            "timeout": 120,
            "env": env,
            "accessModes": [{"mode": "subscription", "priority": priority}],
        }

    def starts(self) -> int:
        return self._lines("start")

    def ends(self) -> int:
        return self._lines("end")

    def max_parallel(self) -> int:
        """The most agents that were running at the same time."""
        events = []
        for line in self.log.read_text().splitlines() if self.log.exists() else []:
            what, _pid, when = line.split()
            events.append((float(when), 1 if what == "start" else -1))
        running = peak = 0
        for _, delta in sorted(events, key=lambda e: (e[0], e[1])):
            running += delta
            peak = max(peak, running)
        return peak

    def _lines(self, what: str) -> int:
        if not self.log.exists():
            return 0
        return sum(1 for line in self.log.read_text().splitlines() if line.startswith(what))


@pytest.fixture
def gate(tmp_path: Path) -> Gate:
    script = python_script(
        tmp_path / "bin" / "gated-cursor-agent",
        """\
        import os, sys, time
        from pathlib import Path

        log = os.environ.get("AGENT_LOG")
        def note(what):
            if log and "--version" not in sys.argv:
                with open(log, "a") as f:
                    f.write(f"{what} {os.getpid()} {time.time()}\\n")
        note("start")
        try:
            gate = os.environ.get("AGENT_GATE")
            while gate and not Path(gate).exists():
                time.sleep(0.02)
            from ado.testing.fake_cursor_agent import main
            code = main()
        finally:
            note("end")
        raise SystemExit(code)
    """,
    )
    return Gate(script, tmp_path / "gate-open", tmp_path / "agents.log")


@dataclass
class Server(ServerProcess):
    """A real ``ado serve`` subprocess in ``project``."""

    project: Project
    headers: dict[str, str] = field(default_factory=dict)

    @property
    def ws_url(self) -> str:
        return f"ws://{self.address}:{self.port}/api/ws"

    def client(self) -> httpx.Client:
        return httpx.Client(base_url=self.url, headers=self.headers, timeout=30)


def start_server(
    project: Project, *args: str, host: str = "127.0.0.1", port: int | None = None
) -> Server:
    """``ado serve *args`` in ``project``, once it answers ``/health``."""
    port = port or free_port()
    served = spawn_server(
        ado_serve_argv(*args, host=host, port=port),
        port=port,
        host=host,
        cwd=project.root,
        log=project.root.parent / f"serve-{port}-{time.monotonic_ns()}.log",
        env={**os.environ, "COLUMNS": "200"},
    )
    return Server(served.proc, served.port, served.host, served.log, project)


@pytest.fixture
def serve(project: Project) -> Iterator[Callable[..., Server]]:
    """``serve(*args)`` starts ``ado serve`` in the project; every one is stopped afterwards."""
    started: list[Server] = []

    def start(*args: str, **kwargs: Any) -> Server:
        server = start_server(project, *args, **kwargs)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()
