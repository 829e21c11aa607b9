"""Orchestrator memory with 10 agents running (target ≤ 150 MB).

A child Python process (so nothing the benchmark harness imported counts) runs 10 tasks at
once: 10 ``Runner`` objects sharing one SQLite store, driven by ``asyncio.gather``. Each
task's agent is the tiny scripted cursor-agent (bench/agents.py) streaming
``EVENTS`` stream-json events, one every ``INTERVAL_MS`` ms (about 3 s per agent), so the
runners parse, show and store events the whole time. A sampler reads ``VmRSS`` from
``/proc/self/status`` every 20 ms; the peak reported is the larger of that and the
kernel's ``VmHWM`` (peak resident set of this process only; the agents are children and
are not counted).
"""

from __future__ import annotations

import asyncio
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.common import Result

AGENTS = 10
EVENTS = 300
INTERVAL_MS = 10
TEXT_BYTES = 400


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} missing from /proc/self/status")


async def _child(root: Path) -> dict[str, Any]:
    from ado.options import TaskOptions
    from ado.orchestrator import Runner, TaskSpec, TaskUpdate
    from ado.store import Store
    from ado.vocab import HitlPolicy
    from bench.agents import bench_config, tiny_agent

    command, kind = tiny_agent(root)
    config = bench_config(
        command,
        BENCH_AGENT_EVENTS=str(EVENTS),
        BENCH_AGENT_INTERVAL_MS=str(INTERVAL_MS),
        BENCH_AGENT_TEXT_BYTES=str(TEXT_BYTES),
    )
    store = Store(f"sqlite:///{root / 'state.db'}")
    store.migrate()
    seen = [0]

    def on_update(update: TaskUpdate) -> None:
        seen[0] += 1

    spec = TaskSpec(
        prompt="bench", cwd=root, options=TaskOptions(hitl_policy=HitlPolicy.AUTONOMOUS)
    )
    await Runner(config, store, on_update=on_update).run(spec)  # warm: imports, caches
    baseline = _status_kb("VmRSS")
    peak = baseline
    running = True

    async def sample() -> None:
        nonlocal peak
        while running:
            peak = max(peak, _status_kb("VmRSS"))
            await asyncio.sleep(0.02)

    started = time.monotonic()
    async with asyncio.TaskGroup() as tg:
        tg.create_task(sample())
        results = await asyncio.gather(
            *(Runner(config, store, on_update=on_update).run(spec) for _ in range(AGENTS))
        )
        running = False
    elapsed = time.monotonic() - started
    stored = sum(len(store.list_events(r.task_id, limit=10_000)) for r in results)
    store.close()
    return {
        "agent": kind,
        "baseline_mb": baseline / 1024,
        "peak_mb": max(peak, _status_kb("VmHWM")) / 1024,
        "sampled_peak_mb": peak / 1024,
        "statuses": sorted({r.status for r in results}),
        "events_seen": seen[0],
        "events_stored": stored,
        "seconds": elapsed,
    }


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        proc = subprocess.run(
            [sys.executable, "-m", "bench.memory_agents", "--child", tmp],
            capture_output=True,
            text=True,
            check=False,
            cwd=Path(__file__).resolve().parent.parent,
        )
    if proc.returncode != 0:
        raise RuntimeError(f"memory_agents child failed:\n{proc.stderr[-2000:]}")
    m = json.loads(proc.stdout.splitlines()[-1])
    if m["statuses"] != ["succeeded"]:
        raise RuntimeError(f"memory_agents: tasks ended {m['statuses']}")
    return [
        Result(
            f"orchestrator peak RSS, {AGENTS} agents",
            m["peak_mb"],
            "MB",
            "≤ 150 MB",
            m["peak_mb"] <= 150,
            f"idle after imports {m['baseline_mb']:.1f} MB; {m['events_stored']} events stored "
            f"in {m['seconds']:.1f} s; agent {m['agent']}",
        )
    ]


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        print(json.dumps(asyncio.run(_child(Path(sys.argv[2])))))
    else:
        for r in run():
            print(r.line())
