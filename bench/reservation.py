"""What a request reservation adds to a routing decision (``ado.routing.reserve``).

A pair with configured limits has its request reserved after ``Router.plan`` chose it: one
locked write transaction that counts the pair's windows again and inserts the usage row.
Measured on the store ``ado run`` uses (``SqlStore``), SQLite by default or the PostgreSQL
database of ``BENCH_PG_URL``: the routing decision alone (``plan``) and ``plan`` + reserve
(+ release, so the window never fills), interleaved, over ``ROUNDS`` rounds, with 200 usage
records of the last hour in the store. Target at the median: ≤ 5 ms on SQLite; on
PostgreSQL (a round trip per statement) no more than the routing decision itself.
"""

from __future__ import annotations

import os
import statistics
import tempfile
import time
from pathlib import Path

from bench.common import Result, percentile

ROUNDS = 300
TARGET_MS = 5.0


def run() -> list[Result]:
    from ado.config.schema import AdoConfig
    from ado.providers.events import Usage
    from ado.routing.reserve import release, reserve
    from ado.routing.router import Router
    from ado.store import SqlStore, Store

    with tempfile.TemporaryDirectory() as tmp:
        url = os.environ.get("BENCH_PG_URL") or f"sqlite:///{Path(tmp) / 'state.db'}"
        where = "PostgreSQL" if url.startswith("postgres") else "SQLite"
        full = Store(url)
        full.migrate()
        for _ in range(200):
            full.record_usage(
                provider="cursor-agent",
                access_mode="subscription",
                task_id=None,
                attempt_id=None,
                model=None,
                usage=Usage(input_tokens=10),
                cost_usd=0.0,
                api_cost_usd=0.0,
            )
        full.close()
        store = SqlStore(url)
        limits = {"requestsPerHour": 100_000, "requestsPerDay": 100_000}
        config = AdoConfig.model_validate(
            {
                "version": "1.1",
                "providers": {
                    "cursor-agent": {
                        "enabled": True,
                        "accessModes": [
                            {"mode": "subscription", "subscription": {"rateLimits": limits}}
                        ],
                    }
                },
            }
        )
        router = Router(config, store)
        task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
        plan_ms, reserve_ms = [], []
        for _ in range(ROUNDS):
            start = time.perf_counter()
            router.plan()
            plan_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            plan = router.plan()
            cand = reserve(store, plan, task_id)
            reserve_ms.append((time.perf_counter() - start) * 1000)
            assert cand is not None and cand.reservation is not None
            release(store, cand)
        store.close()
    added = [r - p for r, p in zip(reserve_ms, plan_ms, strict=True)]
    extra = statistics.median(reserve_ms) - statistics.median(plan_ms)
    sqlite = where == "SQLite"
    limit = TARGET_MS if sqlite else statistics.median(plan_ms)
    target = f"≤ {TARGET_MS:g} ms" if sqlite else f"≤ the plan's {limit:.1f} ms"
    detail = (
        f"{where}: plan median {statistics.median(plan_ms):.2f} ms, plan + reserve median "
        f"{statistics.median(reserve_ms):.2f} ms (p95 {percentile(reserve_ms, 95):.2f}); "
        f"per round added p95 {percentile(added, 95):.2f} ms, n={ROUNDS}"
    )
    return [Result("request reservation", extra, "ms", target, extra <= limit, detail)]
