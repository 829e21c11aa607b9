"""``/metrics``: scraped over real HTTP after real tasks, parsed with Prometheus' own parser;
and every query of the Grafana dashboard names a series found there."""

from __future__ import annotations

import asyncio
import json
import re
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI
from prometheus_client.parser import text_string_to_metric_families

from ado.config import load_config
from ado.orchestrator import Runner, TaskSpec
from ado.telemetry import start_for_server
from ado.telemetry.instrument import RunnerTelemetry
from ado.telemetry.prometheus import router
from tests.fixtures.ado import Project
from tests.support import free_port, wait_for
from tests.telemetry.test_otlp_run import _two_mode_cursor

DASHBOARD = Path(__file__).resolve().parents[2] / "deploy" / "grafana" / "ado-dashboard.json"
PROMQL_WORDS = {"sum", "by", "rate", "increase", "histogram_quantile", "label_values", "le"}


@pytest.fixture
def metrics_server() -> Iterator[str]:
    app = FastAPI()
    app.include_router(router)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 10, what="uvicorn to start")
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(5)


def _run_task(project: Project, hooks: RunnerTelemetry, prompt: str) -> None:
    config = load_config(cwd=project.root).config
    store = project.store()
    try:
        runner = Runner(config, store, hooks=[hooks])
        spec = TaskSpec(prompt=prompt, cwd=project.root, assume_yes=True)
        # A thread of its own: a loop another test left running cannot get in the way.
        with ThreadPoolExecutor(1) as pool:
            result = pool.submit(asyncio.run, runner.run(spec)).result()
        assert result.status == "succeeded", result.error
    finally:
        store.close()


@pytest.fixture
def scrape(
    project: Project,
    tmp_path: Path,
    metrics_server: str,
) -> Iterator[dict[str, Any]]:
    """Metric families from /metrics after a failover (limit, error) and a second task
    (which skips the cooled-down subscription)."""
    project.write_config(
        {"cursor-agent": _two_mode_cursor(tmp_path)},
        routing={"apiFallback": {"enabled": True}, "failover": {"retryDelay": 0}},
    )
    store = project.store()
    hooks = start_for_server(load_config(cwd=project.root).config, store)
    try:
        _run_task(project, hooks, "first task")
        _run_task(project, hooks, "second task")
        response = httpx.get(f"{metrics_server}/metrics", timeout=10)
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/plain")
        yield {f.name: f for f in text_string_to_metric_families(response.text)}
    finally:
        hooks.shutdown()
        store.close()


def _samples(families: dict[str, Any], name: str, suffix: str = "") -> list[Any]:
    assert name in families, sorted(families)
    return [s for s in families[name].samples if s.name.endswith(suffix)]


def test_metrics_scraped_and_parsed(scrape: dict[str, Any]) -> None:
    families = scrape
    tasks = {
        (s.labels["provider"], s.labels["status"]): s.value
        for s in _samples(families, "ado_tasks")
        if s.name == "ado_tasks_total"
    }
    assert tasks == {("cursor-agent", "succeeded"): 2}
    assert families["ado_tasks"].type == "counter"
    assert families["ado_task_duration_seconds"].type == "histogram"
    buckets = [
        s for s in _samples(families, "ado_task_duration_seconds") if s.name.endswith("_bucket")
    ]
    assert {s.labels["provider"] for s in buckets} == {"cursor-agent"}
    limits = [s for s in _samples(families, "ado_rate_limits") if s.name.endswith("_total")]
    assert [(s.labels["provider"], s.labels["access_mode"], s.value) for s in limits] == [
        ("cursor-agent", "subscription", 1.0)
    ]
    errors = [s for s in _samples(families, "ado_errors") if s.name.endswith("_total")]
    assert [(s.labels["error_type"], s.value) for s in errors] == [("quota_exhausted", 1.0)]
    requests = {
        s.labels["success"]: s.value
        for s in _samples(families, "ado_provider_requests")
        if s.name.endswith("_total")
    }
    assert requests == {"true": 2.0, "false": 1.0}
    latency = [
        s
        for s in _samples(families, "ado_provider_latency_milliseconds")
        if s.name.endswith("_count")
    ]
    assert sum(s.value for s in latency) == 3
    tokens = {
        s.labels["token_type"]: s.value
        for s in _samples(families, "ado_tokens_usage")
        if s.name.endswith("_total")
    }
    assert tokens == {"input": 246.0, "output": 90.0}
    costs = {
        s.labels["access_mode"]: s.value
        for s in _samples(families, "ado_cost_usd")
        if s.name.endswith("_total")
    }
    assert set(costs) == {"subscription", "api"}
    assert [s.value for s in _samples(families, "ado_tasks_active")] == [0.0]
    cooling = {
        (s.labels["provider"], s.labels["access_mode"]): s.value
        for s in _samples(families, "ado_providers_cooldown")
    }
    assert cooling == {("cursor-agent", "subscription"): 1.0}, "read from the store"


def _queries(dashboard: dict[str, Any]) -> list[str]:
    exprs = [t["expr"] for p in dashboard["panels"] for t in p.get("targets", [])]
    for var in dashboard["templating"]["list"]:
        if var["type"] == "query":
            exprs.append(var["definition"])
    return exprs


def test_every_dashboard_query_names_an_exported_series(scrape: dict[str, Any]) -> None:
    exported: dict[str, set[str]] = {}
    for family in scrape.values():
        for sample in family.samples:
            exported.setdefault(sample.name, set()).update(sample.labels)
    dashboard = json.loads(DASHBOARD.read_text())
    queries = _queries(dashboard)
    assert len(queries) >= 15
    for expr in queries:
        names = set(re.findall(r"\bado_[A-Za-z0-9_]+", expr))
        assert names, f"no ADO series in {expr!r}"
        for name in names:
            assert name in exported, (
                f"{name} (in {expr!r}) is not exported; have {sorted(exported)}"
            )
        labels = set()
        for group in re.findall(r"by \(([^)]*)\)", expr):
            labels |= {label.strip() for label in group.split(",")}
        labels |= set(re.findall(r"([a-z_]+)=~?\"", expr))
        labels |= set(re.findall(r"label_values\([a-z_]+, ([a-z_]+)\)", expr))
        for label in labels - {"le"}:
            assert any(label in exported[n] for n in names), f"no label {label} in {expr!r}"
