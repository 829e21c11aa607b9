"""A worker pool warms up before it reports ready: what a first task's start would load is
loaded, nothing is written or spawned; a warm-up that fails leaves a pool that still runs."""

from __future__ import annotations

import asyncio
import json
import logging
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from ado.config.schema import AdoConfig
from ado.server.workers import WorkerPool
from ado.store import Store
from tests.server.conftest import Gate

#: Modules a task's start imports lazily, which a cold pool loaded at its first task.
LAZY = ["ado.orchestrator.runner", "ado.routing.router", "ado.routing.reserve", "genai_prices"]

_POOL = """\
import asyncio, json, sys
from ado.config.schema import AdoConfig
from ado.server.workers import WorkerPool
from ado.store import Store

config = AdoConfig.model_validate(json.loads(sys.argv[1]))
store = Store(sys.argv[2])
store.migrate()
before = [m for m in json.loads(sys.argv[3]) if m in sys.modules]

async def main():
    pool = WorkerPool(store, lambda: config, concurrency=1, claims=False)
    pool.start()
    await pool.ready()
    loaded = [m for m in json.loads(sys.argv[3]) if m in sys.modules]
    await pool.stop(1)
    return loaded

print(json.dumps({"before": before, "ready": asyncio.run(main())}))
"""


def _config(gate: Gate) -> AdoConfig:
    return AdoConfig.model_validate(
        {"version": "1.1", "providers": {"cursor-agent": gate.provider(gated=False)}}
    )


def test_a_ready_pool_has_loaded_a_tasks_start_and_written_nothing(
    tmp_path: Path, gate: Gate
) -> None:
    database = tmp_path / "state.db"
    config = {"version": "1.1", "providers": {"cursor-agent": gate.provider(gated=False)}}
    argv = [sys.executable, "-c", textwrap.dedent(_POOL), json.dumps(config)]
    done = subprocess.run(
        [*argv, f"sqlite:///{database}", json.dumps(LAZY)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    modules = json.loads(done.stdout.splitlines()[-1])
    assert modules == {"before": [], "ready": LAZY}
    with sqlite3.connect(database) as conn:
        for table in ("tasks", "attempts", "events", "usage_records", "cooldowns", "workers"):
            assert conn.execute(f"SELECT count(*) FROM {table}").fetchone() == (0,), table
    assert gate.starts() == 0  # no agent spawned, not even for its version


async def test_a_pool_whose_warm_up_fails_is_ready_and_says_so(
    tmp_path: Path, gate: Gate, caplog: pytest.LogCaptureFixture
) -> None:
    database = tmp_path / "state.db"
    store = Store(f"sqlite:///{database}")
    store.migrate()
    with sqlite3.connect(database) as conn:  # what the routing reads is unreadable
        conn.execute("DROP TABLE cooldowns")
    pool = WorkerPool(store, lambda: _config(gate), concurrency=1, claims=False)
    try:
        with caplog.at_level(logging.INFO, logger="ado.server"):
            pool.start()
            await asyncio.wait_for(pool.ready(), 30)
        assert "warming up the worker pool failed" in caplog.text
        assert "cooldowns" in caplog.text
    finally:
        await pool.stop(1)
        store.close()
