"""Usage records, cooldowns, key-values and reports, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ado.providers.events import Usage
from ado.store import Store

from .test_tasks import attempt, new_task


def record(
    store: Store,
    provider: str = "claude-code",
    mode: str = "subscription",
    *,
    task_id: int | None = None,
    attempt_id: int | None = None,
    tokens: tuple[int, int, int, int] = (100, 50, 10, 5),
    cost: float = 0.0,
    api_cost: float = 0.2,
    requests: int = 1,
) -> None:
    store.record_usage(
        provider=provider,
        access_mode=mode,
        task_id=task_id,
        attempt_id=attempt_id,
        model="sonnet",
        usage=Usage(*tokens),
        cost_usd=cost,
        api_cost_usd=api_cost,
        requests=requests,
    )


def test_usage_totals_per_pair_since(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    record(store)
    record(store, requests=3, cost=0.0, api_cost=0.3)
    record(store, "claude-code", "api", cost=1.5, api_cost=1.5)
    record(store, "codex", "subscription")

    totals = store.usage_totals("claude-code", "subscription", before)
    assert (totals.requests, totals.tokens) == (4, 330)
    assert totals.cost_usd == 0.0
    assert totals.api_cost_usd == pytest.approx(0.5)
    later = store.usage_totals("claude-code", "subscription", datetime.now(UTC) + timedelta(1))
    assert (later.requests, later.tokens, later.cost_usd, later.api_cost_usd) == (0, 0, 0.0, 0.0)
    assert store.usage_totals("gemini-cli", "api", before).requests == 0


def test_spend_since_sums_every_provider(store: Store) -> None:
    before = datetime.now(UTC) - timedelta(seconds=1)
    assert store.spend_since(before) == 0.0
    record(store, "claude-code", "api", cost=1.25)
    record(store, "codex", "api", cost=0.5)
    record(store, "codex", "subscription", cost=0.0, api_cost=9.0)
    assert store.spend_since(before) == pytest.approx(1.75)
    assert store.spend_since(datetime.now(UTC) + timedelta(seconds=1)) == 0.0


def test_set_cooldown_upserts_and_expires(store: Store) -> None:
    now = datetime.now(UTC)
    task_id = new_task(store)
    store.set_cooldown(
        "claude-code",
        "subscription",
        until=now + timedelta(hours=1),
        kind="rate_limited",
        reason="429",
        reset_known=False,
    )
    store.set_cooldown(
        "claude-code",
        "subscription",
        until=now + timedelta(hours=5),
        kind="quota_exhausted",
        reason="5-hour limit",
        reset_known=True,
        task_id=task_id,
    )
    store.set_cooldown(
        "codex",
        "api",
        until=now + timedelta(minutes=1),
        kind="rate_limited",
        reason="",
        reset_known=True,
    )

    active = store.cooldowns(now)
    assert [(c.provider, c.access_mode) for c in active] == [
        ("claude-code", "subscription"),
        ("codex", "api"),
    ]
    claude = active[0]
    assert (claude.kind, claude.reason, claude.reset_known, claude.task_id) == (
        "quota_exhausted",
        "5-hour limit",
        True,
        task_id,
    )
    assert claude.until == now + timedelta(hours=5)
    assert [c.provider for c in store.cooldowns(now + timedelta(minutes=2))] == ["claude-code"]
    assert store.cooldowns(now + timedelta(hours=6)) == []

    store.clear_cooldown("claude-code", "subscription")
    store.clear_cooldown("claude-code", "subscription")  # clearing twice is fine
    assert [c.provider for c in store.cooldowns(now)] == ["codex"]


def test_values_upsert(store: Store) -> None:
    assert store.get_value("router.round_robin") is None
    store.set_value("router.round_robin", {"last": "codex/api"})
    store.set_value("router.round_robin", {"last": "claude-code/subscription", "n": [1, 2]})
    assert store.get_value("router.round_robin") == {
        "last": "claude-code/subscription",
        "n": [1, 2],
    }


def test_usage_report_groups_by_pair(store: Store) -> None:
    start = datetime.now(UTC) - timedelta(seconds=1)
    one, two = new_task(store), new_task(store)
    a1 = attempt(store, one)
    a2 = attempt(store, one, number=2, provider="codex")
    a3 = attempt(store, two, provider="codex")
    record(store, task_id=one, attempt_id=a1, tokens=(1, 2, 3, 4), api_cost=0.1)
    record(store, "codex", task_id=one, attempt_id=a2, tokens=(10, 20, 0, 0), api_cost=0.2)
    record(store, "codex", task_id=two, attempt_id=a3, tokens=(5, 5, 0, 0), requests=2)
    record(store, "gemini-cli", "api", cost=0.75, api_cost=0.75)  # usage without an attempt

    rows = store.usage_report(start)
    assert [(r.provider, r.access_mode) for r in rows] == [
        ("claude-code", "subscription"),
        ("codex", "subscription"),
        ("gemini-cli", "api"),
    ]
    claude, codex, gemini = rows
    assert (claude.tasks, claude.attempts, claude.requests) == (1, 1, 1)
    assert (claude.input_tokens, claude.output_tokens) == (1, 2)
    assert (claude.cache_read_tokens, claude.cache_write_tokens) == (3, 4)
    assert (codex.tasks, codex.attempts, codex.requests) == (2, 2, 3)
    assert (codex.input_tokens, codex.output_tokens) == (15, 25)
    assert codex.api_cost_usd == pytest.approx(0.4)
    assert (gemini.tasks, gemini.attempts, gemini.requests) == (0, 0, 1)
    assert gemini.cost_usd == pytest.approx(0.75)

    assert [r.provider for r in store.usage_report(None, "codex")] == ["codex"]
    assert store.usage_report(datetime.now(UTC) + timedelta(seconds=1)) == []


def test_task_status_counts(store: Store) -> None:
    assert store.task_status_counts() == {}
    ids = [new_task(store) for _ in range(4)]
    store.finish_task(ids[0], status="succeeded")
    store.finish_task(ids[1], status="succeeded")
    store.finish_task(ids[2], status="failed")
    assert store.task_status_counts() == {"succeeded": 2, "failed": 1, "running": 1}
    assert store.task_status_counts(datetime.now(UTC) + timedelta(seconds=1)) == {}
