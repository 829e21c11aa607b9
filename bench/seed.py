"""Filling a store with many tasks, attempts, events and usage records, fast."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import insert

from ado.store import Store
from ado.store.models import Attempt, Event, Task, UsageRecord

PROVIDERS = ("claude-code", "codex", "gemini-cli", "copilot", "opencode")
STATUSES = ("succeeded",) * 8 + ("failed", "cancelled")


def seed(store: Store, tasks: int, events_per_task: int = 0, batch: int = 5000) -> None:
    rng = random.Random(7)
    now = datetime.now(UTC)
    next_id = 1
    while next_id <= tasks:
        n = min(batch, tasks - next_id + 1)
        ids = range(next_id, next_id + n)
        task_rows, attempt_rows, usage_rows, event_rows = [], [], [], []
        for i in ids:
            created = now - timedelta(seconds=(tasks - i) * 30)
            provider = PROVIDERS[i % len(PROVIDERS)]
            tokens_in, tokens_out = rng.randint(500, 50_000), rng.randint(100, 5_000)
            api_cost = tokens_in * 3e-6 + tokens_out * 15e-6
            common = {
                "input_tokens": tokens_in,
                "output_tokens": tokens_out,
                "cache_read_tokens": 0,
                "cache_write_tokens": 0,
                "cost_usd": 0.0,
                "api_cost_usd": api_cost,
            }
            task_rows.append(
                {
                    "id": i,
                    "prompt": f"benchmark task {i}: refactor module {i % 97}",
                    "cwd": "/tmp/bench",
                    "status": STATUSES[i % len(STATUSES)],
                    "hitl_policy": "autonomous",
                    "options": {},
                    "routing_reason": "seeded",
                    "provider": provider,
                    "access_mode": "subscription",
                    "attempt_count": 1,
                    "created_at": created,
                    "started_at": created,
                    "finished_at": created + timedelta(seconds=40),
                    "updated_at": created,
                    **common,
                }
            )
            attempt_rows.append(
                {
                    "id": i,
                    "task_id": i,
                    "number": 1,
                    "provider": provider,
                    "access_mode": "subscription",
                    "outcome": "success",
                    "files_changed": {},
                    "started_at": created,
                    "finished_at": created + timedelta(seconds=40),
                    **common,
                }
            )
            usage_rows.append(
                {
                    "provider": provider,
                    "access_mode": "subscription",
                    "task_id": i,
                    "attempt_id": i,
                    "requests": 1,
                    "created_at": created,
                    **common,
                }
            )
            for e in range(events_per_task):
                event_rows.append(
                    {
                        "task_id": i,
                        "attempt_id": i,
                        "kind": "text",
                        "data": {"text": f"step {e}"},
                        "created_at": created,
                    }
                )
        with store.session() as s:
            s.execute(insert(Task), task_rows)
            s.execute(insert(Attempt), attempt_rows)
            s.execute(insert(UsageRecord), usage_rows)
            if event_rows:
                s.execute(insert(Event), event_rows)
            s.commit()
        next_id += n


def seeded_store(path: Path, tasks: int, events_per_task: int = 0) -> Store:
    store = Store(f"sqlite:///{path}")
    store.migrate()
    seed(store, tasks, events_per_task)
    return store
