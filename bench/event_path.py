"""CPU per event stored and streamed (target ≤ 0.1 ms): what ADO spends on each line an
agent prints.

The tiny agent prints ``EVENTS`` events (text and tool call/result pairs, 200 bytes of
text) as fast as it can; the task runs in-process through ``Runner`` against a SQLite
store, as ``ado run`` does, and every event is stored (below ``storage.maxEventsPerTask``).
The figure is the process's CPU time (``time.process_time``: every thread, the store's
writes included; the agent's own CPU is another process's) for that task, minus the CPU of
the same task with no events, divided by ``EVENTS``. Runs alternate so drift hits both.

Two figures:

- **stored**: the task alone, as ``ado run`` runs it. The path: reading and splitting
  lines, the sanitizing check, JSON decoding, the adapter's parser, the per-event size
  limit, the caps, and the batched inserts.
- **stored and streamed**: the same task with the live path of ``ado serve`` in the same
  process and event loop: the ``LiveBus`` polling the store, and the real ``/api/ws`` route
  under uvicorn sending every event to one WebSocket subscriber (a client in another
  process, which must receive every event of the task: its CPU is not counted). The
  subscriber asks for batches (``/api/ws?batch=1``, as the dashboard does); with
  ``BENCH_WS_BATCH=0`` it takes one message per event, as a client that does not ask.
  ``BENCH_WS_DEFLATE=0`` turns uvicorn's per-message compression off (on in ``ado serve``).
"""

from __future__ import annotations

import asyncio
import os
import socket
import statistics
import sys
import tempfile
import textwrap
import time
from pathlib import Path
from typing import Any

from bench.agents import bench_config, tiny_agent
from bench.common import Result

RUNS = 5
EVENTS = 20_000
TARGET_MS = 0.1

#: The subscriber: says "ready" once connected, then gathers the task's events until its
#: ``task_finished`` and prints how many came. A subscriber that falls behind is resynced
#: (``ado.server.live``): the events it missed are replayed from the store, as a dashboard
#: gets them.
CLIENT = textwrap.dedent("""\
    import asyncio, json, sys
    from websockets.asyncio.client import connect

    async def main():
        async with connect(sys.argv[1], max_size=None) as ws:
            json.loads(await ws.recv())  # hello
            print("ready", flush=True)
            ids, resyncs = set(), 0
            while True:
                message = json.loads(await asyncio.wait_for(ws.recv(), 60))
                if message["type"] == "resync":
                    resyncs += 1
                events = message.get("events") or [message.get("event")]
                if message["type"] not in ("event", "events"):
                    continue
                for event in events:
                    ids.add(event["id"])
                    if event["kind"] == "task_finished":
                        print(len(ids), resyncs, flush=True)
                        return

    asyncio.run(main())
""")


async def _stored(config: Any, store: Any, spec: Any) -> float:
    from ado.orchestrator import Runner

    runner = Runner(config, store)
    start = time.process_time()
    result = await runner.run(spec)
    if result.status != "succeeded":
        raise RuntimeError(f"bench task {result.status}: {result.error}")
    return time.process_time() - start


async def _streamed(config: Any, store: Any, spec: Any, events: int) -> float:
    """The task with a live WebSocket subscriber; CPU until it has received every event."""
    import uvicorn
    from fastapi import FastAPI

    from ado.api.routes.ws import router
    from ado.orchestrator import Runner
    from ado.server.live import LiveBus

    batch = os.environ.get("BENCH_WS_BATCH", "1")
    bus = LiveBus(store)
    bus.start()
    await bus.ready()
    app = FastAPI()
    app.include_router(router)
    app.state.bus = bus
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    deflate = os.environ.get("BENCH_WS_DEFLATE", "1") != "0"
    server = uvicorn.Server(
        uvicorn.Config(app, log_level="warning", lifespan="off", ws_per_message_deflate=deflate)
    )
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    client = None
    try:
        while not server.started:  # noqa: ASYNC110 (a flag uvicorn sets, no event)
            await asyncio.sleep(0.01)
        client = await asyncio.create_subprocess_exec(
            sys.executable, "-c", CLIENT, f"ws://127.0.0.1:{port}/api/ws?batch={batch}", stdout=-1
        )
        assert client.stdout is not None
        if (await client.stdout.readline()).strip() != b"ready":
            raise RuntimeError("the WebSocket client did not connect")
        runner = Runner(config, store)
        start = time.process_time()
        result = await runner.run(spec)
        received = (await asyncio.wait_for(client.stdout.readline(), 120)).decode().split()
        cpu = time.process_time() - start
        if result.status != "succeeded":
            raise RuntimeError(f"bench task {result.status}: {result.error}")
        if not received or int(received[0]) < events:
            raise RuntimeError(f"the subscriber got {received}, not all {events} events")
        return cpu
    finally:
        if client is not None and client.returncode is None:
            client.kill()
            await client.wait()
        server.should_exit = True
        await serving
        await bus.stop()
        sock.close()


def run() -> list[Result]:
    from ado.orchestrator import TaskSpec
    from ado.store import Store

    results: dict[str, list[float]] = {"stored": [], "stored and streamed": []}
    with tempfile.TemporaryDirectory(prefix="ado-bench-events-") as tmp:
        root = Path(tmp)
        command, _ = tiny_agent(root)
        store = Store(f"sqlite:///{root / 'state.db'}")
        store.migrate()
        spec = TaskSpec(prompt="bench", cwd=root)
        full = bench_config(command, BENCH_AGENT_EVENTS=str(EVENTS))
        empty = bench_config(command, BENCH_AGENT_EVENTS="0")
        try:
            asyncio.run(_stored(empty, store, spec))  # warm-up: lazy imports
            asyncio.run(_streamed(empty, store, spec, 0))
            for _ in range(RUNS):
                base = asyncio.run(_stored(empty, store, spec))
                busy = asyncio.run(_stored(full, store, spec))
                results["stored"].append((busy - base) / EVENTS * 1000)
                base = asyncio.run(_streamed(empty, store, spec, 0))
                busy = asyncio.run(_streamed(full, store, spec, EVENTS))
                results["stored and streamed"].append((busy - base) / EVENTS * 1000)
        finally:
            store.close()
    out = []
    for what, per_event in results.items():
        median = statistics.median(per_event)
        out.append(
            Result(
                f"CPU per event {what}",
                median * 1000,
                "µs",
                f"≤ {TARGET_MS * 1000:.0f} µs",
                median <= TARGET_MS,
                f"median of {RUNS} tasks of {EVENTS:,} events; "
                f"min {min(per_event) * 1000:.1f}, max {max(per_event) * 1000:.1f} µs",
            )
        )
    return out


if __name__ == "__main__":
    for result in run():
        print(result.line())
