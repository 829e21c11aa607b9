"""Orchestrator overhead to an agent's first event (target ≤ 50 ms).

Two timings, interleaved run by run so drift hits both alike:

(a) direct: the agent started with ``asyncio.create_subprocess_exec`` (the same argv,
    environment and pipes ADO uses), from the call to its first stdout line;
(b) through ADO, in-process: from ``Runner.run(spec)`` to the ``on_update`` callback
    receiving the first event that came from the agent (not one the runner emits itself).
    The runner creates the task, routes, records the attempt and spawns the agent, all
    against a SQLite store in a temp dir, as ``ado run`` does.

overhead = median(b) - median(a); "p95" is p95(b) - median(a). Measured with the tiny
agent (C, ~1 ms start-up, so the figure is ADO's own) and with the project's Python fake
cursor-agent (whose interpreter start-up adds noise to both sides). The first task of the
process is reported apart ("cold"): it also pays for the lazy imports of routing, pricing
and the adapter, which ``ado run`` pays once per process.
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from bench.agents import ORCHESTRATOR_KINDS, bench_config, python_agent, tiny_agent
from bench.common import Result, percentile, summary

RUNS = 40
WARMUP = 3


async def _direct(argv: list[str], cwd: str, env: dict[str, str]) -> float:
    start = time.perf_counter()
    proc = await asyncio.create_subprocess_exec(
        *argv,
        cwd=cwd,
        env=env,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = await proc.stdout.readline()
    elapsed = (time.perf_counter() - start) * 1000
    await proc.communicate()
    if not line:
        raise RuntimeError(f"{argv[0]} printed nothing (exit {proc.returncode})")
    return elapsed


async def _through_ado(config: Any, store: Any, spec: Any) -> float:
    from ado.orchestrator import Runner, TaskUpdate

    first: list[float] = []

    def on_update(update: TaskUpdate) -> None:
        if not first and update.event.kind.value not in ORCHESTRATOR_KINDS:
            first.append(time.perf_counter())

    runner = Runner(config, store, on_update=on_update)
    start = time.perf_counter()
    result = await runner.run(spec)
    if result.status != "succeeded" or not first:
        raise RuntimeError(f"bench task {result.task_id} {result.status}: {result.error}")
    return (first[0] - start) * 1000


async def _measure(command: Path, root: Path) -> dict[str, Any]:
    from ado.options import TaskOptions
    from ado.orchestrator import TaskSpec
    from ado.providers import get_adapter
    from ado.providers.base import Permission, RunRequest
    from ado.store import Store
    from ado.vocab import HitlPolicy

    config = bench_config(command)
    store = Store(f"sqlite:///{root / f'{command.name}.db'}")
    store.migrate()
    spec = TaskSpec(
        prompt="bench", cwd=root, options=TaskOptions(hitl_policy=HitlPolicy.AUTONOMOUS)
    )
    adapter = get_adapter("cursor-agent")
    request = RunRequest(
        prompt="bench",
        cwd=str(root),
        permission=Permission.from_policy("autonomous", yolo=False),
        command=str(command),
    )
    argv, env = adapter.command(request), adapter.environment(request)
    try:
        cold = await _through_ado(config, store, spec)
        direct, ado = [], []
        for i in range(WARMUP + RUNS):
            a = await _direct(argv, str(root), env)
            b = await _through_ado(config, store, spec)
            if i >= WARMUP:
                direct.append(a)
                ado.append(b)
    finally:
        store.close()
    return {"cold": cold, "direct": direct, "ado": ado}


def _results(label: str, m: dict[str, Any]) -> list[Result]:
    direct, ado = m["direct"], m["ado"]
    base = statistics.median(direct)
    overhead = statistics.median(ado) - base
    p95 = percentile(ado, 95) - base
    return [
        Result(
            f"first event overhead, {label}",
            overhead,
            "ms (median)",
            "≤ 50 ms",
            overhead <= 50,
            f"p95 {p95:.1f}; through ADO {summary(ado)}; direct {summary(direct)}; "
            f"cold first task {m['cold']:.1f}",
        )
    ]


def run() -> list[Result]:
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        tiny, kind = tiny_agent(root)
        fake = python_agent(root)
        tiny_m = asyncio.run(_measure(tiny, root))
        fake_m = asyncio.run(_measure(fake, root))
    return [*_results(f"tiny agent ({kind})", tiny_m), *_results("Python fake agent", fake_m)]


if __name__ == "__main__":
    for r in run():
        print(r.line())
    sys.exit(0)
