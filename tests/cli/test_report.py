"""``ado report``: its numbers are the stored ones, over each period and format."""

from __future__ import annotations

import csv
import io
import json
from datetime import datetime
from typing import Any

import pytest

from ado.cli.render import format_tokens
from tests.cli.helpers import api_mode, record_usage, run_json
from tests.fixtures.ado import FakeCursor, Project


@pytest.fixture
def history(project: Project, fake_cursor: FakeCursor) -> Project:
    """Two real subscription runs today, plus API usage today, 3, 20 and 100 days ago."""
    project.write_config({"cursor-agent": fake_cursor()})
    run_json(project, "one")
    run_json(project, "two")
    store = project.store()
    record_usage(store, cost=0.25, tokens=(1000, 100))
    record_usage(store, cost=1.0, tokens=(2000, 200), days_ago=3)
    record_usage(store, cost=2.0, tokens=(4000, 400), days_ago=20)
    record_usage(store, cost=4.0, tokens=(8000, 800), days_ago=100)
    record_usage(store, provider="codex", mode="subscription", tokens=(10, 1), days_ago=100)
    return project


def report(project: Project, *args: str) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(
        project.run("report", "--format", "json", *args, check_code=0).stdout
    )
    return data


@pytest.mark.parametrize(
    ("period", "api_cost", "api_input"),
    [("today", 0.25, 1000), ("week", 1.25, 3000), ("month", 3.25, 7000), ("all", 7.25, 15000)],
)
def test_json_rows_match_the_store(
    history: Project, period: str, api_cost: float, api_input: int
) -> None:
    data = report(history, "--period", period)
    assert data["period"] == period
    rows = {(r["provider"], r["accessMode"]): r for r in data["rows"]}
    api = rows[("cursor-agent", "api")]
    assert api["costUsd"] == pytest.approx(api_cost)
    assert api["inputTokens"] == api_input
    sub = rows[("cursor-agent", "subscription")]
    assert (sub["tasks"], sub["attempts"], sub["requests"]) == (2, 2, 2)
    assert (sub["inputTokens"], sub["outputTokens"], sub["costUsd"]) == (246, 90, 0.0)
    assert (("codex", "subscription") in rows) == (period == "all")
    assert data["totalCostUsd"] == pytest.approx(api_cost)
    assert data["totalApiCostUsd"] == pytest.approx(api_cost + sub["apiCostUsd"])

    stored = history.store().usage_report(None if period == "all" else _since(data))
    assert [(r.provider, r.access_mode, r.requests, r.input_tokens) for r in stored] == [
        (r["provider"], r["accessMode"], r["requests"], r["inputTokens"]) for r in data["rows"]
    ]
    assert (data["since"] is None) == (period == "all")


def _since(data: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(data["since"])


def test_provider_filter(history: Project) -> None:
    data = report(history, "--period", "all", "--provider", "codex")
    assert [(r["provider"], r["inputTokens"]) for r in data["rows"]] == [("codex", 10)]


def test_csv_has_the_same_numbers(history: Project) -> None:
    out = history.run("report", "--period", "all", "--format", "csv", check_code=0).stdout
    rows = list(csv.DictReader(io.StringIO(out)))
    as_json = report(history, "--period", "all")["rows"]
    assert [r["provider"] for r in rows] == [r["provider"] for r in as_json]
    for line, record in zip(rows, as_json, strict=True):
        assert int(line["requests"]) == record["requests"]
        assert int(line["input_tokens"]) == record["inputTokens"]
        assert float(line["cost_usd"]) == pytest.approx(record["costUsd"])


def test_table_shows_rows_and_totals(history: Project) -> None:
    out = history.run("report", "--period", "week", check_code=0).stdout
    assert "Usage — week since" in out
    api_row = next(line for line in out.splitlines() if "│ api" in line)
    assert "$1.25" in api_row and f" {format_tokens(3000)} " in api_row
    total = next(line for line in out.splitlines() if "total" in line)
    assert "$1.25" in total


def test_api_runs_are_reported_with_their_cost(project: Project, fake_cursor: FakeCursor) -> None:
    project.write_config(
        {"cursor-agent": api_mode(fake_cursor())}, routing={"apiFallback": {"enabled": True}}
    )
    summary = run_json(project, "-y", "paid run")
    assert summary["costUsd"] > 0
    (row,) = report(project)["rows"]
    assert (row["provider"], row["accessMode"], row["tasks"]) == ("cursor-agent", "api", 1)
    assert row["costUsd"] == pytest.approx(summary["costUsd"])


def test_empty_report(project: Project) -> None:
    assert "No usage today." in project.run("report", check_code=0).stdout
    assert report(project)["rows"] == []


def test_bad_period_is_a_usage_error(project: Project) -> None:
    proc = project.run("report", "--period", "year", check_code=2)
    assert "'year' is not one of" in proc.stderr
