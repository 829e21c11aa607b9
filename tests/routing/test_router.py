from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ado.config.schema import AdoConfig
from ado.errors import NoProviderAvailable, UnknownProviderError, UsageError
from ado.orchestrator.compose import effective_config
from ado.routing import Candidate, RouteFilters, Router, SkipKind
from ado.store import Store
from tests.routing.routing_helpers import api, make_config, provider, record, sub


def keys(candidates: list[Candidate]) -> list[str]:
    return [c.key for c in candidates]


def skip_kinds(router: Router, filters: RouteFilters | None = None) -> dict[str, SkipKind]:
    return {s.key: s.kind for s in router.plan(filters).skipped}


THREE = {
    "claude-code": provider(sub(2), api(2)),
    "codex": provider(sub(1)),
    "gemini-cli": provider(sub(2)),
}


# -- subscription-first ordering --------------------------------------------------------


def test_orders_by_priority_then_config_order(store: Store) -> None:
    plan = Router(make_config(THREE), store).plan()
    assert keys(plan.candidates) == ["codex/subscription", "claude-code/subscription",
                                     "gemini-cli/subscription"]  # fmt: skip
    assert plan.candidates[0].priority == 1
    assert plan.candidates[0].reason == "codex/subscription: priority 1, subscription-first"


def test_order_is_stable_for_equal_priorities(store: Store) -> None:
    config = make_config({name: provider(sub(5)) for name in ("b", "a", "c")})
    for _ in range(3):
        assert keys(Router(config, store).plan().candidates) == [
            "b/subscription",
            "a/subscription",
            "c/subscription",
        ]


def test_subscription_before_api_at_equal_priority(store: Store) -> None:
    config = make_config({"claude-code": provider(api(3), sub(3))}, apiFallback={"enabled": True})
    assert keys(Router(config, store).plan().candidates) == [
        "claude-code/subscription",
        "claude-code/api",
    ]


def test_free_mode_counts_as_subscription(store: Store) -> None:
    config = make_config(
        {"opencode": provider(api(1), {"mode": "free", "priority": 1})},
        apiFallback={"enabled": True},
    )
    assert keys(Router(config, store).plan().candidates) == ["opencode/free", "opencode/api"]


def test_api_modes_only_with_fallback(store: Store) -> None:
    off = make_config(THREE)
    on = make_config(THREE, apiFallback={"enabled": True})
    assert "claude-code/api" not in keys(Router(off, store).plan().candidates)
    assert skip_kinds(Router(off, store))["claude-code/api"] is SkipKind.API_FALLBACK_OFF
    assert keys(Router(on, store).plan().candidates)[-1] == "claude-code/api"
    # --allow-api / --no-api win over the configuration
    allowed = Router(off, store).plan(RouteFilters(allow_api=True))
    assert "claude-code/api" in keys(allowed.candidates)
    assert "claude-code/api" not in keys(
        Router(on, store).plan(RouteFilters(allow_api=False)).candidates
    )
    # asking for the api mode by name allows it
    plan = Router(off, store).plan(RouteFilters(access_mode="api"))
    assert keys(plan.candidates) == ["claude-code/api"]


# -- filters ------------------------------------------------------------------------------


def test_provider_filter(store: Store) -> None:
    router = Router(make_config(THREE), store)
    plan = router.plan(RouteFilters(provider="gemini-cli"))
    assert keys(plan.candidates) == ["gemini-cli/subscription"]
    skipped = {s.key: s for s in plan.skipped}
    assert skipped["codex/subscription"].kind is SkipKind.FILTERED
    assert "--provider gemini-cli" in skipped["codex/subscription"].reason


def test_providers_filter_keeps_its_order(store: Store) -> None:
    router = Router(make_config(THREE), store)
    plan = router.plan(RouteFilters(providers=("gemini-cli", "codex")))
    assert keys(plan.candidates) == ["gemini-cli/subscription", "codex/subscription"]


def test_exclude_filter(store: Store) -> None:
    plan = Router(make_config(THREE), store).plan(RouteFilters(exclude=("codex",)))
    assert "codex/subscription" not in keys(plan.candidates)
    assert {s.key: s.reason for s in plan.skipped}["codex/subscription"] == "excluded by --exclude"


def test_access_mode_filter(store: Store) -> None:
    config = make_config(THREE, apiFallback={"enabled": True})
    plan = Router(config, store).plan(RouteFilters(access_mode="subscription"))
    assert "claude-code/api" not in keys(plan.candidates)
    with pytest.raises(UsageError, match="Unknown access mode"):
        Router(config, store).plan(RouteFilters(access_mode="paid"))


