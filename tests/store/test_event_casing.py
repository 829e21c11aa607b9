"""Migration 0010: events an older ADO stored (snake_case data) read as the new ones do.

The old rows are written as that ADO wrote them (raw SQL, at revision 0008), then the store
is upgraded: ADO's keys become camelCase, what the agent gave keeps its spelling, on SQLite
and PostgreSQL. Downgrading gives the old rows back exactly."""

from __future__ import annotations

import importlib.util
import json
from collections.abc import Iterator
from typing import Any

import pytest
from alembic import command
from alembic.config import Config
from sqlalchemy import text

from ado.api import wire
from ado.api.schemas import EventData
from ado.providers.events import EventKind
from ado.store import HEAD, Store
from ado.store.database import MIGRATIONS_DIR

#: A tool's input: the agent's, with snake_case keys at every depth.
TOOL_INPUT = {"file_path": "/a.py", "old_string": "x", "nested": {"tool_name": "kept"}}
RESET = "2026-12-01T03:00:00+00:00"

#: (attempt: claude | gemini | None, kind, data as 0008 stored it, data as it reads now)
ROWS: list[tuple[str | None, str, dict[str, Any], dict[str, Any]]] = [
    ("claude", "tool_call",
     {"tool_id": "t1", "tool_name": "Edit", "tool_input": TOOL_INPUT, "files": ["/a.py"]},
     {"toolId": "t1", "toolName": "Edit", "toolInput": TOOL_INPUT, "files": ["/a.py"]}),
    ("claude", "tool_result",
     {"tool_id": "t1", "is_error": True, "text": "héllo ✓ no such file"},
     {"toolId": "t1", "isError": True, "text": "héllo ✓ no such file"}),
    ("claude", "usage",
     {"usage": {"input_tokens": 10, "output_tokens": 2, "cache_read_tokens": 1,
                "cache_write_tokens": 0, "cost_usd": 0.01, "model": "m"}},
     {"usage": {"inputTokens": 10, "outputTokens": 2, "cacheReadTokens": 1,
                "cacheWriteTokens": 0, "costUsd": 0.01, "model": "m"}}),
    ("claude", "result",  # num_turns, duration_ms: claude's own names
     {"is_error": False, "session_id": "s1", "text": "done",
      "data": {"subtype": "success", "num_turns": 3, "duration_ms": 1200}},
     {"isError": False, "sessionId": "s1", "text": "done",
      "data": {"subtype": "success", "num_turns": 3, "duration_ms": 1200}}),
    ("claude", "rate_limit",  # claude's api_retry fields, retry_delay_ms among them
     {"text": "API error 429", "retrying": True, "status_code": 429,
      "data": {"attempt": 1, "max_retries": 10, "retry_delay_ms": 500}},
     {"text": "API error 429", "retrying": True, "statusCode": 429,
      "data": {"attempt": 1, "max_retries": 10, "retry_delay_ms": 500}}),
    ("gemini", "rate_limit",  # a delay ADO read from gemini's message: ADO's key
     {"retrying": True, "reset_at": RESET, "data": {"retry_delay_ms": 5791}},
     {"retrying": True, "resetAt": RESET, "data": {"retryDelayMs": 5791}}),
    ("claude", "attempt_started",
     {"text": "priority 1",
      "data": {"number": 1, "provider": "claude-code", "access_mode": "subscription"}},
     {"text": "priority 1",
      "data": {"number": 1, "provider": "claude-code", "accessMode": "subscription"}}),
    ("claude", "quota",
     {"reset_at": RESET,
      "data": {"window": "five_hour", "status": "warning", "used_ratio": 0.87,
               "window_minutes": 300}},
     {"resetAt": RESET,
      "data": {"window": "five_hour", "status": "warning", "usedRatio": 0.87,
               "windowMinutes": 300}}),
    ("claude", "log",
     {"text": "output truncated",
      "data": {"output_truncated": True, "max_events": 5, "max_bytes": 100,
               "truncated_bytes": 12}},
     {"text": "output truncated",
      "data": {"outputTruncated": True, "maxEvents": 5, "maxBytes": 100,
               "truncatedBytes": 12}}),
    ("claude", "attempt_finished",
     {"text": "ok", "reset_at": RESET,
      "data": {"outcome": "success", "exit_code": 0, "duration_s": 1.5, "cost_usd": 0.0,
               "api_cost_usd": 0.2, "api_key_source": "ANTHROPIC_API_KEY"}},
     {"text": "ok", "resetAt": RESET,
      "data": {"outcome": "success", "exitCode": 0, "durationS": 1.5, "costUsd": 0.0,
               "apiCostUsd": 0.2, "apiKeySource": "ANTHROPIC_API_KEY"}}),
    (None, "task_finished",
     {"text": "done", "data": {"status": "succeeded", "exit_code": 0}},
     {"text": "done", "data": {"status": "succeeded", "exitCode": 0}}),
    (None, "text", {}, {}),
]  # fmt: skip


