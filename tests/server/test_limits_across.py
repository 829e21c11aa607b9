"""Limits hold across processes: the last request of a window goes to one process only, and
a cooldown one process learns is respected by the next routing decision of another — on
SQLite and PostgreSQL, with real subprocesses."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from ado.config.schema import AdoConfig
from ado.errors import CostLimitError
from ado.providers.events import Usage
from ado.routing.costs import check_costs
from ado.routing.reserve import reserve
from ado.routing.router import Router
from ado.store import Store
from ado.store.urls import DATABASE_URL_ENV
from tests.fixtures.ado import Project
from tests.server.conftest import Gate, Server
from tests.support import wait_for

#: Reserve one request of cursor-agent/subscription once a barrier file appears; print the
#: reservation's id (or null).
_RACER = textwrap.dedent("""\
    import json, sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from ado.config.schema import AccessModeConfig
    from ado.routing.limits import limit_windows
    from ado.store import SqlStore

    url, barrier, per_hour = sys.argv[1], Path(sys.argv[2]), int(sys.argv[3])
    store = SqlStore(url)
    mode = AccessModeConfig.model_validate(
        {"mode": "subscription", "subscription": {"rateLimits": {"requestsPerHour": per_hour}}}
    )
    print("ready", flush=True)
    while not barrier.exists():
        time.sleep(0.001)
    now = datetime.now(UTC)
    got = store.reserve_request(
        "cursor-agent", "subscription", limits=limit_windows(mode, now), now=now
    )
    print(json.dumps(got), flush=True)
""")


def _migrate(url: str) -> None:
    store = Store(url)
    try:
        store.migrate()
    finally:
        store.close()


def _requests(store: Store, since: datetime) -> int:
    return store.usage_totals("cursor-agent", "subscription", since).requests


def _seed(store: Store, n: int) -> None:
    for _ in range(n):
        store.record_usage(
            provider="cursor-agent",
            access_mode="subscription",
            task_id=None,
            attempt_id=None,
            model=None,
            usage=Usage(),
            cost_usd=0.0,
            api_cost_usd=0.0,
        )


def test_racing_processes_take_only_the_requests_left(store_url: str, tmp_path: Path) -> None:
    """8 processes reserve at the same instant with 3 requests left of 10: exactly 3 win."""
    store = Store(store_url)
    store.migrate()
    before = datetime.now(UTC) - timedelta(seconds=1)
    try:
        _seed(store, 7)
        barrier = tmp_path / "go"
        racers = [
            subprocess.Popen(
                [sys.executable, "-c", _RACER, store_url, str(barrier), "10"],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(8)
        ]
        for racer in racers:  # every one connected and waiting at the barrier
            assert racer.stdout is not None and racer.stdout.readline() == "ready\n"
        barrier.touch()
        results = []
        for racer in racers:
            out, err = racer.communicate(timeout=60)
            assert racer.returncode == 0, err
            results.append(json.loads(out))
        won = [r for r in results if r is not None]
        assert len(won) == 3, results
        assert len(set(won)) == 3
        assert _requests(store, before) == 10
        # And the one past the limit is refused, in process as across processes.
        assert (
            store.reserve_request(
                "cursor-agent",
                "subscription",
                limits=[_Limit(before, "requests", 10)],
                now=datetime.now(UTC),
            )
            is None
        )
    finally:
        store.close()


class _Limit:
    def __init__(self, since: datetime, unit: str, limit: int) -> None:
        self.since, self.unit, self.limit = since, unit, limit


def test_released_and_settled_reservations(store: Store) -> None:
    """A released reservation frees its request; a settled one is the attempt's usage."""
    now = datetime.now(UTC)
    limits = [_Limit(now - timedelta(hours=1), "requests", 1)]
    first = store.reserve_request("cursor-agent", "subscription", limits=limits, now=now)
    assert first is not None
    assert store.reserve_request("cursor-agent", "subscription", limits=limits, now=now) is None
    store.release_request(first)
    second = store.reserve_request("cursor-agent", "subscription", limits=limits, now=now)
    assert second is not None
    store.record_usage(
        provider="cursor-agent",
        access_mode="subscription",
        task_id=None,
        attempt_id=None,
        model="m",
        usage=Usage(input_tokens=5, output_tokens=7),
        cost_usd=0.0,
        api_cost_usd=0.5,
        reservation=second,
    )
    totals = store.usage_totals("cursor-agent", "subscription", now - timedelta(minutes=1))
    assert (totals.requests, totals.tokens, totals.api_cost_usd) == (1, 12, 0.5)
    # A cooldown refuses a reservation even with requests left.
    store.release_request(second)
    store.set_cooldown(
        "cursor-agent",
        "subscription",
        until=now + timedelta(minutes=5),
        kind="rate_limited",
        reason=None,
        reset_known=False,
    )
    assert store.reserve_request("cursor-agent", "subscription", limits=limits, now=now) is None


