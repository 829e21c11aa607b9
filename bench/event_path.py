"""CPU per event stored (target ≤ 0.1 ms): what ADO spends on each line an agent prints.

The tiny agent prints ``EVENTS`` events (text and tool call/result pairs, 200 bytes of
text) as fast as it can; the task runs in-process through ``Runner`` against a SQLite
store, as ``ado run`` does, and every event is stored (below ``storage.maxEventsPerTask``).
The figure is the process's CPU time (``time.process_time``: every thread, the store's
writes included; the agent's own CPU is another process's) for that task, minus the CPU of
the same task with no events, divided by ``EVENTS``. Runs alternate so drift hits both.

The path measured: reading and splitting lines, the sanitizing check, JSON decoding, the
adapter's parser, the per-event size limit, the caps, and the batched inserts.
"""

from __future__ import annotations

import asyncio
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.agents import bench_config, tiny_agent
from bench.common import Result

RUNS = 5
EVENTS = 20_000
TARGET_MS = 0.1


async def _cpu(config: Any, store: Any, spec: Any) -> float:
    from ado.orchestrator import Runner

    runner = Runner(config, store)
    start = time.process_time()
    result = await runner.run(spec)
    if result.status != "succeeded":
        raise RuntimeError(f"bench task {result.status}: {result.error}")
    return time.process_time() - start


def run() -> list[Result]:
    from ado.orchestrator import TaskSpec
    from ado.store import Store

    with tempfile.TemporaryDirectory(prefix="ado-bench-events-") as tmp:
        root = Path(tmp)
        command, _ = tiny_agent(root)
        store = Store(f"sqlite:///{root / 'state.db'}")
        store.migrate()
        spec = TaskSpec(prompt="bench", cwd=root)
        full = bench_config(command, BENCH_AGENT_EVENTS=str(EVENTS))
        empty = bench_config(command, BENCH_AGENT_EVENTS="0")
        per_event: list[float] = []
        try:
            asyncio.run(_cpu(empty, store, spec))  # warm-up: lazy imports
            for _ in range(RUNS):
                base = asyncio.run(_cpu(empty, store, spec))
                busy = asyncio.run(_cpu(full, store, spec))
                per_event.append((busy - base) / EVENTS * 1000)
        finally:
            store.close()
    median = statistics.median(per_event)
    return [
        Result(
            "CPU per event stored",
            median * 1000,
            "µs",
            f"≤ {TARGET_MS * 1000:.0f} µs",
            median <= TARGET_MS,
            f"median of {RUNS} tasks of {EVENTS:,} events; "
            f"min {min(per_event) * 1000:.1f}, max {max(per_event) * 1000:.1f} µs",
        )
    ]


if __name__ == "__main__":
    for result in run():
        print(result.line())
