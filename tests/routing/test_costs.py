from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from ado.config.schema import AdoConfig
from ado.errors import CostLimitError
from ado.routing import Candidate, CostGuard, RouteFilters, Router, check_costs
from ado.store import Store
from tests.routing.routing_helpers import api, make_config, provider, record, sub


def config(**fallback: Any) -> AdoConfig:
    return make_config(
        {"claude-code": provider(sub(1), api(2))},
        apiFallback={"enabled": True, **fallback},
    )


def candidate(store: Store, cfg: AdoConfig, mode: str) -> Candidate:
    plan = Router(cfg, store).plan(RouteFilters(access_mode=mode))
    return plan.candidates[0]


class Asked:
    def __init__(self, answer: bool) -> None:
        self.answer = answer
        self.questions: list[str] = []

    def __call__(self, question: str) -> bool:
        self.questions.append(question)
        return self.answer


def check(
    store: Store,
    cfg: AdoConfig,
    *,
    estimate: float,
    max_cost: float | None = None,
    confirm: Asked | None = None,
    mode: str = "api",
    now: datetime | None = None,
) -> None:
    check_costs(
        store,
        cfg,
        candidate(store, cfg, mode),
        estimate=estimate,
        max_cost=max_cost,
        confirm=confirm,
        now=now or datetime.now(UTC),
    )


def test_subscription_modes_are_never_checked(store: Store) -> None:
    cfg = config(maxDailyCost=1.0)
    record(store, "claude-code", "api", cost=5.0)
    asked = Asked(False)
    check(store, cfg, estimate=100.0, confirm=asked, mode="subscription")
    assert asked.questions == []


def test_daily_limit(store: Store) -> None:
    cfg = config(maxDailyCost=5.0)
    record(store, "claude-code", "api", cost=3.0)
    check(store, cfg, estimate=0.1)
    record(store, "codex", "api", cost=2.0)  # every provider's spend counts
    with pytest.raises(CostLimitError, match=r"Today's API spend \$5.00 has reached"):
        check(store, cfg, estimate=0.1)


def test_daily_limit_counts_from_midnight_utc(store: Store) -> None:
    cfg = config(maxDailyCost=5.0)
    record(store, "claude-code", "api", cost=9.0)
    tomorrow = datetime.now(UTC) + timedelta(days=1)
    check(store, cfg, estimate=0.1, now=tomorrow)


def test_daily_limit_is_checked_first(store: Store) -> None:
    cfg = config(maxDailyCost=5.0, maxCostPerTask=1.0)
    record(store, "claude-code", "api", cost=5.0)
    asked = Asked(True)
    with pytest.raises(CostLimitError, match="daily limit"):
        check(store, cfg, estimate=50.0, confirm=asked)
    assert asked.questions == []


def test_per_task_limit_from_config(store: Store) -> None:
    cfg = config(maxCostPerTask=10.0)
    with pytest.raises(CostLimitError, match=r"maxCostPerTask") as caught:
        check(store, cfg, estimate=11.0)
    assert "$11.00" in str(caught.value)
    check(store, cfg, estimate=10.0)


def test_max_cost_overrides_per_task_limit(store: Store) -> None:
    cfg = config(maxCostPerTask=10.0)
    check(store, cfg, estimate=11.0, max_cost=20.0)
    with pytest.raises(CostLimitError, match=r"--max-cost"):
        check(store, cfg, estimate=0.8, max_cost=0.5)


def test_per_task_limit_is_checked_before_confirmation(store: Store) -> None:
    asked = Asked(True)
    with pytest.raises(CostLimitError):
        check(store, config(maxCostPerTask=1.0, confirmAboveCost=0.5), estimate=2.0, confirm=asked)
    assert asked.questions == []


def test_confirmation_refused(store: Store) -> None:
    asked = Asked(False)
    with pytest.raises(CostLimitError, match="was refused"):
        check(store, config(confirmAboveCost=1.0), estimate=2.0, confirm=asked)
    assert len(asked.questions) == 1
    assert "$2.00" in asked.questions[0] and "claude-code/api" in asked.questions[0]


def test_confirmation_accepted(store: Store) -> None:
    asked = Asked(True)
    check(store, config(confirmAboveCost=1.0), estimate=2.0, confirm=asked)
    assert len(asked.questions) == 1


def test_confirmation_skipped_with_yes(store: Store) -> None:
    check(store, config(confirmAboveCost=1.0), estimate=2.0, confirm=None)


def test_no_confirmation_at_or_below_threshold(store: Store) -> None:
    asked = Asked(False)
    check(store, config(confirmAboveCost=1.0), estimate=1.0, confirm=asked)
    assert asked.questions == []


def test_unset_limits_do_not_apply(store: Store) -> None:
    cfg = config(maxDailyCost=None, maxCostPerTask=None, confirmAboveCost=None)
    record(store, "claude-code", "api", cost=1000.0)
    check(store, cfg, estimate=1000.0, confirm=Asked(False))


def test_cost_guard() -> None:
    guard = CostGuard(1.0)
    assert not guard.exceeded(0.5)
    assert not guard.exceeded(1.0)
    assert guard.exceeded(1.01)
    assert "$1.01" in guard.message(1.01)
    assert not CostGuard(None).exceeded(1e9)


def test_cost_guard_for_task_is_capped_by_the_daily_budget(store: Store) -> None:
    now = datetime.now(UTC)
    cfg = config(maxCostPerTask=10.0, maxDailyCost=12.0)
    assert CostGuard.for_task(store, cfg, max_cost=None, now=now).limit == 10.0
    assert CostGuard.for_task(store, cfg, max_cost=3.0, now=now).limit == 3.0
    record(store, "claude-code", "api", cost=8.0)
    assert CostGuard.for_task(store, cfg, max_cost=None, now=now).limit == pytest.approx(4.0)
    none = config(maxCostPerTask=None, maxDailyCost=None)
    assert CostGuard.for_task(store, none, max_cost=None, now=now).limit is None
