"""Choosing which (provider, access mode) pairs may take a task, and in which order.

``Router.plan`` walks every configured pair, leaves out those that cannot take the task (each
with a :class:`Skip` saying why) and orders the rest by the configured strategy:

- ``subscription-first``: by ``priority`` (lower first); at equal priority subscription and
  free modes before API modes; configuration order breaks the remaining ties.
- ``round-robin``: the subscription/free pairs in that same order, rotated to start after the
  pair last chosen (persisted in the store under ``routing.round_robin`` and advanced by
  :meth:`Router.commit_choice`), so successive tasks spread over them; API pairs stay a
  priority-ordered fallback after them.
- ``cost-optimized``: cheapest expected cost of a typical task first (subscription and free
  cost nothing; API modes by ``costPerMillion``, else the bundled price table), then priority.

API modes are candidates only when API fallback is allowed (``--no-api-fallback`` turns it off,
else ``routing.apiFallback.enabled``) or the access mode ``api`` is asked for explicitly.
``--providers a,b`` makes that order the first sort key.

Routing by headroom (``ado.routing.headroom``): a provider id whose agent-reported usage
window is at ``routing.quota.stopAt`` or rejected has its subscription/free pairs skipped
until the reset; at equal priority (and cost), the pair with more headroom goes first
(round-robin keeps its rotation).

The configuration it is given is the effective one (``ado.config.resolve``): provider
switches saved through the API are already applied to ``config.providers``.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from ado.errors import NoProviderAvailable, UnknownProviderError, UsageError
from ado.records import Record
from ado.routing.headroom import Headroom, headroom_by_provider, window_name, window_summary
from ado.routing.limits import check_limits
from ado.vocab import AccessMode, values

if TYPE_CHECKING:
    from ado.config.schema import AccessModeConfig, AdoConfig, Capabilities, ProviderConfig
    from ado.store import CooldownView
    from ado.store.methods import SqlMethods

__all__ = [
    "ROUND_ROBIN_KEY",
    "Candidate",
    "RouteFilters",
    "Router",
    "RoutingPlan",
    "Skip",
    "SkipKind",
]

ROUND_ROBIN_KEY = "routing.round_robin"


class SkipKind(StrEnum):
    FILTERED = "filtered"
    DISABLED_PROVIDER = "disabled_provider"
    DISABLED_MODE = "disabled_mode"
    NO_ACCESS_MODES = "no_access_modes"
    MISSING_CAPABILITY = "missing_capability"
    NOT_INSTALLED = "not_installed"
    API_FALLBACK_OFF = "api_fallback_off"
    ALREADY_TRIED = "already_tried"
    RATE_LIMITED = "rate_limited"
    COOLDOWN = "cooldown"
    #: An agent-reported usage window at ``routing.quota.stopAt`` or rejected.
    QUOTA = "quota"

    @property
    def is_transient(self) -> bool:
        """Left out because of the machine's state rather than the user's choice."""
        return self in (
            SkipKind.NOT_INSTALLED,
            SkipKind.ALREADY_TRIED,
            SkipKind.RATE_LIMITED,
            SkipKind.COOLDOWN,
            SkipKind.QUOTA,
        )


class RouteFilters(Record):
    """What the user asked for on the command line or in the API request."""

    __slots__ = ("provider", "providers", "exclude", "access_mode", "capabilities", "allow_api")

    def __init__(
        self,
        provider: str | None = None,
        providers: tuple[str, ...] | None = None,
        exclude: tuple[str, ...] = (),
        access_mode: str | None = None,
        capabilities: tuple[str, ...] = (),
        allow_api: bool | None = None,
    ) -> None:
        #: ``--provider X``: only X.
        self.provider = provider
        #: ``--providers a,b``: only these, preferred in this order.
        self.providers = providers
        self.exclude = exclude
        #: subscription | api | free
        self.access_mode = access_mode
        #: Capability flags (``code_review``/``codeReview``) or languages (``python``).
        self.capabilities = capabilities
        #: None: ``routing.apiFallback.enabled`` decides.
        self.allow_api = allow_api


class Candidate(Record):
    """A (provider, access mode) that may take the task."""

    __slots__ = (
        "provider",
        "access_mode",
        "priority",
        "provider_config",
        "mode_config",
        "reason",
        "expected_cost",
        "reservation",
    )

    def __init__(
        self,
        provider: str,
        access_mode: str,
        priority: int,
        provider_config: ProviderConfig,
        mode_config: AccessModeConfig,
        reason: str,
        expected_cost: float = 0.0,
        reservation: int | None = None,
    ) -> None:
        self.provider = provider
        self.access_mode = access_mode
        self.priority = priority
        self.provider_config = provider_config
        self.mode_config = mode_config
        #: Why this pair, in this place: shown to the user and stored on the attempt.
        self.reason = reason
        #: Expected cost of a typical task in USD (cost-optimized strategy; 0 otherwise).
        self.expected_cost = expected_cost
        #: The usage row its request is reserved as (``ado.routing.reserve``), when it has
        #: limits.
        self.reservation = reservation

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.access_mode}"

    @property
    def is_api(self) -> bool:
        return self.mode_config.mode == "api"


class Skip(Record):
    """A (provider, access mode) left out, and why."""

    __slots__ = ("provider", "access_mode", "kind", "reason", "until", "what")

    def __init__(
        self,
        provider: str,
        access_mode: str | None,
        kind: SkipKind,
        reason: str,
        until: datetime | None = None,
        what: str | None = None,
    ) -> None:
        self.provider = provider
        #: None when the provider has no access modes at all.
        self.access_mode = access_mode
        self.kind = kind
        self.reason = reason
        #: When a limited or cooling-down pair frees up.
        self.until = until
        #: What limits it, for "waiting for claude-code's 5-hour window": the window's name,
        #: ``cooldown``, ``requestsPerDay limit``.
        self.what = what

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.access_mode}" if self.access_mode else self.provider


class RoutingPlan(Record):
    """The pairs that may take a task, in the order to try, and those left out."""

    __slots__ = ("candidates", "skipped", "earliest_reset")

    def __init__(
        self,
        candidates: list[Candidate],
        skipped: list[Skip],
        earliest_reset: datetime | None = None,
    ) -> None:
        #: In the order to try.
        self.candidates = candidates
        self.skipped = skipped
        #: The soonest a rate-limited or cooling-down pair frees up.
        self.earliest_reset = earliest_reset

    def unavailable(self) -> NoProviderAvailable:
        """The error to raise when there is no candidate (or none left)."""
        lines = [
            f"  {s.reason}" if s.reason.startswith(s.key) else f"  {s.key}: {s.reason}"
            for s in self.skipped
        ]
        hint = (
            "Check `ado status`, enable a provider, or allow API fallback "
            "(routing.apiFallback.enabled: true)."
        )
        if self.earliest_reset is not None:
            when = self.earliest_reset.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
            hint = f"The earliest reset is {when}: run again then, or pass --wait. " + hint
        return NoProviderAvailable(
            "No provider can take this task right now."
            + ("\n" + "\n".join(lines) if lines else ""),
            earliest_reset=self.earliest_reset,
            hint=hint,
        )


class _Pair:
    """A (provider, access mode) while it is ranked; filled in as the plan is made."""

    __slots__ = ("cost", "index", "mode", "pressure", "provider", "provider_config", "rank", "skip")

    def __init__(
        self, provider: str, mode: AccessModeConfig, provider_config: ProviderConfig, index: int
    ) -> None:
        self.provider = provider
        self.mode = mode
        self.provider_config = provider_config
        self.index = index  # configuration order
        self.rank: tuple[Any, ...] = ()
        self.cost = 0.0
        #: The highest used fraction of the provider's current usage windows (not for API
        #: modes).
        self.pressure = 0.0
        self.skip: Skip | None = None

    @property
    def key(self) -> str:
        return f"{self.provider}/{self.mode.mode}"


class Router:
    def __init__(
        self,
        config: AdoConfig,
        store: SqlMethods,
        *,
        installed: Callable[[str], bool] | None = None,
        now: Callable[[], datetime] | None = None,
    ) -> None:
        self.config = config
        self.store = store
        self._installed = installed
        self._now = now or (lambda: datetime.now(UTC))

    @property
    def strategy(self) -> str:
        return self.config.routing.strategy

    def plan(
        self,
        filters: RouteFilters | None = None,
        *,
        exclude_pairs: Iterable[tuple[str, str] | str] = frozenset(),
    ) -> RoutingPlan:
        """The pairs that may take a task, in the order to try, and why the others may not.

        ``exclude_pairs``: the pairs already tried for this task, as ``(provider, mode)``
        tuples or ``"provider/mode"`` keys.
        """
        filters = filters or RouteFilters()
        self._validate(filters)
        now = self._now()
        tried = {p if isinstance(p, str) else "/".join(p) for p in exclude_pairs}
        allow_api = self._allow_api(filters)
        providers = self.config.providers
        order = {name: i for i, name in enumerate(self._preferred(filters))}

        pairs: list[_Pair] = []
        skipped: list[Skip] = []
        installed: dict[str, bool] = {}
        cooldowns = self.store.cooldowns(now)
        headroom = headroom_by_provider(self.store.quota_windows(), self.config.routing.quota, now)
        for name, pconf in providers.items():
            provider_skip = self._provider_skip(name, pconf, filters, order, installed)
            if not pconf.access_modes:
                none = Skip(name, None, SkipKind.NO_ACCESS_MODES, "no access modes configured")
                skipped.append(provider_skip or none)
            for mode in pconf.access_modes:
                pair = _Pair(name, mode, pconf, len(pairs))
                room = headroom.get(name) if mode.mode != "api" else None
                if provider_skip is not None:
                    pair.skip = provider_skip.replace(access_mode=mode.mode)
                else:
                    # A limit explains more (and carries a reset time) than "already tried".
                    pair.skip = (
                        _mode_skip(pair, filters, allow_api)
                        or self._limit_skip(pair, now, cooldowns)
                        or _quota_skip(pair, room, now)
                        or _tried_skip(pair, tried)
                    )
                if pair.skip is None and room is not None:
                    # a skipped pair keeps its place, so the chosen one's reason names it
                    pair.pressure = room.pressure
                pairs.append(pair)

        self._rank(pairs, order, filters)
        pairs.sort(key=lambda p: p.rank)
        candidates: list[Candidate] = []
        passed_over: list[Skip] = []
        for pair in pairs:
            if pair.skip is not None:
                skipped.append(pair.skip)
                if pair.skip.kind.is_transient:
                    passed_over.append(pair.skip)
                continue
            candidates.append(self._candidate(pair, passed_over))
        resets = [s.until for s in skipped if s.until is not None]
        return RoutingPlan(candidates, skipped, min(resets) if resets else None)

    def commit_choice(self, candidate: Candidate) -> None:
        """Record that ``candidate`` got a task: round-robin starts after it next time."""
        if not candidate.is_api:
            self.store.set_value(ROUND_ROBIN_KEY, {"last": candidate.key})

    # -- filters and skips -------------------------------------------------------------

    def _validate(self, filters: RouteFilters) -> None:
        known = list(self.config.providers)
        named = [filters.provider] if filters.provider else []
        named += list(filters.providers or ()) + list(filters.exclude)
        for name in named:
            if name not in self.config.providers:
                raise UnknownProviderError(name, known)
        if filters.access_mode is not None and filters.access_mode not in values(AccessMode):
            raise UsageError(
                f"Unknown access mode {filters.access_mode!r}.",
                hint=f"Use one of: {', '.join(values(AccessMode))}.",
            )

    def _allow_api(self, filters: RouteFilters) -> bool:
        if filters.allow_api is not None:
            return filters.allow_api
        if filters.access_mode == "api":
            return True  # asking for the api mode by name is consent to use it
        return self.config.routing.api_fallback.enabled

    def _preferred(self, filters: RouteFilters) -> list[str]:
        if filters.provider:
            return [filters.provider]
        if filters.providers:
            return list(filters.providers)
        return list(self.config.providers)

    def _provider_skip(
        self,
        name: str,
        pconf: ProviderConfig,
        filters: RouteFilters,
        order: dict[str, int],
        installed_cache: dict[str, bool],
    ) -> Skip | None:
        if name not in order:
            how = f"--provider {filters.provider}" if filters.provider else "--providers"
            return Skip(name, None, SkipKind.FILTERED, f"not selected by {how}")
        if name in filters.exclude:
            return Skip(name, None, SkipKind.FILTERED, "excluded by --exclude")
        if not pconf.enabled:
            return Skip(name, None, SkipKind.DISABLED_PROVIDER, "provider disabled")
        missing = [c for c in filters.capabilities if not _has_capability(pconf.capabilities, c)]
        if missing:
            return Skip(
                name, None, SkipKind.MISSING_CAPABILITY, f"lacks capability {', '.join(missing)}"
            )
        if self._installed is not None:
            if name not in installed_cache:
                installed_cache[name] = self._installed(name)
            if not installed_cache[name]:
                return Skip(name, None, SkipKind.NOT_INSTALLED, _not_installed(name, pconf))
        return None

    def _limit_skip(self, pair: _Pair, now: datetime, cooldowns: list[CooldownView]) -> Skip | None:
        status = check_limits(self.store, pair.provider, pair.mode, now, cooldowns=cooldowns)
        if not status.limited:
            return None
        cooling = status.kind == "cooldown"
        kind = SkipKind.COOLDOWN if cooling else SkipKind.RATE_LIMITED
        what = "cooldown" if cooling else f"{status.kind} limit"
        return Skip(pair.provider, pair.mode.mode, kind, status.reason or "", status.until, what)

    # -- ordering ---------------------------------------------------------------------

    def _rank(self, pairs: list[_Pair], order: dict[str, int], filters: RouteFilters) -> None:
        preferred = bool(filters.providers) and not filters.provider
        for pair in pairs:
            is_api = pair.mode.mode == "api"
            first = order.get(pair.provider, len(order)) if preferred else 0
            if self.strategy == "cost-optimized":
                pair.cost = self._expected_cost(pair)
                pair.rank = (
                    first,
                    pair.cost,
                    pair.mode.priority,
                    is_api,
                    pair.pressure,
                    pair.index,
                )
            elif self.strategy == "round-robin":
                pair.rank = (first, pair.mode.priority, is_api, pair.index)
            else:
                pair.rank = (first, pair.mode.priority, is_api, pair.pressure, pair.index)
        if self.strategy == "round-robin":
            self._rotate(pairs)

    def _rotate(self, pairs: list[_Pair]) -> None:
        """Subscription/free pairs take turns; the rotation is over every pair the filters let
        through (limited ones included), so it does not shift when a limit comes and goes."""
        rotating = sorted(
            (p for p in pairs if p.mode.mode != "api" and not _static_skip(p)),
            key=lambda p: p.rank,
        )
        last = (self.store.get_value(ROUND_ROBIN_KEY) or {}).get("last")
        keys = [p.key for p in rotating]
        start = keys.index(last) + 1 if last in keys else 0
        for position, pair in enumerate(rotating[start:] + rotating[:start]):
            pair.rank = (0, position)
        for pair in pairs:
            if pair not in rotating:
                pair.rank = (1, *pair.rank)

    def _expected_cost(self, pair: _Pair) -> float:
        if pair.mode.mode != "api":
            return 0.0
        from ado.pricing import estimate_task_cost

        return estimate_task_cost(
            "", pair.provider, pair.mode, pair.provider_config.default_options.model
        )

    def _candidate(self, pair: _Pair, passed_over: list[Skip]) -> Candidate:
        mode = pair.mode.mode
        if self.strategy == "cost-optimized":
            why = f"expected ~${pair.cost:.2f}, cost-optimized"
        elif self.strategy == "round-robin":
            why = "next in rotation, round-robin" if mode != "api" else "API fallback, round-robin"
        else:
            why = f"priority {pair.mode.priority}, subscription-first"
        reason = f"{pair.key}: {why}"
        if passed_over:
            reason += "; skipped " + ", ".join(f"{s.key} ({_short(s)})" for s in passed_over)
        return Candidate(
            pair.provider,
            mode,
            pair.mode.priority,
            pair.provider_config,
            pair.mode,
            reason,
            pair.cost,
        )


def _not_installed(name: str, pconf: ProviderConfig) -> str:
    """Why the agent cannot start, naming the configured ``command``'s path when there is one."""
    from ado.providers.base import command_problem

    return (
        f"not installed: {command_problem(name, pconf.command)}"
        if pconf.command
        else ("not installed")
    )


