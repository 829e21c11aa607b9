"""Load simulation (issue 12): N tasks through ``ado serve`` and its executors.

One PostgreSQL cluster and one Redis server (``bench.services``, free ports) serve every
setup: the ``local`` executor (the baseline: ``ado serve`` runs the agents itself) and the
``celery`` executor with 1, 2 and 4 ``ado worker`` subprocesses. Each setup gets a fresh
database, an emptied broker and its own ``ado serve``; its agents are scripted cursor-agents
(``ado.testing.fake_cursor_agent``, 45 messages without pauses: 50 stored events a task)
behind a small wrapper that logs when each started, with which prompt and under which
parent process.

Per setup, two phases:

1. Latency: ``LATENCY_TASKS`` tasks submitted one at a time to idle workers (each waits for
   the previous to end); submit → agent start is the time before ``POST /api/tasks`` to the
   time the agent's wrapper logs (target: p95 ≤ 100 ms).
2. Throughput: N tasks submitted back to back through the API; tasks/s is N over the time
   from the first submission until every task has ended; events/s stored counts the
   events of those tasks in the store. Lost: a task that did not succeed or whose agent
   never started; run twice: a prompt whose agent started more than once (both must be 0).

CPU is accounted per component from /proc (utime + stime, the agents as their parents'
reaped children, PostgreSQL as its postmaster's), with the machine's busy fraction.

``python -m bench.load_sim [--tasks N] [--workers 1,2,4] [--concurrency C]``; in the full
suite (``python -m bench``) N is ``ADO_BENCH_LOAD_TASKS`` (default 100).
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from bench.common import Result, percentile
from bench.services import Postgres, Redis, free_port, running_postgres, running_redis, wait_until

if TYPE_CHECKING:
    import psycopg

LATENCY_TASKS = 40
MESSAGES = 45  # + system, user, result, attempt started/finished: 50 events
CONCURRENCY = 4  # agents per worker, and the local executor's maxParallelAgents
LATENCY_TARGET_MS = 100.0
HZ = os.sysconf("SC_CLK_TCK")
WRAPPER = """\
import os, runpy, sys, time
if "--version" not in sys.argv:
    prompt = sys.argv[sys.argv.index("-p") + 1]
    with open(os.environ["AGENT_LOG"], "a") as f:
        f.write(f"{{time.time()}} {{os.getppid()}} {{prompt}}\\n")
