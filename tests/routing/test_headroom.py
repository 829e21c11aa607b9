"""Routing by headroom: the agents' usage windows stop a pair before a 429 and order the rest."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from pydantic import ValidationError

from ado.config.schema import AdoConfig
from ado.routing import Router, Skip, SkipKind
from ado.store import QuotaWindowView, Store
from tests.routing.routing_helpers import api, make_config, provider, sub

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RESET = datetime(2026, 11, 29, 14, 5, tzinfo=UTC)

#: Two subscriptions at equal priority, claude first in configuration order, and a fallback.
PAIRS = {
    "claude-code": provider(sub(1), api(1)),
    "codex": provider(sub(1)),
    "gemini-cli": provider(sub(2)),
}


def reading(
    provider_id: str,
    used: float | None,
    *,
    kind: str = "five_hour",
    status: str = "allowed",
    source: str = "agent",
    resets_at: datetime | None = RESET,
    minutes: int | None = 300,
    observed_at: datetime = NOW - timedelta(minutes=1),
) -> QuotaWindowView:
    return QuotaWindowView(
        provider=provider_id,
        kind=kind,
        status=status,
        source=source,
        used_ratio=used,
        resets_at=resets_at,
        window_minutes=minutes,
        observed_at=observed_at,
    )


def plan_at(
    store: Store, now: datetime = NOW, **routing: object
) -> tuple[list[str], dict[str, Skip]]:
    plan = Router(make_config(PAIRS, **routing), store, now=lambda: now).plan()
    # the API pair is left out by apiFallback (off by default): not this module's business
    return [c.key for c in plan.candidates], {
        s.key: s for s in plan.skipped if s.kind is not SkipKind.API_FALLBACK_OFF
    }


def test_config_defaults_and_bounds() -> None:
    quota = AdoConfig().routing.quota
    assert (quota.warn_at, quota.stop_at) == (0.8, 0.95)
    config = make_config({}, quota={"warnAt": 0.5, "stopAt": 0.5})
    assert config.routing.quota.stop_at == 0.5
    for bad in ({"warnAt": 0.9, "stopAt": 0.85}, {"stopAt": 1.2}, {"warnAt": -0.1}):
        with pytest.raises(ValidationError):
            make_config({}, quota=bad)


def test_without_readings_the_order_is_todays(store: Store) -> None:
    order, skipped = plan_at(store)
    assert order == ["claude-code/subscription", "codex/subscription", "gemini-cli/subscription"]
    assert skipped == {}


def test_more_headroom_goes_first_at_equal_priority(store: Store) -> None:
    store.record_quota(reading("claude-code", 0.6))
    store.record_quota(reading("codex", 0.2, kind="weekly"))
    store.record_quota(reading("codex", 0.3))
    order, _ = plan_at(store)
    # codex's highest window (30 %) leaves more room than claude's 60 %; priority still rules
    assert order == ["codex/subscription", "claude-code/subscription", "gemini-cli/subscription"]


def test_headroom_does_not_beat_priority(store: Store) -> None:
    store.record_quota(reading("claude-code", 0.9))
    store.record_quota(reading("codex", 0.9))
    order, _ = plan_at(store)
    # equal pressure: configuration order; gemini (priority 2, no reading) stays last
    assert order == ["claude-code/subscription", "codex/subscription", "gemini-cli/subscription"]


def test_stop_at_skips_a_pair_before_any_429(store: Store) -> None:
    store.record_quota(reading("claude-code", 0.96))
    plan = Router(make_config(PAIRS), store, now=lambda: NOW).plan()
    assert store.cooldowns(NOW) == []  # nothing was refused: only the ledger speaks
    assert plan.candidates[0].key == "codex/subscription"
    skip = {s.key: s for s in plan.skipped}["claude-code/subscription"]
    assert skip.kind is SkipKind.QUOTA
    assert skip.until == RESET
    assert plan.earliest_reset == RESET
    assert plan.candidates[0].reason == (
        "codex/subscription: priority 1, subscription-first; "
        "skipped claude-code/subscription (5-hour window at 96 %, resets 14:05 UTC)"
    )


def test_stop_at_is_inclusive_and_configurable(store: Store) -> None:
    store.record_quota(reading("claude-code", 0.95))
    _, skipped = plan_at(store)
    assert skipped["claude-code/subscription"].kind is SkipKind.QUOTA
    _, skipped = plan_at(store, quota={"stopAt": 0.99})
    assert "claude-code/subscription" not in skipped


def test_api_modes_are_outside_the_plan_windows(store: Store) -> None:
    store.record_quota(reading("claude-code", 1.0, status="rejected"))
    plan = Router(make_config(PAIRS, apiFallback={"enabled": True}), store, now=lambda: NOW).plan()
    assert "claude-code/api" in [c.key for c in plan.candidates]


def test_rejected_skips_even_without_a_figure(store: Store) -> None:
    store.record_quota(reading("codex", None, kind="weekly", status="rejected", minutes=None))
    order, skipped = plan_at(store)
    assert "codex/subscription" not in order
    assert skipped["codex/subscription"].reason == "weekly window rejected, resets 14:05 UTC"


def test_status_only_warning_neither_stops_nor_counts_as_empty(store: Store) -> None:
    store.record_quota(reading("claude-code", None, status="warning"))
    store.record_quota(reading("codex", 0.5))
    order, skipped = plan_at(store)
    assert skipped == {}
    # a warning without a figure weighs as warnAt (80 %): codex at 50 % goes first
    assert order[:2] == ["codex/subscription", "claude-code/subscription"]


def test_a_window_past_its_reset_no_longer_counts(store: Store) -> None:
    store.record_quota(reading("claude-code", 1.0, status="rejected"))
    order, skipped = plan_at(store, now=RESET + timedelta(seconds=1))
    assert skipped == {}
    assert order[0] == "claude-code/subscription"
    _, skipped = plan_at(store, now=RESET - timedelta(seconds=1))
    assert skipped["claude-code/subscription"].kind is SkipKind.QUOTA


def test_stale_readings_do_not_count(store: Store) -> None:
    # no reset time: the reading lasts one window length from when it was seen
    store.record_quota(
        reading("claude-code", 0.99, resets_at=None, observed_at=NOW - timedelta(hours=6))
    )
    # neither a reset nor a window length: no telling whether it is still current
    store.record_quota(reading("codex", 0.99, resets_at=None, minutes=None))
    # a counted (ADO's own) reading is the limits' business, not the ledger's
    store.record_quota(reading("gemini-cli", 0.99, source="counted"))
    order, skipped = plan_at(store)
    assert skipped == {}
    assert order == ["claude-code/subscription", "codex/subscription", "gemini-cli/subscription"]
    store.record_quota(reading("claude-code", 0.99, resets_at=None, observed_at=NOW))
    _, skipped = plan_at(store)
    assert skipped["claude-code/subscription"].until == NOW + timedelta(minutes=300)


def test_a_reading_of_another_account_leaves_this_one_alone(store: Store) -> None:
    accounts = {
        "claude-work": provider(sub(1), adapter="claude-code"),
        "claude-home": provider(sub(1), adapter="claude-code"),
    }
    store.record_quota(reading("claude-work", 0.97))
    store.record_quota(reading("claude-code", 0.99))  # the adapter's name is not an account here
    plan = Router(make_config(accounts), store, now=lambda: NOW).plan()
    assert [c.key for c in plan.candidates] == ["claude-home/subscription"]
    assert [s.key for s in plan.skipped] == ["claude-work/subscription"]


def test_the_window_that_resets_last_is_named(store: Store) -> None:
    store.record_quota(reading("claude-code", 0.97))
    later = RESET + timedelta(days=2)
    store.record_quota(
        reading("claude-code", None, kind="weekly", status="rejected", resets_at=later)
    )
    _, skipped = plan_at(store)
    skip = skipped["claude-code/subscription"]
    assert skip.until == later
    assert skip.reason == "weekly window rejected, resets 2026-12-01 14:05 UTC"


def test_a_stopped_pair_keeps_its_round_robin_turn(store: Store) -> None:
    store.record_quota(reading("claude-code", 0.99))
    order, skipped = plan_at(store, strategy="round-robin")
    assert skipped["claude-code/subscription"].kind is SkipKind.QUOTA
    assert order == ["codex/subscription", "gemini-cli/subscription"]
