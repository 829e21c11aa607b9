"""What telemetry costs: per task and per event, on against off.

(a) per task: the same task run in-process through ``Runner`` (the tiny agent printing
    ``EVENTS`` events: text and tool call/result pairs, then a result), against a SQLite
    store, alternately with telemetry off and on, run by run so drift hits both alike.
    "On" is what ``ado run`` builds with ``observability.telemetry.enabled``: the span and
    metric listeners, ``TRACEPARENT`` for the agent, a ``BatchSpanProcessor`` and a periodic
    metric reader exporting OTLP/HTTP protobuf to a local receiver (a stdlib HTTP server
    that answers 200), so the export work is real. overhead = median(on) - median(off).
(b) per event: ``RunnerTelemetry.on_update`` timed alone over a task's worth of events
    (attempt start, text, tool call/result pairs, usage, attempt end, task end): the time
    the runner's event loop spends in telemetry per event.
(c) off: what ``ado run`` does when telemetry is off: ``resolve()`` of the configuration
    and the environment, and no OpenTelemetry import at all (checked in-process).
"""

from __future__ import annotations

import asyncio
import statistics
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from bench.agents import bench_config, tiny_agent
from bench.common import Result, percentile, summary

RUNS = 40
WARMUP = 3
EVENTS = 40
TASK_TARGET_MS = 5.0
EVENT_TARGET_US = 50.0


@contextmanager
def _receiver() -> Iterator[str]:
    class Sink(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


async def _task(config: Any, store: Any, spec: Any, hooks: Any) -> float:
    from ado.orchestrator import Runner

    runner = Runner(config, store, hooks=[hooks] if hooks is not None else [])
    start = time.perf_counter()
    result = await runner.run(spec)
    if result.status != "succeeded":
        raise RuntimeError(f"bench task {result.status}: {result.error}")
    return (time.perf_counter() - start) * 1000


def _per_task(root: Path, command: Path, endpoint: str) -> tuple[list[float], list[float]]:
    from ado.options import TaskOptions
    from ado.orchestrator import TaskSpec
    from ado.store import Store
    from ado.telemetry.instrument import RunnerTelemetry
    from ado.telemetry.setup import start
    from ado.vocab import HitlPolicy

    config = bench_config(command, BENCH_AGENT_EVENTS=str(EVENTS))
    config.observability.telemetry.enabled = True
    config.observability.telemetry.endpoint = endpoint
    store = Store(f"sqlite:///{root / 'telemetry.db'}")
    store.migrate()
    spec = TaskSpec(
        prompt="bench", cwd=root, options=TaskOptions(hitl_policy=HitlPolicy.AUTONOMOUS)
    )
    telemetry = start(config.observability.telemetry)
    hooks = RunnerTelemetry.create(telemetry, config)
    off: list[float] = []
    on: list[float] = []

    async def measure() -> None:
        for i in range(WARMUP + RUNS):
            a = await _task(config, store, spec, None)
            b = await _task(config, store, spec, hooks)
            if i >= WARMUP:
                off.append(a)
                on.append(b)

    try:
        asyncio.run(measure())
    finally:
        telemetry.shutdown()
        store.close()
    return off, on


def _events() -> list[Any]:
    from ado.orchestrator.task import AttemptInfo, TaskUpdate
    from ado.providers.base import Outcome
    from ado.providers.events import AgentEvent, EventKind, Usage
    from ado.vocab import OutcomeKind

    info = AttemptInfo(1, 1, "cursor-agent", "subscription", None, "bench")
    events = [TaskUpdate(1, info, AgentEvent(EventKind.ATTEMPT_STARTED, text="bench"))]
    for i in range(EVENTS // 2):
        if i % 2:
            events.append(TaskUpdate(1, info, AgentEvent(EventKind.TEXT, text="x" * 200)))
            events.append(TaskUpdate(1, info, AgentEvent(EventKind.USAGE, usage=Usage(10, 5))))
        else:
            tool = f"t{i}"
            events.append(
                TaskUpdate(1, info, AgentEvent(EventKind.TOOL_CALL, tool_id=tool, tool_name="Edit"))
            )
            events.append(TaskUpdate(1, info, AgentEvent(EventKind.TOOL_RESULT, tool_id=tool)))
    info.outcome = Outcome(OutcomeKind.SUCCESS, "done")
    info.usage = Usage(100, 50)
    events.append(
        TaskUpdate(
            1,
            info,
            AgentEvent(EventKind.ATTEMPT_FINISHED, data={"outcome": "success", "durationS": 1}),
        )
    )
    events.append(TaskUpdate(1, None, AgentEvent(EventKind.TASK_FINISHED, data={"status": "ok"})))
    return events


def _per_event(endpoint: str) -> list[float]:
    """Microseconds per event, one sample per task's worth of events."""
    from ado.config.schema import AdoConfig
    from ado.telemetry.config import TelemetryConfig
    from ado.telemetry.instrument import RunnerTelemetry
    from ado.telemetry.setup import start

    config = AdoConfig()
    config.observability.telemetry = TelemetryConfig(enabled=True, endpoint=endpoint)
    telemetry = start(config.observability.telemetry)
    hooks = RunnerTelemetry.create(telemetry, config)
    events = _events()
    samples = []
    try:
        for i in range(WARMUP + RUNS * 10):
            for update in events:
                update.task_id = i + 1
            start_ns = time.perf_counter_ns()
            hooks.on_task_start(i + 1, None)  # type: ignore[arg-type]
            for update in events:
                hooks.on_update(update)
            if i >= WARMUP:
                samples.append((time.perf_counter_ns() - start_ns) / 1000 / len(events))
            if i % 40 == 0:  # export outside the timed part, as the batch thread would
                telemetry.flush()
    finally:
        telemetry.shutdown()
    return samples


def _off_cost() -> tuple[float, bool]:
    from ado.telemetry.config import TelemetryConfig
    from ado.telemetry.setup import resolve

    loaded_before = any(name.startswith("opentelemetry") for name in sys.modules)
    config = TelemetryConfig()
    start = time.perf_counter_ns()
    for _ in range(1000):
        resolve(config)
    per_call_us = (time.perf_counter_ns() - start) / 1000 / 1000
    return per_call_us, loaded_before


def run() -> list[Result]:
    off_us, loaded = _off_cost()
    with tempfile.TemporaryDirectory() as tmp, _receiver() as endpoint:
        root = Path(tmp)
        command, kind = tiny_agent(root)
        off, on = _per_task(root, command, endpoint)
        per_event = _per_event(endpoint)
    task_overhead = statistics.median(on) - statistics.median(off)
    event_us = statistics.median(per_event)
    return [
        Result(
            f"telemetry overhead per task ({EVENTS} agent events, tiny agent {kind})",
            task_overhead,
            "ms (median)",
            f"≤ {TASK_TARGET_MS:.0f} ms",
            task_overhead <= TASK_TARGET_MS,
            f"on {summary(on)}; off {summary(off)}",
        ),
        Result(
            "telemetry overhead per event (spans + metrics, OTLP export on)",
            event_us,
            "µs (median)",
            f"≤ {EVENT_TARGET_US:.0f} µs",
            event_us <= EVENT_TARGET_US,
            f"p95 {percentile(per_event, 95):.1f} µs",
        ),
        Result(
            "telemetry off: cost of deciding it is off",
            off_us,
            "µs per ado run",
            "no OpenTelemetry import",
            not loaded,
            "opentelemetry imported before start: " + ("yes" if loaded else "no"),
        ),
    ]


if __name__ == "__main__":
    for r in run():
        print(r.line())
    sys.exit(0)