sys.argv[0] = {fake!r}
runpy.run_path({fake!r}, run_name="__main__")
"""


def cpu_seconds(pid: int, children: bool = True) -> float:
    """utime + stime of ``pid`` (+ its reaped children's) in seconds; 0 once it is gone."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = sum(int(f) for f in fields[11 : 15 if children else 13])
    return ticks / HZ


def tree_cpu_seconds(root: int) -> float:
    """CPU seconds of ``root``, its reaped children and its live children (PostgreSQL's
    postmaster and its backends)."""
    total = cpu_seconds(root)
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == root:
            total += cpu_seconds(int(stat.parent.name), children=False)
    return total


def machine_busy() -> tuple[float, float]:
    """(busy, total) jiffies of every CPU since boot."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]
    return sum(values) - idle, sum(values)


@dataclass
class Setup:
    executor: str
    workers: int
    #: The ``src`` directory of a source tree the ``ado`` processes import (their
    #: PYTHONPATH), named ``label``; None: what this process imports.
    source: str | None = None
    label: str = ""

    @property
    def name(self) -> str:
        name = "local" if self.executor == "local" else f"celery x{self.workers}"
        return f"{name} ({self.label})" if self.label else name

    @property
    def slug(self) -> str:
        slug = "local" if self.executor == "local" else f"celery-{self.workers}"
        return f"{slug}-{self.label}" if self.label else slug


@dataclass
class Figures:
    setup: Setup
    tasks: int
    seconds: float
    events: int
    latency_ms: list[float]
    loaded_latency_ms: list[float]
    lost: int
    twice: int
    busy: float
    cpu: dict[str, float] = field(default_factory=dict)
    #: an event's share of the events table and its indexes, the database, in bytes at the end
    event_bytes: int = 0
    database_bytes: int = 0
    #: The machine's 1-minute load average when the setup started and ended.
    load: tuple[float, float] = (0.0, 0.0)

    @property
    def tasks_per_s(self) -> float:
        return self.tasks / self.seconds

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds

    def line(self) -> str:
        cpu = ", ".join(f"{k} {v:.1f} s" for k, v in self.cpu.items())
        return (
            f"{self.setup.name}: {self.tasks_per_s:.1f} tasks/s, {self.events_per_s:.0f} "
            f"events/s stored, submit→start idle p50 {statistics.median(self.latency_ms):.0f} "
            f"p95 {percentile(self.latency_ms, 95):.0f} ms (first {self.latency_ms[0]:.0f}, "
            f"slowest {max(self.latency_ms):.0f}; under load p50 "
            f"{statistics.median(self.loaded_latency_ms):.0f} p95 "
            f"{percentile(self.loaded_latency_ms, 95):.0f} ms), lost {self.lost}, "
            f"twice {self.twice}; {self.tasks} tasks in {self.seconds:.1f} s, machine "
            f"{self.busy:.0%} busy; CPU {cpu}; stored "
            f"{self.event_bytes} B an event (table and indexes), "
            f"database {self.database_bytes / 2**20:.1f} MiB; load average "
            f"{self.load[0]:.1f}-{self.load[1]:.1f}"
        )


class Cluster:
    """``ado serve`` (and its ``ado worker``s) in a project directory of their own."""

    def __init__(self, setup: Setup, pg: Postgres, redis: Redis, root: Path, concurrency: int):
        self.setup, self.pg, self.redis = setup, pg, redis
        self.root = root / setup.slug
        self.root.mkdir(parents=True)
        self.agent_log = self.root / "agents.log"
        self.database = pg.create_database()
        redis.flush()
        fake = importlib.util.find_spec("ado.testing.fake_cursor_agent")
        assert fake is not None and fake.origin is not None
        script = self.root / "cursor-agent"
        script.write_text(f"#!{sys.executable} -S\n" + WRAPPER.format(fake=fake.origin))
        script.chmod(0o755)
        provider = {
            "enabled": True,
            "command": str(script),
            "timeout": 300,
            "env": {
                "AGENT_LOG": str(self.agent_log),
                "FAKE_CURSOR_MESSAGES": str(MESSAGES),
                "FAKE_CURSOR_INTERVAL": "0",
            },
            "accessModes": [{"mode": "subscription", "priority": 1}],
        }
        config = {
            "version": "1.1",
            "providers": {"cursor-agent": provider},
            "storage": {"driver": "postgresql", "connectionString": pg.url(self.database)},
            "orchestration": {
                "executor": setup.executor,
                "broker": redis.url,
                "maxParallelAgents": concurrency,
            },
        }
        (self.root / "ado.config.yaml").write_text(json.dumps(config, indent=2))
        self.port = free_port()
        self._db: psycopg.Connection[Any] | None = None
        self.procs: list[subprocess.Popen[bytes]] = []
        self.server = self._spawn("serve", "--host", "127.0.0.1", "--port", str(self.port),
                                  "--no-open", "--executor", setup.executor)  # fmt: skip
        import httpx

        self.http = httpx.Client(base_url=f"http://127.0.0.1:{self.port}", timeout=60)
        wait_until(self._healthy, 60, "ado serve")
        self.workers = [
            self._spawn("worker", "-c", str(concurrency), "--hostname", f"w{n}@%h")
            for n in range(setup.workers if setup.executor == "celery" else 0)
        ]
        for n, _ in enumerate(self.workers):
            wait_until(lambda: self._ready(n), 90, "ado worker")  # noqa: B023
        # Idle means ready: every pool that runs tasks (ado serve's with the local executor,
        # each worker's) is in the worker registry, which it joins once warmed up.
        pools = len(self.workers) or 1
        wait_until(lambda: self.query("SELECT count(*) FROM workers")[0][0] >= pools, 90, "pools")

    def _spawn(self, *args: str) -> subprocess.Popen[bytes]:
        name = args[0] if args[0] == "serve" else f"worker-{len(self.procs) - 1}"
        with (self.root / f"{name}.log").open("wb") as sink:
            proc = subprocess.Popen(
                [sys.executable, "-m", "ado", *args],
                cwd=self.root,
                stdout=sink,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                env={
                    **os.environ,
                    "COLUMNS": "200",
                    **({"PYTHONPATH": self.setup.source} if self.setup.source else {}),
                },
            )
        self.procs.append(proc)
        return proc

    def _log(self, name: str) -> str:
        for proc in self.procs:
            if proc.poll() is not None:
                raise RuntimeError(f"an ado process exited {proc.returncode}: see {self.root}")
        return (self.root / f"{name}.log").read_text(errors="replace")

    def _ready(self, worker: int) -> bool:
        return " ready." in self._log(f"worker-{worker}")

    def _healthy(self) -> bool:
        import httpx

        self._log("serve")
        try:
            return self.http.get("/health").status_code == 200
        except httpx.TransportError:
            return False

    def submit(self, prompt: str) -> int:
        response = self.http.post("/api/tasks", json={"prompt": prompt})
        if response.status_code != 201:
            raise RuntimeError(f"POST /api/tasks: {response.status_code} {response.text}")
        task_id: int = response.json()["id"]
        return task_id

    def query(self, sql: str, *params: Any) -> list[tuple[Any, ...]]:
        """``sql`` on the benchmark's own connection, kept open: polling with a new one
        every 50 ms cost PostgreSQL a backend and a SCRAM handshake each time, CPU taken
        from the processes measured (and counted as PostgreSQL's)."""
        import psycopg

        if self._db is None or self._db.closed:
            conn = self.pg.connect(self.database)
            assert isinstance(conn, psycopg.Connection)
            self._db = conn
        return list(self._db.execute(sql.encode(), params).fetchall())

    def ended(self, ids: list[int]) -> int:
        rows = self.query(
            "SELECT count(*) FROM tasks WHERE id = ANY(%s) AND status IN "
            "('succeeded', 'failed', 'cancelled', 'interrupted')",
            ids,
        )
        return int(rows[0][0])

    def starts(self) -> list[tuple[float, int, str]]:
        if not self.agent_log.exists():
            return []
        out = []
        for line in self.agent_log.read_text().splitlines():
            when, parent, prompt = line.split(" ", 2)
            out.append((float(when), int(parent), prompt))
        return out

    def cpu(self) -> dict[str, float]:
        """Own and agents' CPU seconds so far (call before ``stop``)."""
        own = [cpu_seconds(p.pid, children=False) for p in self.procs]
        total = [cpu_seconds(p.pid) for p in self.procs]
        return {
            "server": own[0],
            "workers": sum(own[1:]),
            "agents": sum(total) - sum(own),
        }

    def stop(self) -> None:
        self.http.close()
        if self._db is not None:
            self._db.close()
        for proc in reversed(self.procs):
            proc.send_signal(signal.SIGTERM)
        for proc in self.procs:
            try:
                proc.wait(60)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()


def simulate(setup: Setup, tasks: int, pg: Postgres, redis: Redis, root: Path,
             concurrency: int, idle: int = LATENCY_TASKS) -> Figures:  # fmt: skip
    load_before = os.getloadavg()[0]
    cluster = Cluster(setup, pg, redis, root, concurrency)
    try:
        # 1. submit → agent start with idle workers, one task at a time
        latency: list[float] = []
        for n in range(idle):
            prompt = f"idle-{n}"
            sent = time.time()
            task_id = cluster.submit(prompt)
            one = [task_id]
            wait_until(lambda: cluster.ended(one) == 1, 60, f"task {task_id}")  # noqa: B023
            started = [w for w, _, p in cluster.starts() if p == prompt]
            latency.append((started[0] - sent) * 1000 if started else float("inf"))
        # 2. throughput: N tasks back to back
        cpu_before = cluster.cpu()
        pg_before = tree_cpu_seconds(pg.postmaster_pid)
        redis_before = cpu_seconds(redis.pid)
        busy_before = machine_busy()
        clock = time.perf_counter()
        sent_at: dict[str, float] = {}
        ids = []
        for n in range(tasks):
            prompt = f"load-{n}"
            sent_at[prompt] = time.time()
            ids.append(cluster.submit(prompt))
        wait_until(lambda: cluster.ended(ids) == len(ids), 60 + tasks * 2, "every task to end")
        seconds = time.perf_counter() - clock
        busy_after = machine_busy()
        cpu_after = cluster.cpu()
        pg_after = tree_cpu_seconds(pg.postmaster_pid)
        redis_after = cpu_seconds(redis.pid)
        succeeded = cluster.query(
            "SELECT count(*) FROM tasks WHERE id = ANY(%s) AND status = 'succeeded'", ids
        )[0][0]
        events = cluster.query("SELECT count(*) FROM events WHERE task_id = ANY(%s)", ids)[0][0]
        sizes = cluster.query(
            "SELECT pg_total_relation_size('events') / count(*), "
            "pg_database_size(current_database()) FROM events"
        )[0]
        runs = Counter(p for _, _, p in cluster.starts() if p.startswith("load-"))
        started_at = {p: w for w, _, p in cluster.starts()}
        loaded = [(started_at[p] - sent) * 1000 for p, sent in sent_at.items() if p in started_at]
    finally:
        cluster.stop()
    cpu = {k: cpu_after[k] - cpu_before[k] for k in cpu_after}
    cpu["PostgreSQL"] = pg_after - pg_before
    cpu["Redis"] = redis_after - redis_before
    never = sum(1 for n in range(tasks) if f"load-{n}" not in runs)
    return Figures(
        setup=setup,
        tasks=tasks,
        seconds=seconds,
        events=int(events),
        latency_ms=latency,
        loaded_latency_ms=loaded,
        lost=max(tasks - int(succeeded), never),
        twice=sum(1 for count in runs.values() if count > 1),
        busy=(busy_after[0] - busy_before[0]) / max(1, busy_after[1] - busy_before[1]),
        cpu=cpu,
        event_bytes=int(sizes[0]),
        database_bytes=int(sizes[1]),
        load=(load_before, os.getloadavg()[0]),
    )


def simulate_all(
    tasks: int,
    workers: list[int],
    concurrency: int = CONCURRENCY,
    rounds: int = 1,
    idle: int = LATENCY_TASKS,
    trees: list[tuple[str, str]] | None = None,
) -> list[Figures]:
    """Every setup, ``rounds`` times interleaved (local, celery x1, x2, ... then again);
    with ``trees`` (label, ``src`` directory), each setup once per tree, side by side, the
    trees' order reversed every other round."""
    kinds = [("local", 0), *(("celery", n) for n in workers)]
    out = []
    with running_postgres() as pg, running_redis() as redis, tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            order: list[tuple[str, str | None]] = [*trees] if trees else [("", None)]
            setups = [
                Setup(kind, n, source, label)
                for kind, n in kinds
                for label, source in order[:: -1 if r % 2 else 1]
            ]
            for setup in setups:
                root = Path(tmp) / str(r)
                figures = simulate(setup, tasks, pg, redis, root, concurrency, idle)
                print(figures.line(), flush=True)
                out.append(figures)
    return out


def results(figures: list[Figures]) -> list[Result]:
    out = []
    by_name: dict[str, list[Figures]] = {}
    for f in figures:
        by_name.setdefault(f.setup.name, []).append(f)
    for name, runs in by_name.items():
        rate = statistics.median(f.tasks_per_s for f in runs)
        p95 = max(percentile(f.latency_ms, 95) for f in runs)
        wrong = sum(f.lost + f.twice for f in runs)
        detail = "; ".join(f.line() for f in runs)
        out.append(
            Result(
                f"load simulation, {name}",
                rate,
                "tasks/s",
                f"idle submit→start p95 ≤ {LATENCY_TARGET_MS:g} ms, none lost or run twice",
                p95 <= LATENCY_TARGET_MS and wrong == 0,
                detail,
            )
        )
    one = by_name.get("celery x1")
    two = by_name.get("celery x2")
    if one and two:
        ratio = statistics.median(f.tasks_per_s for f in two) / statistics.median(
            f.tasks_per_s for f in one
        )
        out.append(
            Result(
                "load simulation, 2 workers / 1",
                ratio,
                "x",
                "≥ 1.6x",
                ratio >= 1.6,
                "on this machine's 2 cores: see docs/performance.md for what limits it",
            )
        )
    return out


def run() -> list[Result]:
    tasks = int(os.environ.get("ADO_BENCH_LOAD_TASKS", "100"))
    return results(simulate_all(tasks, [1, 2, 4]))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.load_sim", description=__doc__)
    parser.add_argument("--tasks", type=int, default=2000, help="tasks per setup (2000)")
    parser.add_argument("--workers", default="1,2,4", help="worker counts (1,2,4)")
    parser.add_argument("--concurrency", type=int, default=CONCURRENCY, help="agents a worker")
    parser.add_argument("--rounds", type=int, default=1, help="interleaved rounds (1)")
    parser.add_argument(
        "--idle", type=int, default=LATENCY_TASKS, help=f"idle tasks timed ({LATENCY_TASKS})"
    )
    parser.add_argument(
        "--trees",
        default="",
        help="compare source trees side by side: LABEL=SRC_DIR,LABEL=SRC_DIR (each setup "
        "runs once per tree, the ado processes importing its src; the order reversed every "
        "other round)",
    )
    args = parser.parse_args(argv)
    workers = [int(w) for w in args.workers.split(",") if w.strip()]
    trees = []
    for item in filter(None, (t.strip() for t in args.trees.split(","))):
        label, sep, source = item.partition("=")
        if not (sep and label and Path(source, "ado", "__init__.py").is_file()):
            parser.error(f"--trees: {item!r} is not LABEL=SRC_DIR (a directory holding ado/)")
        trees.append((label, str(Path(source).resolve())))
    figures = simulate_all(
        args.tasks, workers, args.concurrency, args.rounds, args.idle, trees or None
    )
    failed = 0
    for result in results(figures):
        print(result.line(), flush=True)
        failed += not result.ok
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