def test_a_cost_refusal_gives_the_reserved_request_back(store: Store) -> None:
    config = AdoConfig.model_validate(
        {
            "version": "1.1",
            "providers": {
                "claude-code": {
                    "enabled": True,
                    "accessModes": [
                        {"mode": "api", "api": {"rateLimits": {"requestsPerMinute": 1}}}
                    ],
                }
            },
            "routing": {"apiFallback": {"enabled": True, "maxCostPerTask": 0.01}},
        }
    )
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    cand = reserve(store, Router(config, store).plan(), task_id)
    assert cand is not None and cand.reservation is not None
    since = datetime.now(UTC) - timedelta(minutes=1)
    assert store.usage_totals("claude-code", "api", since).requests == 1
    with pytest.raises(CostLimitError):
        check_costs(
            store, config, cand, estimate=1.0, max_cost=None, confirm=None, now=datetime.now(UTC)
        )
    assert store.usage_totals("claude-code", "api", since).requests == 0


def _limited(gate: Gate, per_hour: int, **provider: Any) -> dict[str, Any]:
    entry = gate.provider(**provider)
    entry["accessModes"][0]["subscription"] = {"rateLimits": {"requestsPerHour": per_hour}}
    return entry


def test_ado_runs_racing_for_the_last_request_start_one_agent(
    store_url: str, project: Project, gate: Gate
) -> None:
    """4 ``ado run`` processes, one request left: one agent starts (and holds the request
    while it runs), the other three find no provider."""
    _migrate(store_url)
    project.write_config({"cursor-agent": _limited(gate, 1)})
    env = {DATABASE_URL_ENV: store_url}
    runs = [project.popen("run", "-y", f"task {i}", env=env) for i in range(4)]
    try:
        losers = wait_for(
            lambda: (done := [r for r in runs if r.poll() is not None]) and len(done) == 3 and done,
            120,
            what="three of the four runs to give up",
        )
        assert gate.starts() == 1
        for run in losers:
            _, err = run.communicate()
            assert run.returncode == 3, err
            assert "1/1 requests in the last hour (requestsPerHour)" in err
        gate.open()
        (winner,) = [r for r in runs if r not in losers]
        _, err = winner.communicate(timeout=60)
        assert winner.returncode == 0, err
    finally:
        gate.open()
        for run in runs:
            if run.poll() is None:
                run.kill()
            run.communicate()
    store = Store(store_url)
    try:
        tasks = store.list_tasks()
        assert sorted(t.status for t in tasks) == ["failed", "failed", "failed", "succeeded"]
        totals = store.usage_totals(
            "cursor-agent", "subscription", datetime(2000, 1, 1, tzinfo=UTC)
        )
        assert totals.requests == 1 and totals.tokens > 0  # the reservation became the usage
    finally:
        store.close()


def test_a_cooldown_is_respected_by_the_next_decision_of_a_running_server(
    store_url: str,
    project: Project,
    gate: Gate,
    serve: Any,
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    """A server already running (its routing warm) parks the next task at once when another
    process has just stored a cooldown: no agent starts."""
    _migrate(store_url)
    monkeypatch.setenv(DATABASE_URL_ENV, store_url)
    project.write_config({"cursor-agent": gate.provider(gated=False)})
    other = Project(tmp_path / "other")  # the same store, an agent that hits its limit
    other.root.mkdir()
    other.write_config({"cursor-agent": gate.provider("rate_limit", gated=False)})
    server: Server = serve()
    with server.client() as client:
        warm = client.post("/api/tasks", json={"prompt": "warm up"}).json()["id"]
        wait_for(
            lambda: client.get(f"/api/tasks/{warm}").json()["status"] == "succeeded",
            60,
            what="the server's first task to succeed",
        )
        other.run("run", "-y", "learn the limit")
        store = Store(store_url)
        try:
            assert store.cooldowns(datetime.now(UTC)), "the run stored no cooldown"
        finally:
            store.close()
        starts = gate.starts()
        task = client.post("/api/tasks", json={"prompt": "after the cooldown"}).json()["id"]
        parked = wait_for(
            lambda: (t := client.get(f"/api/tasks/{task}").json())["status"] == "parked" and t,
            60,
            what="the task to be parked",
        )
        assert "cooldown" in (parked.get("parkReason") or ""), parked
        assert gate.starts() == starts
