"""``ado db``: backing up a 100,000-task SQLite store, what it costs a writer, and upgrade.

- the backup's wall time (``ado.store.backup.backup``, in process), the copy's size;
- a writer in another process committing batches of 10 events without pause while backups
  run: its commit latency during a backup against between backups, in the same run;
- ``ado db upgrade`` on a store already at ``HEAD`` (a container's prestart step): the
  command, and in-process the plain-connection answer it gives against opening ``Store``
  (SQLAlchemy) as it would without it, the two interleaved.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

from bench.common import ADO_BIN, Result, ensure_bytecode, percentile, summary, time_command
from bench.seed import seeded_store

WRITER = textwrap.dedent("""\
    import json, sys, time
    from pathlib import Path
    from ado.providers.events import AgentEvent, EventKind
    from ado.store import Store
    store = Store(sys.argv[1])
    task = store.create_task(prompt="w", cwd="/", hitl_policy="autonomous", options={})
    stop, out = Path(sys.argv[2]), Path(sys.argv[3])
    samples = []
    while not stop.exists():
        start = time.monotonic()
        store.add_events(task, None, [AgentEvent(EventKind.TEXT, text="x" * 200)] * 10)
        samples.append((start, time.monotonic() - start))
        time.sleep(0.005)
    out.write_text(json.dumps(samples))
""")

FAST = "from ado.store.backup import upgrade; upgrade({url!r})"
STORE = "from ado.store.database import Store; s = Store({url!r}); s.migrate(); s.close()"


def run() -> list[Result]:
    ensure_bytecode()
    from ado.store.backup import backup

    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        (root / "ado.config.yaml").write_text('version: "1.1"\n')
        (root / ".ado").mkdir()
        db = root / ".ado" / "state.db"
        seeded_store(db, 100_000, events_per_task=5).close()
        url = f"sqlite:///{db}"

        stop, out = root / "stop", root / "samples.json"
        writer = subprocess.Popen([sys.executable, "-c", WRITER, url, str(stop), str(out)])
        windows, durations, size = [], [], 0
        time.sleep(1.0)  # the writer's own baseline before the first backup
        for n in range(5):
            start = time.monotonic()
            size = backup(url, root / f"copy{n}.db").size
            windows.append((start, time.monotonic()))
            durations.append((windows[-1][1] - start) * 1000)
            (root / f"copy{n}.db").unlink()
            time.sleep(1.0)
        stop.touch()
        writer.wait(timeout=60)
        commits = json.loads(out.read_text())

        during = [d * 1000 for s, d in commits if any(a <= s <= b for a, b in windows)]
        between = [d * 1000 for s, d in commits if not any(a <= s <= b for a, b in windows)]

        command = time_command([ADO_BIN, "db", "upgrade"], runs=10, cwd=root)
        fast: list[float] = []
        store: list[float] = []
        for _ in range(10):  # interleaved: the machine's load falls on both alike
            fast += time_command([sys.executable, "-c", FAST.format(url=url)], runs=1, warmup=0)
            store += time_command([sys.executable, "-c", STORE.format(url=url)], runs=1, warmup=0)

    def latency(samples: list[float]) -> str:
        return (
            f"median {statistics.median(samples):.2f}, p99 {percentile(samples, 99):.1f}, "
            f"max {max(samples):.1f} ms, n={len(samples)}"
        )

    median = statistics.median(durations)
    return [
        Result(
            "ado db backup, SQLite, 100k tasks + 500k events",
            median,
            "ms (median)",
            "consistent, writers not blocked",
            True,
            f"{size / 1e6:.0f} MB, {size / 1e6 / (median / 1000):.0f} MB/s; {summary(durations)}",
        ),
        Result(
            "writer commit during a backup",
            statistics.median(during),
            "ms (median)",
            "≈ between backups",
            True,
            f"during: {latency(during)}; between: {latency(between)}",
        ),
        Result(
            "ado db upgrade, store at HEAD",
            statistics.median(command),
            "ms (median)",
            "prestart",
            True,
            f"{summary(command)}; in process: plain connection {summary(fast)} vs Store "
            f"{summary(store)}",
        ),
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
