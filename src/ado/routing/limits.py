"""Whether a (provider, access mode) is limited right now, from persisted usage and cooldowns.

Every window is computed from the usage records in the store, so a limit holds across runs
and across processes sharing the database:

=====================  ==============  ==============================================
limit                  access mode     window
=====================  ==============  ==============================================
``requestsPerHour``    subscription    rolling: the last 60 minutes
``requestsPerDay``     subscription    the day that began at the last ``resetTime``
``tokensPerDay``       subscription    the day that began at the last ``resetTime``
``requestsPerMinute``  api             rolling: the last 60 seconds
``tokensPerMinute``    api             rolling: the last 60 seconds
=====================  ==============  ==============================================

A rolling window frees up when enough of its oldest usage ages out; that moment is found by
bisecting the window with ``Store.usage_totals`` (to the second), only once a limit is hit.

Cooldowns are written when an agent reports a rate limit or an exhausted quota; see
:func:`cooldown_until` for how long they last.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from functools import partial
from typing import TYPE_CHECKING, Protocol

from ado.records import Record
from ado.vocab import OutcomeKind

if TYPE_CHECKING:
    from ado.config.schema import AccessModeConfig
    from ado.store import CooldownView, UsageTotals
    from ado.store.methods import SqlMethods

__all__ = [
    "DEFAULT_COOLDOWNS",
    "LimitRow",
    "LimitStatus",
    "LimitWindow",
    "UsageSource",
    "check_limits",
    "clock",
    "cooldown_until",
    "day_window_start",
    "format_until",
    "limit_windows",
    "reset_hour_minute",
    "usage_against_limits",
]

#: How long a (provider, access mode) rests when the agent did not say when its limit resets:
#: rate limits are short windows (requests per minute or per few hours), so retry soon;
#: an exhausted quota is a daily/weekly allowance, so wait a day. Anything else: 5 minutes.
DEFAULT_COOLDOWNS: dict[OutcomeKind, timedelta] = {
    OutcomeKind.RATE_LIMITED: timedelta(minutes=5),
    OutcomeKind.QUOTA_EXHAUSTED: timedelta(hours=24),
}
_OTHER_COOLDOWN = timedelta(minutes=5)


class UsageSource(Protocol):
    """What limits are counted from: ``Store``, or ``SqlStore``."""

    def usage_totals(self, provider: str, access_mode: str, since: datetime) -> UsageTotals: ...


#: The units a limit counts (``LimitRow.unit``, ``LimitWindow.unit``).
_REQUESTS = "requests"
_TOKENS = "tokens"


class LimitRow(Record):
    """One configured limit and how much of it is used."""

    __slots__ = ("name", "used", "limit", "resets_at", "unit", "window")

    def __init__(
        self,
        name: str,
        used: int,
        limit: int,
        resets_at: datetime,
        unit: str = "requests",
        window: str = "today",
    ) -> None:
        #: The config key: requestsPerHour, requestsPerDay, tokensPerDay, requestsPerMinute...
        self.name = name
        self.used = used
        self.limit = limit
        #: When the usage counted here frees up (day windows: the next reset time).
        self.resets_at = resets_at
        #: "requests" or "tokens"
        self.unit = unit
        #: "today", "in the last hour", "in the last minute"
        self.window = window

    @property
    def exhausted(self) -> bool:
        return self.used >= self.limit


class LimitStatus(Record):
    """Whether a (provider, access mode) is limited now, and each of its limits' usage."""

    __slots__ = ("provider", "access_mode", "limited", "reason", "until", "kind", "rows")

    def __init__(
        self,
        provider: str,
        access_mode: str,
        limited: bool,
        reason: str | None = None,
        until: datetime | None = None,
        kind: str | None = None,
        rows: tuple[LimitRow, ...] = (),
    ) -> None:
        self.provider = provider
        self.access_mode = access_mode
        self.limited = limited
        #: Why it is limited, for humans; None when not limited.
        self.reason = reason
        #: When it frees up; None when not limited.
        self.until = until
        #: "cooldown" or the name of the exhausted limit; None when not limited.
        self.kind = kind
        self.rows = rows


