"""Fixtures of the celery executor's tests: a scripted agent that logs who started it, and a
cluster of real processes (``ado serve --executor celery`` and ``ado worker``s) over a
PostgreSQL database and a Redis server of the test's own."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.fixtures.ado import Project
from tests.fixtures.redis import RedisServer
from tests.support import (
    ServerProcess,
    ado_serve_argv,
    free_port,
    python_script,
    spawn_server,
    wait_for,
)


@dataclass
class Agent:
    """A scripted cursor-agent that appends ``start <pid> <parent pid> <time> <prompt>`` to
    ``log`` and, while ``gate`` does not exist, waits before answering."""

    script: Path
    gate: Path
    log: Path

    def open(self) -> None:
        self.gate.touch()

    def provider(self, *, per_hour: int | None = None) -> dict[str, Any]:
        """Its provider entry; ``per_hour``: the subscription's ``requestsPerHour``."""
        mode: dict[str, Any] = {"mode": "subscription", "priority": 1}
        if per_hour is not None:
            mode["subscription"] = {"rateLimits": {"requestsPerHour": per_hour}}
        return {
            "enabled": True,
            "command": str(self.script),
            "timeout": 300,
            "env": {"AGENT_LOG": str(self.log), "AGENT_GATE": str(self.gate)},
            "accessModes": [mode],
        }

    def starts(self) -> list[tuple[int, int, str]]:
        """(agent pid, the worker's pid, prompt) of every agent started."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        out = []
        for line in lines:
            _, pid, parent, _when, prompt = line.split(" ", 4)
            out.append((int(pid), int(parent), prompt))
        return out

    def started_at(self) -> list[float]:
        """When each agent started (``time.time()``)."""
        lines = self.log.read_text().splitlines() if self.log.exists() else []
        return [float(line.split(" ", 4)[3]) for line in lines]


@pytest.fixture
def agent(tmp_path: Path) -> Agent:
    script = python_script(
        tmp_path / "bin" / "logging-cursor-agent",
        """\
        import os, sys, time
        from pathlib import Path

        if "--version" not in sys.argv:
            prompt = sys.argv[sys.argv.index("-p") + 1]
            with open(os.environ["AGENT_LOG"], "a") as f:
                f.write(f"start {os.getpid()} {os.getppid()} {time.time()} {prompt}\\n")
            while not Path(os.environ["AGENT_GATE"]).exists():
                time.sleep(0.02)
        from ado.testing.fake_cursor_agent import main
        raise SystemExit(main())
    """,
    )
    return Agent(script, tmp_path / "gate-open", tmp_path / "agents.log")


@dataclass
class Worker:
    proc: subprocess.Popen[bytes]
    log: Path

    @property
    def pid(self) -> int:
        return self.proc.pid

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def kill_group(self) -> None:
        """SIGKILL the worker's whole process group, as an OOM kill or a lost node would end
        it (its agents lead groups of their own: they live on), and reap it."""
        os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait()

    def stop(self, timeout: float = 30) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


@dataclass
class Cluster:
    """``ado serve --executor celery`` and ``ado worker``s in ``project``."""

    project: Project
    redis: RedisServer
    postgres_url: str
    server: ServerProcess | None = None
    workers: list[Worker] = field(default_factory=list)

    def configure(self, agent: Agent, *, per_hour: int | None = None, **orchestration: Any) -> None:
        self.project.write_config(
            {"cursor-agent": agent.provider(per_hour=per_hour)},
            storage={"driver": "postgresql", "connectionString": self.postgres_url},
            orchestration={"executor": "celery", "broker": self.redis.url, **orchestration},
        )

    def serve(self, executor: str = "celery") -> ServerProcess:
        port = free_port()
        self.server = spawn_server(
            ado_serve_argv("--executor", executor, port=port),
            port=port,
            cwd=self.project.root,
            log=self.project.root.parent / f"serve-{port}.log",
        )
        return self.server

    def worker(self, *args: str, ready: bool = True, node: str | None = None) -> Worker:
        """``ado worker *args``; ``node``: as if on another machine of that host name (a UTS
        namespace of its own: this host cannot tell from its pid whether it is alive)."""
        log = self.project.root.parent / f"worker-{len(self.workers)}-{time.monotonic_ns()}.log"
        argv = self.project.ado_argv("worker", *args)
        if node is not None:
            argv = [*other_node(node), *argv]
        with log.open("wb") as sink:
            proc = subprocess.Popen(
                argv,
                cwd=self.project.root,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={**os.environ, "COLUMNS": "200"},
                process_group=0,  # the leader of its own group, as in a container
            )
        worker = Worker(proc, log)
        self.workers.append(worker)
        if ready:

            def started() -> bool:
                if proc.poll() is not None:
                    raise AssertionError(f"ado worker exited {proc.returncode}:\n{worker.output()}")
                return " ready." in worker.output()

            wait_for(started, 60, what="the worker to be ready")
        return worker

    def client(self) -> httpx.Client:
        assert self.server is not None
        return httpx.Client(base_url=self.server.url, timeout=30)

    def submit(self, prompt: str) -> int:
        with self.client() as client:
            response = client.post("/api/tasks", json={"prompt": prompt})
        assert response.status_code == 201, response.text
        task_id: int = response.json()["id"]
        return task_id

    def task(self, task_id: int) -> dict[str, Any]:
        with self.client() as client:
            response = client.get(f"/api/tasks/{task_id}")
        assert response.status_code == 200, response.text
        task: dict[str, Any] = response.json()
        return task

    def statuses(self, ids: list[int]) -> dict[int, str]:
        return {i: self.task(i)["status"] for i in ids}

    def stop(self) -> None:
        for worker in self.workers:
            worker.stop()
        if self.server is not None:
            self.server.stop()


def other_node(hostname: str) -> list[str]:
    """A command prefix running the rest in a UTS namespace whose host name is ``hostname``
    (as root; else in a user namespace of its own too), under the same pid: ``exec``."""
    unshare = shutil.which("unshare")
    if unshare is None:
        pytest.fail("unshare (util-linux) not found: it plays a worker on another machine")
    user = [] if os.geteuid() == 0 else ["--user", "--map-root-user"]
    probe = subprocess.run([unshare, *user, "--uts", "true"], capture_output=True, check=False)
    if probe.returncode != 0:  # no CAP_SYS_ADMIN, user namespaces off (AppArmor)
        pytest.skip(f"cannot make a UTS namespace here: {probe.stderr.decode().strip()}")
    return [unshare, *user, "--uts", "sh", "-c", 'hostname "$0" && exec "$@"', hostname]


@pytest.fixture
def cluster(project: Project, redis_server: RedisServer, postgres_url: str) -> Iterator[Cluster]:
    cluster = Cluster(project, redis_server, postgres_url)
    try:
        yield cluster
    finally:
        cluster.stop()
