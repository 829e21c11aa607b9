"""An API app over the parametrized ``store`` (SQLite and PostgreSQL), driven in process."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from ado.api import RateLimit, create_app
from ado.config.loader import LoadedConfig
from ado.config.schema import AdoConfig
from ado.providers.events import AgentEvent, Usage
from ado.store import Store

CONFIG: dict[str, Any] = {
    "providers": {
        "claude-code": {
            "enabled": True,
            "command": "/nonexistent/claude",
            "accessModes": [
                {"mode": "subscription", "priority": 1},
                {"mode": "api", "priority": 5},
            ],
            "capabilities": {"languages": ["python"]},
        },
        "codex": {
            "enabled": True,
            "command": "/nonexistent/codex",
            "accessModes": [{"mode": "subscription", "priority": 2}],
        },
    },
    "routing": {"apiFallback": {"enabled": True}},
}


def loaded_config(tmp_path: Path, data: dict[str, Any] | None = None) -> LoadedConfig:
    return LoadedConfig(AdoConfig.model_validate(data or CONFIG), None, tmp_path)


@pytest.fixture
def make_client(store: Store, tmp_path: Path) -> Iterator[Callable[..., TestClient]]:
    clients: list[TestClient] = []

    def make(**kwargs: Any) -> TestClient:
        kwargs.setdefault("loaded_config", loaded_config(tmp_path))
        kwargs.setdefault("rate_limit", RateLimit(per_minute=100_000))
        client = TestClient(create_app(store=store, **kwargs))
        client.__enter__()
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.__exit__(None, None, None)


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def add_finished_task(
    store: Store,
    *,
    prompt: str = "a task",
    provider: str = "claude-code",
    mode: str = "subscription",
    status: str = "succeeded",
    seconds: float = 10.0,
    cost: float = 0.0,
    api_cost: float = 0.5,
    finished: datetime | None = None,
    events: Sequence[AgentEvent] = (),
) -> int:
    """A task that ran one attempt, recorded the way the runner records it (``events``:
    the task's, stored before it ends, as the runner's are)."""
    task_id = store.create_task(prompt=prompt, cwd="/tmp", hitl_policy="autonomous", options={})
    if events:
        store.add_events(task_id, None, list(events))
    attempt = store.start_attempt(
        task_id, number=1, provider=provider, access_mode=mode, model=None, reason="test"
    )
    usage = Usage(input_tokens=1000, output_tokens=200)
    store.record_usage(
        provider=provider,
        access_mode=mode,
        task_id=task_id,
        attempt_id=attempt,
        model=None,
        usage=usage,
        cost_usd=cost,
        api_cost_usd=api_cost,
    )
    store.finish_attempt(
        attempt,
        outcome="success" if status == "succeeded" else "crashed",
        message="done",
        exit_code=0,
        session_id="s-1",
        reset_at=None,
        usage=usage,
        cost_usd=cost,
        api_cost_usd=api_cost,
        files=["a.py"],
    )
    store.finish_task(task_id, status=status, result_text="ok", exit_code=0)
    end = finished or datetime.now(UTC)
    store.update_task(task_id, started_at=end - timedelta(seconds=seconds), finished_at=end)
    return task_id