def _alembic(connection: Any) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS_DIR))
    config.attributes["connection"] = connection
    return config


@pytest.fixture
def old_store(store_url: str) -> Iterator[tuple[Store, int]]:
    """A store at revision 0008 holding ``ROWS`` as that ADO stored them."""
    store = Store(store_url)
    try:
        with store.session() as session:
            command.upgrade(_alembic(session.connection()), "0008")
        task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
        attempts = {
            name: store.start_attempt(
                task_id, number=n, provider=provider, access_mode="subscription",
                model=None, reason="test",
            )
            for n, (name, provider) in enumerate(
                (("claude", "claude-code"), ("gemini", "gemini-cli")), 1
            )
        }  # fmt: skip
        cast = "CAST(:data AS json)" if store_url.startswith("postgresql") else ":data"
        with store.session() as session:
            for attempt, kind, old, _ in ROWS:
                session.execute(
                    text(
                        "INSERT INTO events (task_id, attempt_id, kind, data, created_at)"
                        f" VALUES (:task, :attempt, :kind, {cast}, CURRENT_TIMESTAMP)"
                    ),
                    {"task": task_id, "attempt": attempts.get(attempt or ""), "kind": kind,
                     "data": json.dumps(old, ensure_ascii=False)},
                )  # fmt: skip
        yield store, task_id
    finally:
        store.close()


def test_old_events_read_as_new_ones_after_the_upgrade(old_store: tuple[Store, int]) -> None:
    store, task_id = old_store
    store.migrate()
    assert store.current_revision() == HEAD
    events = store.list_events(task_id)
    assert [(e.kind, e.data) for e in events] == [(kind, new) for _, kind, _, new in ROWS]
    # served as stored: the API's shape, the live messages' text, the CLI's event lines
    for event in events:
        body = wire.EVENT(event)["data"]
        dumped = EventData.model_validate(body).model_dump(by_alias=True, exclude_none=True)
        assert set(dumped) == set(body)
    texts = store.events_since(0)
    assert [json.loads(t.data_json) for t in texts] == [new for *_, new in ROWS]
    call = events[0].to_agent_event()
    assert call.kind is EventKind.TOOL_CALL and call.tool_input == TOOL_INPUT
    finished = next(e for e in events if e.kind == "attempt_finished").to_agent_event()
    assert finished.data["exitCode"] == 0 and finished.reset_at is not None


def test_downgrade_gives_the_old_rows_back(old_store: tuple[Store, int]) -> None:
    store, task_id = old_store
    store.migrate()
    with store.session() as session:  # 0010's own downgrade (0009's copies tables)
        command.downgrade(_alembic(session.connection()), "0009")
    assert [e.data for e in store.list_events(task_id)] == [old for _, _, old, _ in ROWS]


def test_the_new_form_is_left_as_it_is() -> None:
    """Converting is idempotent: a row already camelCase (or a key the agent spelled so) does
    not change, and downgrading knows gemini's delay from claude's by the provider."""
    spec = importlib.util.spec_from_file_location(
        "event_casing", MIGRATIONS_DIR / "versions" / "0010_event_data_camel_case.py"
    )
    assert spec is not None and spec.loader is not None
    migration = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(migration)
    providers = {"claude": "claude-code", "gemini": "gemini-cli", None: None}
    for attempt, kind, old, new in ROWS:
        provider = providers[attempt]
        assert migration.convert(old, kind, provider) == new
        assert migration.convert(new, kind, provider) == new
        assert migration.convert(new, kind, provider, down=True) == old
