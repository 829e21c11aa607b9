"""The API under load: ``wrk`` (c=10, loopback) against a real uvicorn server process.

Targets (issue 3): ``POST /api/tasks`` ≥ 3,300 req/s with p99 ≤ 10 ms; ``GET /api/tasks``
(one page of 50) and ``GET /api/dashboard/stats`` p95 ≤ 20 ms with 100k tasks and 1M events
stored; server RSS ≤ 120 MiB under that load.

The store (SQLite, WAL) is seeded with ``bench.seed`` (100,000 tasks with attempts and
usage records over 35 days, 10 events each). The server is ``uvicorn --loop uvloop --http
httptools`` with one worker, running ``create_bench_app`` (the real ``create_app``, rate
limiting on with a limit high enough not to refuse the benchmark, the Host and Origin checks
of ``ado serve`` on loopback). ``wrk --latency`` with a
small Lua script (the POST body; p50/p90/p95/p99 printed from ``done``) runs each endpoint
for ``DURATION`` seconds after a warm-up; the server's RSS is sampled meanwhile
(``/proc/<pid>/status``). Run: ``python -m bench api_throughput``.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from bench.common import ROOT, Result

DURATION = int(os.environ.get("ADO_BENCH_DURATION", "10"))
TASKS = int(os.environ.get("ADO_BENCH_TASKS", "100000"))
EVENTS_PER_TASK = 10
LUA = """
wrk.method = "{method}"
wrk.headers["Content-Type"] = "application/json"
{body}
done = function(summary, latency, requests)
  for _, p in pairs({{50, 90, 95, 99}}) do
    io.write(string.format("P%d %d\\n", p, latency:percentile(p)))
  end