def _mode_skip(pair: _Pair, filters: RouteFilters, allow_api: bool) -> Skip | None:
    mode = pair.mode.mode
    if filters.access_mode is not None and mode != filters.access_mode:
        return Skip(
            pair.provider, mode, SkipKind.FILTERED, f"not {filters.access_mode} access mode"
        )
    if not pair.mode.enabled:
        return Skip(pair.provider, mode, SkipKind.DISABLED_MODE, "access mode disabled")
    if mode == "api" and not allow_api:
        return Skip(
            pair.provider,
            mode,
            SkipKind.API_FALLBACK_OFF,
            "API fallback off (routing.apiFallback.enabled, --no-api-fallback)",
        )
    return None


def _tried_skip(pair: _Pair, tried: set[str]) -> Skip | None:
    if pair.key in tried:
        return Skip(
            pair.provider, pair.mode.mode, SkipKind.ALREADY_TRIED, "already tried for this task"
        )
    return None


def _quota_skip(pair: _Pair, room: Headroom | None, now: datetime) -> Skip | None:
    """A usage window at ``routing.quota.stopAt`` or rejected: no new task until it resets."""
    if room is None or room.stopped_by is None:
        return None
    summary = window_summary(room.stopped_by, now)
    what = window_name(room.stopped_by)
    return Skip(pair.provider, pair.mode.mode, SkipKind.QUOTA, summary, room.until, what)


def _static_skip(pair: _Pair) -> bool:
    return pair.skip is not None and pair.skip.kind not in (
        SkipKind.RATE_LIMITED,
        SkipKind.COOLDOWN,
        SkipKind.QUOTA,
        SkipKind.ALREADY_TRIED,
    )


def _short(skip: Skip) -> str:
    if skip.kind is SkipKind.COOLDOWN and skip.until is not None:
        return f"cooldown until {skip.until.astimezone(UTC):%H:%M UTC}"
    if skip.kind is SkipKind.RATE_LIMITED and skip.until is not None:
        return f"rate-limited until {skip.until.astimezone(UTC):%H:%M UTC}"
    return skip.reason


def _has_capability(capabilities: Capabilities, wanted: str) -> bool:
    """A capability flag must be true; any other name is a language, which must be listed
    (a provider that lists no languages is taken to handle any)."""
    from ado.config.snapshot import field_names

    flag = re.sub(r"(?<!^)(?=[A-Z])", "_", wanted.strip()).replace("-", "_").lower()
    if flag in field_names(capabilities) and flag != "languages":
        return getattr(capabilities, flag) is True
    languages = [lang.lower() for lang in capabilities.languages]
    return not languages or wanted.strip().lower() in languages