def cooldown_until(
    outcome_kind: OutcomeKind | str, reset_at: datetime | None, now: datetime
) -> datetime:
    """When a (provider, access mode) that just hit a limit may be tried again.

    The agent's own reset time when it gave one in the future, else ``now`` plus the
    default for the outcome (``DEFAULT_COOLDOWNS``: rate limited 5 minutes, quota
    exhausted 24 hours, anything else 5 minutes).
    """
    if reset_at is not None and reset_at > now:
        return reset_at
    try:
        kind = OutcomeKind(outcome_kind)
    except ValueError:
        return now + _OTHER_COOLDOWN
    return now + DEFAULT_COOLDOWNS.get(kind, _OTHER_COOLDOWN)


#: A subscription's ``resetTime``: a time of day on the 24-hour clock, UTC ("14:30 UTC").
_RESET_TIME = r"^([01]?\d|2[0-3]):([0-5]\d)(?:\s*UTC)?$"


def reset_hour_minute(reset_time: str) -> tuple[int, int]:
    """``resetTime`` as (hour, minute); ValueError when it is not a time of day. Read from the
    string, so a cached configuration (``ado.config.snapshot``) needs no pydantic model."""
    import re

    match = re.match(_RESET_TIME, reset_time.strip(), re.IGNORECASE)
    if match is None:
        raise ValueError(f"not a time of day: {reset_time!r}")
    return int(match.group(1)), int(match.group(2))


def day_window_start(reset_hour_minute: tuple[int, int], now: datetime) -> datetime:
    """The last time of day ``HH:MM`` UTC at or before ``now``: where today's counts begin."""
    hour, minute = reset_hour_minute
    now = now.astimezone(UTC)
    start = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return start if start <= now else start - timedelta(days=1)


def clock(when: datetime, now: datetime) -> str:
    """``14:05 UTC``; ``2026-12-01 14:05 UTC`` when it is not today."""
    when = when.astimezone(UTC)
    if when.date() != now.astimezone(UTC).date():
        return when.strftime("%Y-%m-%d %H:%M UTC")
    return when.strftime("%H:%M UTC")


def format_until(until: datetime, now: datetime) -> str:
    """``14:05 UTC in 12m``; the date is added when it is not today."""
    return f"{clock(until, now)} in {_duration(until - now)}"