end
"""


def create_bench_app() -> Any:
    """The app ``uvicorn --factory`` serves: the store named by ``ADO_BENCH_DB``."""
    from ado.api import RateLimit, create_app
    from ado.config.loader import LoadedConfig
    from ado.config.schema import AdoConfig
    from ado.store import Store

    path = Path(os.environ["ADO_BENCH_DB"])
    store = Store(f"sqlite:///{path}")
    store.migrate()
    from ado.server.serve import tune_gc

    tune_gc()  # as `ado serve` does
    from ado.api.access import AccessPolicy

    config = AdoConfig()
    return create_app(
        loaded_config=LoadedConfig(config, None, path.parent),
        store=store,
        rate_limit=RateLimit(per_minute=10**9),
        # the Host and Origin checks of `ado serve` on loopback
        access=AccessPolicy.for_server(
            config.server, "127.0.0.1", int(os.environ["ADO_BENCH_PORT"]), require_auth=False
        ),
    )


def run() -> list[Result]:
    if shutil.which("wrk") is None:
        return [Result("API benchmark", 0, "", "wrk installed", False, "apt-get install -y wrk")]
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "state.db"
        started = time.perf_counter()
        from bench.seed import seeded_store

        seeded_store(db, TASKS, EVENTS_PER_TASK).close()
        seeded = time.perf_counter() - started
        with Server(db, Path(tmp)) as server:
            rss = RssSampler(server.pid)
            rss.start()
            tasks = server.wrk("GET", "/api/tasks?limit=50", Path(tmp))
            stats = server.wrk("GET", "/api/dashboard/stats", Path(tmp))
            idle_rss = rss.peak_mib
            post = server.wrk("POST", "/api/tasks", Path(tmp), body='{"prompt": "bench task"}')
            rss.stop()
    note = f"seeded {TASKS:,} tasks / {TASKS * EVENTS_PER_TASK:,} events in {seeded:.0f} s"
    return [
        Result(
            "POST /api/tasks throughput",
            post["rps"],
            "req/s",
            "≥ 3,300 req/s",
            post["rps"] >= 3300,
            _detail(post),
        ),
        Result("POST /api/tasks p99", post["p99"], "ms", "≤ 10 ms", post["p99"] <= 10),
        Result(
            "GET /api/tasks p95 (page of 50)",
            tasks["p95"],
            "ms",
            "≤ 20 ms",
            tasks["p95"] <= 20,
            _detail(tasks) + f"; {note}",
        ),
        Result(
            "GET /api/dashboard/stats p95",
            stats["p95"],
            "ms",
            "≤ 20 ms",
            stats["p95"] <= 20,
            _detail(stats),
        ),
        Result(
            "server RSS under load",
            rss.peak_mib,
            "MiB",
            "≤ 120 MiB",
            rss.peak_mib <= 120,
            f"after the GET runs {idle_rss:.1f} MiB",
        ),
    ]


def _detail(figures: dict[str, float]) -> str:
    return (
        f"{figures['rps']:,.0f} req/s, p50 {figures['p50']:.2f} / p90 {figures['p90']:.2f} / "
        f"p95 {figures['p95']:.2f} / p99 {figures['p99']:.2f} ms, {figures['errors']:.0f} errors, "
        f"server CPU {figures['cpu_ms']:.2f} ms/request, load average {figures['load']:.1f}"
    )


class Server:
    """``uvicorn`` serving ``create_bench_app`` on a free loopback port."""

    def __init__(self, db: Path, tmp: Path) -> None:
        # Imported here, not at the top: the server process imports this module too, and
        # what the client side uses (httpx) would count in the server's RSS.
        from tests.support import free_port

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.db, self.tmp = db, tmp

    def __enter__(self) -> Server:
        from tests.support import spawn_server

        self.process = spawn_server(
            [
                sys.executable, "-m", "uvicorn", "bench.api_throughput:create_bench_app",
                "--factory", "--host", "127.0.0.1", "--port", str(self.port),
                "--loop", "uvloop", "--http", "httptools", "--no-access-log",
                "--log-level", "warning", "--workers", "1",
            ],
            port=self.port,
            cwd=ROOT,
            log=self.tmp / "server.log",
            env={
                **os.environ,
                "ADO_BENCH_DB": str(self.db),
                "ADO_BENCH_PORT": str(self.port),
                # this tree's ado, not whichever the environment has installed
                "PYTHONPATH": f"{ROOT / 'src'}{os.pathsep}{ROOT}",
            },
            ready="/health/ready",
        )  # fmt: skip
        self.pid = self.process.pid
        return self

    def __exit__(self, *exc: object) -> None:
        self.process.stop(timeout=10)

    def wrk(self, method: str, path: str, tmp: Path, body: str | None = None) -> dict[str, float]:
        script = tmp / f"{method.lower()}.lua"
        body_line = f"wrk.body = [[{body}]]" if body else ""
        script.write_text(LUA.format(method=method, body=body_line))
        base = ["wrk", "-t2", "-c10", "--latency", "-s", str(script)]
        subprocess.run([*base, "-d2s", self.url + path], capture_output=True, check=True)
        cpu = self.cpu_seconds()
        out = subprocess.run(
            [*base, f"-d{DURATION}s", self.url + path], capture_output=True, text=True, check=True
        ).stdout
        figures = parse_wrk(out)
        requests = figures["rps"] * DURATION
        figures["cpu_ms"] = (self.cpu_seconds() - cpu) * 1000 / requests if requests else 0.0
        figures["load"] = os.getloadavg()[0]
        return figures

    def cpu_seconds(self) -> float:
        """User + system CPU time of the server process so far."""
        fields = Path(f"/proc/{self.pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _found(pattern: str, text: str, flags: int = 0) -> str:
    """The first group of ``pattern`` in wrk's output (which always prints it)."""
    match = re.search(pattern, text, flags)
    if match is None:
        raise RuntimeError(f"wrk printed no {pattern!r}:\n{text}")
    return match.group(1)


def parse_wrk(out: str) -> dict[str, float]:
    """req/s, p50/p90/p95/p99 in ms (from the Lua ``done``), and non-2xx/socket errors."""
    figures = {"rps": float(_found(r"Requests/sec:\s+([\d.]+)", out))}
    for p in (50, 90, 95, 99):
        figures[f"p{p}"] = int(_found(rf"^P{p} (\d+)$", out, re.M)) / 1000
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    figures["errors"] = float(errors.group(1)) if errors else 0.0
    if socket_errors:
        figures["errors"] += sum(int(n) for n in re.findall(r"\d+", socket_errors.group(1)))
    return figures


class RssSampler(threading.Thread):
    """The peak resident set size of a process (VmRSS every 50 ms, and VmHWM)."""

    def __init__(self, pid: int) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.peak_kib = 0
        self._stop_event = threading.Event()

    @property
    def peak_mib(self) -> float:
        return max(self.peak_kib, self._read("VmHWM")) / 1024

    def run(self) -> None:
        while not self._stop_event.wait(0.05):
            self.peak_kib = max(self.peak_kib, self._read("VmRSS"))

    def stop(self) -> None:
        self._stop_event.set()
        self.join()

    def _read(self, field: str) -> int:
        try:
            text = Path(f"/proc/{self.pid}/status").read_text()
        except OSError:
            return 0
        match = re.search(rf"^{field}:\s+(\d+) kB", text, re.M)
        return int(match.group(1)) if match else 0


if __name__ == "__main__":
    for result in run():
        print(result.line(), flush=True)