@pytest.mark.parametrize(
    "filters",
    [
        RouteFilters(provider="nope"),
        RouteFilters(providers=("codex", "nope")),
        RouteFilters(exclude=("nope",)),
    ],
)
def test_unknown_provider_names_raise(store: Store, filters: RouteFilters) -> None:
    with pytest.raises(UnknownProviderError) as caught:
        Router(make_config(THREE), store).plan(filters)
    assert caught.value.provider == "nope"
    assert "claude-code, codex, gemini-cli" in str(caught.value)


def test_capability_filter(store: Store) -> None:
    config = make_config(
        {
            "claude-code": provider(sub(1), capabilities={"codeReview": False}),
            "codex": provider(sub(2), capabilities={"languages": ["python", "go"]}),
            "gemini-cli": provider(sub(3)),
        }
    )
    router = Router(config, store)
    assert keys(router.plan(RouteFilters(capabilities=("codeReview",))).candidates) == [
        "codex/subscription",
        "gemini-cli/subscription",
    ]
    plan = router.plan(RouteFilters(capabilities=("code_review", "rust")))
    # codex lists languages without rust; gemini lists none, so takes any
    assert keys(plan.candidates) == ["gemini-cli/subscription"]
    reasons = {s.key: s for s in plan.skipped}
    assert reasons["codex/subscription"].kind is SkipKind.MISSING_CAPABILITY
    assert reasons["codex/subscription"].reason == "lacks capability rust"


def test_disabled_provider_and_mode(store: Store) -> None:
    config = make_config(
        {
            "claude-code": {"enabled": False, "accessModes": [sub(1)]},
            "codex": provider(sub(1, enabled=False), {"mode": "free", "priority": 2}),
        }
    )
    plan = Router(config, store).plan()
    assert keys(plan.candidates) == ["codex/free"]
    kinds = {s.key: s.kind for s in plan.skipped}
    assert kinds["claude-code/subscription"] is SkipKind.DISABLED_PROVIDER
    assert kinds["codex/subscription"] is SkipKind.DISABLED_MODE


def test_provider_without_access_modes_is_skipped(store: Store) -> None:
    plan = Router(make_config({"codex": {"enabled": True}}), store).plan()
    assert plan.candidates == []
    assert plan.skipped[0].kind is SkipKind.NO_ACCESS_MODES


def test_not_installed(store: Store) -> None:
    asked: list[str] = []

    def installed(name: str) -> bool:
        asked.append(name)
        return name != "codex"

    config = make_config({**THREE, "codex": provider(sub(1), api(1))})
    plan = Router(config, store, installed=installed).plan()
    assert keys(plan.candidates) == ["claude-code/subscription", "gemini-cli/subscription"]
    assert {s.key: s.kind for s in plan.skipped}["codex/subscription"] is SkipKind.NOT_INSTALLED
    assert asked.count("codex") == 1  # asked once per plan, not per mode
    assert "skipped codex/subscription (not installed)" in plan.candidates[0].reason


@pytest.mark.parametrize("tried", [("codex", "subscription"), "codex/subscription"])
def test_exclude_pairs_already_tried(store: Store, tried: tuple[str, str] | str) -> None:
    plan = Router(make_config(THREE), store).plan(exclude_pairs={tried})
    assert keys(plan.candidates)[0] == "claude-code/subscription"
    assert "skipped codex/subscription (already tried for this task)" in plan.candidates[0].reason


# -- limits and cooldowns -----------------------------------------------------------------


def test_cooldown_skips_until_it_expires(store: Store) -> None:
    now = datetime.now(UTC)
    until = now + timedelta(minutes=5)
    store.set_cooldown(
        "codex", "subscription", until=until, kind="rate_limited", reason="429",
        reset_known=True,
    )  # fmt: skip
    config = make_config(THREE)
    plan = Router(config, store, now=lambda: now).plan()
    assert keys(plan.candidates)[0] == "claude-code/subscription"
    skip = {s.key: s for s in plan.skipped}["codex/subscription"]
    assert skip.kind is SkipKind.COOLDOWN
    assert skip.until == until
    assert plan.earliest_reset == until
    assert f"skipped codex/subscription (cooldown until {until:%H:%M} UTC)" in (
        plan.candidates[0].reason
    )
    later = Router(config, store, now=lambda: until + timedelta(seconds=1)).plan()
    assert keys(later.candidates)[0] == "codex/subscription"
    assert later.earliest_reset is None


def test_rate_limited_pair_is_skipped(store: Store) -> None:
    config = make_config(
        {**THREE, "codex": provider(sub(1, subscription={"rateLimits": {"requestsPerHour": 2}}))}
    )
    record(store, "codex", "subscription", requests=2)
    plan = Router(config, store).plan()
    skip = {s.key: s for s in plan.skipped}["codex/subscription"]
    assert skip.kind is SkipKind.RATE_LIMITED
    assert "2/2 requests in the last hour" in skip.reason
    assert plan.earliest_reset == skip.until
    assert "skipped codex/subscription (rate-limited until" in plan.candidates[0].reason