def _duration(delta: timedelta) -> str:
    # rounded up, to the microsecond (never "in 0m" early; 114 min 0.5 s is "1h55m")
    minutes = max(0, -(-delta // timedelta(minutes=1)))
    days, minutes = divmod(minutes, 24 * 60)
    hours, minutes = divmod(minutes, 60)
    if days:
        return f"{days}d{hours}h"
    if hours:
        return f"{hours}h{minutes:02d}m"
    return f"{minutes}m"


def _used(store: UsageSource, provider: str, mode: str, since: datetime, unit: str) -> int:
    totals = store.usage_totals(provider, mode, since)
    return int(totals.requests if unit == _REQUESTS else totals.tokens)


def _rolling_free_at(
    used_since: Callable[[datetime], int], limit: int, window: timedelta, now: datetime
) -> datetime:
    """When usage in the rolling window ending then drops below ``limit`` (nothing new added).

    ``used_since`` is non-increasing in its argument; bisect, to the second, for the earliest
    start ``s`` in ``[now - window, now]`` with ``used_since(s) < limit``: the window frees up
    at ``s + window``.
    """
    low, high = 0, int(window.total_seconds())  # seconds after now - window
    start = now - window
    while low < high:
        mid = (low + high) // 2
        if used_since(start + timedelta(seconds=mid + 1)) < limit:
            high = mid
        else:
            low = mid + 1
    return start + timedelta(seconds=low + 1) + window


class LimitWindow(Record):
    """One configured limit of a pair and the window it counts over, at some moment."""

    __slots__ = ("name", "limit", "unit", "since", "rolling", "label")

    def __init__(
        self,
        name: str,
        limit: int,
        unit: str,
        since: datetime,
        rolling: timedelta | None,
        label: str,
    ) -> None:
        #: The config key: requestsPerHour, requestsPerDay, tokensPerDay, requestsPerMinute...
        self.name = name
        self.limit = limit
        #: "requests" or "tokens"
        self.unit = unit
        #: Where the counted usage begins.
        self.since = since
        #: A rolling window's length; None for a day window (it resets at ``since`` + 1 day).
        self.rolling = rolling
        #: "today", "in the last hour", "in the last minute"
        self.label = label


def limit_windows(access_mode: AccessModeConfig, now: datetime) -> list[LimitWindow]:
    """The pair's configured limits and their windows at ``now``: what routing checks,
    status shows and a reservation (``ado.routing.reserve``) counts under its lock."""
    mode = access_mode.mode
    windows: list[LimitWindow] = []
    if mode == "subscription" and access_mode.subscription is not None:
        sub = access_mode.subscription
        limits = sub.rate_limits
        if limits.requests_per_hour is not None:
            hour = timedelta(hours=1)
            windows.append(
                LimitWindow(
                    "requestsPerHour",
                    limits.requests_per_hour,
                    _REQUESTS,
                    now - hour,
                    hour,
                    "in the last hour",
                )
            )
        day_start = day_window_start(reset_hour_minute(sub.reset_time), now)
        for name, limit, unit in (
            ("requestsPerDay", limits.requests_per_day, _REQUESTS),
            ("tokensPerDay", limits.tokens_per_day, _TOKENS),
        ):
            if limit is not None:
                windows.append(LimitWindow(name, limit, unit, day_start, None, "today"))
    elif mode == "api" and access_mode.api is not None:
        api_limits = access_mode.api.rate_limits
        minute = timedelta(minutes=1)
        for name, limit, unit in (
            ("requestsPerMinute", api_limits.requests_per_minute, _REQUESTS),
            ("tokensPerMinute", api_limits.tokens_per_minute, _TOKENS),
        ):
            if limit is not None:
                windows.append(
                    LimitWindow(name, limit, unit, now - minute, minute, "in the last minute")
                )
    return windows


def usage_against_limits(
    store: UsageSource, provider: str, access_mode: AccessModeConfig, now: datetime
) -> list[LimitRow]:
    """Each configured limit of the pair with its current usage, for status and dashboard."""
    mode = access_mode.mode
    rows: list[LimitRow] = []
    for window in limit_windows(access_mode, now):
        used = _used(store, provider, mode, window.since, window.unit)
        if window.rolling is None:
            frees = window.since + timedelta(days=1)
        elif used >= window.limit:
            frees = _rolling_free_at(
                partial(_used, store, provider, mode, unit=window.unit),
                window.limit,
                window.rolling,
                now,
            )
        else:
            frees = now + window.rolling  # nothing blocks; what is counted ages out by then
        rows.append(LimitRow(window.name, used, window.limit, frees, window.unit, window.label))
    return rows


def check_limits(
    store: SqlMethods,
    provider: str,
    access_mode: AccessModeConfig,
    now: datetime,
    *,
    cooldowns: Sequence[CooldownView] | None = None,
) -> LimitStatus:
    """Is the pair limited now: an active cooldown first, then each configured limit.

    Pass ``cooldowns`` (``store.cooldowns(now)``) when checking many pairs at once.
    """
    mode = access_mode.mode
    active = store.cooldowns(now) if cooldowns is None else cooldowns
    rows = tuple(usage_against_limits(store, provider, access_mode, now))
    for cooldown in active:
        if cooldown.provider == provider and cooldown.access_mode == mode and cooldown.until > now:
            why = f": {cooldown.reason}" if cooldown.reason else ""
            reason = (
                f"{provider}/{mode}: cooling down after {cooldown.kind.replace('_', ' ')}"
                f" until {format_until(cooldown.until, now)}{why}"
            )
            return LimitStatus(provider, mode, True, reason, cooldown.until, "cooldown", rows)
    exhausted = [row for row in rows if row.exhausted]
    if not exhausted:
        return LimitStatus(provider, mode, False, rows=rows)
    # When several limits are hit, the pair is free only once all of them are.
    row = max(exhausted, key=lambda r: r.resets_at)
    verb = "resets" if row.window == "today" else "frees up"
    reason = (
        f"{provider}/{mode}: {row.used}/{row.limit} {row.unit} {row.window}"
        f" ({row.name}), {verb} {format_until(row.resets_at, now)}"
    )
    return LimitStatus(provider, mode, True, reason, row.resets_at, row.name, rows)
