"""Small helpers shared by the CLI tests."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import update

from ado.providers.events import Usage
from ado.store import Store
from ado.store.models import UsageRecord
from tests.fixtures.ado import Project


def store_of(project: Project) -> Store:
    """The project's store, created (and migrated) when no run has created it yet."""
    (project.root / ".ado").mkdir(exist_ok=True)
    return project.store()


def run_json(project: Project, *args: str, code: int = 0) -> dict[str, Any]:
    """``ado run --json``: the summary line."""
    proc = project.run("run", "--json", *args, check_code=code)
    summary: dict[str, Any] = json.loads(proc.stdout.splitlines()[-1])
    assert summary["kind"] == "summary"
    return summary


def api_mode(cfg: dict[str, Any], priority: int = 1) -> dict[str, Any]:
    """``cfg`` (from ``fake_cursor``) reached through a pay-per-token API key instead."""
    return {
        **cfg,
        "accessModes": [
            {"mode": "api", "priority": priority, "api": {"apiKey": "sk-fake-cursor-key"}}
        ],
    }


def record_usage(
    store: Store,
    *,
    provider: str = "cursor-agent",
    mode: str = "api",
    cost: float = 0.0,
    tokens: tuple[int, int] = (1000, 100),
    days_ago: float = 0,
) -> None:
    """A usage record as a run would write it; ``days_ago`` backdates it."""
    store.record_usage(
        provider=provider,
        access_mode=mode,
        task_id=None,
        attempt_id=None,
        model=None,
        usage=Usage(input_tokens=tokens[0], output_tokens=tokens[1]),
        cost_usd=cost,
        api_cost_usd=cost,
    )
    if days_ago:
        when = datetime.now(UTC) - timedelta(days=days_ago)
        with store.session() as session:
            newest = session.query(UsageRecord).order_by(UsageRecord.id.desc()).first()
            assert newest is not None
            session.execute(
                update(UsageRecord).where(UsageRecord.id == newest.id).values(created_at=when)
            )