def test_earliest_reset_is_the_soonest(store: Store) -> None:
    now = datetime.now(UTC)
    for name, minutes in (("codex", 30), ("claude-code", 10), ("gemini-cli", 20)):
        store.set_cooldown(
            name, "subscription", until=now + timedelta(minutes=minutes), kind="rate_limited",
            reason="", reset_known=False,
        )  # fmt: skip
    plan = Router(make_config(THREE), store, now=lambda: now).plan()
    assert plan.candidates == []
    assert plan.earliest_reset == now + timedelta(minutes=10)
    error = plan.unavailable()
    assert isinstance(error, NoProviderAvailable)
    assert error.earliest_reset == now + timedelta(minutes=10)
    assert "codex/subscription" in str(error)


# -- round-robin ----------------------------------------------------------------------------


def test_round_robin_rotates_and_persists_across_routers(store: Store) -> None:
    config = make_config(THREE, strategy="round-robin")
    firsts = []
    for _ in range(4):
        router = Router(config, store)  # a new process each time
        plan = router.plan()
        firsts.append(plan.candidates[0].key)
        router.commit_choice(plan.candidates[0])
    assert firsts == [
        "codex/subscription",
        "claude-code/subscription",
        "gemini-cli/subscription",
        "codex/subscription",
    ]
    assert store.get_value("routing.round_robin") == {"last": "codex/subscription"}


def test_round_robin_keeps_the_rotation_when_a_pair_is_limited(store: Store) -> None:
    config = make_config(THREE, strategy="round-robin", apiFallback={"enabled": True})
    now = datetime.now(UTC)
    store.set_value("routing.round_robin", {"last": "codex/subscription"})
    store.set_cooldown(
        "claude-code", "subscription", until=now + timedelta(minutes=5), kind="rate_limited",
        reason="", reset_known=False,
    )  # fmt: skip
    plan = Router(config, store, now=lambda: now).plan()
    assert keys(plan.candidates) == [
        "gemini-cli/subscription",
        "codex/subscription",
        "claude-code/api",  # API stays the fallback, after every subscription
    ]
    assert plan.candidates[0].reason.startswith("gemini-cli/subscription: next in rotation")


# -- cost-optimized -------------------------------------------------------------------------


def test_cost_optimized_orders_by_expected_cost(store: Store) -> None:
    cheap = {"costPerMillion": {"input": 0.1, "output": 0.4}}
    dear = {"costPerMillion": {"input": 15, "output": 75}}
    config = make_config(
        {
            "claude-code": provider(api(1, api=dear)),
            "codex": provider(api(5, api=cheap)),
            "gemini-cli": provider(api(3)),  # priced from the table (gemini-2.5-pro)
            "copilot": provider(sub(9)),
        },
        strategy="cost-optimized",
        apiFallback={"enabled": True},
    )
    plan = Router(config, store).plan()
    assert keys(plan.candidates) == [
        "copilot/subscription",
        "codex/api",
        "gemini-cli/api",
        "claude-code/api",
    ]
    costs = [c.expected_cost for c in plan.candidates]
    assert costs[0] == 0.0
    assert costs == sorted(costs)
    assert "cost-optimized" in plan.candidates[1].reason


# -- provider switches saved through the API (applied by the resolution) -------------------


def test_overrides_from_the_store_apply_on_top_of_config(store: Store) -> None:
    store.set_value(
        "providers.overrides",
        {
            "codex": {"enabled": False},
            "gemini-cli": {"accessModes": {"subscription": {"priority": 0}}},
            "claude-code": {"accessModes": {"api": {"enabled": False}}},
            "unknown": {"enabled": True},
        },
    )
    config: AdoConfig = make_config(THREE, apiFallback={"enabled": True})
    plan = Router(effective_config(config, store), store).plan()
    assert keys(plan.candidates) == ["gemini-cli/subscription", "claude-code/subscription"]
    assert plan.candidates[0].priority == 0
    assert plan.candidates[0].mode_config.priority == 0
    kinds = {s.key: s.kind for s in plan.skipped}
    assert kinds["codex/subscription"] is SkipKind.DISABLED_PROVIDER
    assert kinds["claude-code/api"] is SkipKind.DISABLED_MODE
    assert config.providers["codex"].enabled  # the configuration itself is untouched


def test_override_can_enable_a_disabled_provider(store: Store) -> None:
    config = make_config({"codex": {"enabled": False, "accessModes": [sub(1)]}})
    store.set_value("providers.overrides", {"codex": {"enabled": True}})
    assert keys(Router(config, store).plan().candidates) == []  # the file's configuration
    effective = effective_config(config, store)
    assert keys(Router(effective, store).plan().candidates) == ["codex/subscription"]
