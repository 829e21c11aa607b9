"""The quota ledger: every usage window ADO knows of, per provider id (an account), with
how much is used, when it resets, where the reading came from, and when at this pace it
runs out.

Two sources:

- ``agent``: what the agent CLI reported during a normal run (``ado.providers.quota``:
  claude's ``rate_limit_event``, codex's session log), stored in ``quota_windows`` by the
  runner, the latest reading per (provider, window) and the one before it;
- ``counted``: each configured ``rateLimits`` entry against ADO's own usage records
  (``ado.routing.limits.usage_against_limits``), computed when asked, never stored.

The projection: the burn rate is the rise between the two latest readings of the same
window, or, with one reading, its use since the window began (its reset minus its length);
at that pace the window runs out at ``observed + (1 - used) / rate`` — shown only when that
comes before the reset.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING

from ado.vocab import QuotaSource, QuotaStatus, QuotaWindow

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.providers.events import AgentEvent
    from ado.store.methods import SqlMethods
    from ado.store.views import QuotaWindowView

__all__ = ["QuotaEntry", "ledger", "projected_exhaustion", "reading_of", "record_event"]

#: ``rateLimits`` keys -> the window they count
_COUNTED_WINDOWS = {
    "requestsPerHour": QuotaWindow.HOURLY,
    "requestsPerDay": QuotaWindow.DAILY,
    "tokensPerDay": QuotaWindow.DAILY,
    "requestsPerMinute": QuotaWindow.PER_MINUTE,
    "tokensPerMinute": QuotaWindow.PER_MINUTE,
}
_KNOWN = frozenset(w.value for w in QuotaWindow)
_COUNTED_MINUTES = {
    QuotaWindow.HOURLY: 60,
    QuotaWindow.DAILY: 1440,
    QuotaWindow.PER_MINUTE: 1,
}


@dataclass(frozen=True, slots=True)
class QuotaEntry:
    """One window of one provider as ``ado quota`` and ``GET /api/quota`` show it."""

    provider: str
    window: QuotaWindow
    status: QuotaStatus
    source: QuotaSource
    used_ratio: float | None
    resets_at: datetime | None
    window_minutes: int | None
    observed_at: datetime
    #: At the current burn rate, when the window runs out (only when before its reset).
    runs_out_at: datetime | None = None
    #: Seconds until the reset (when known) and since the reading, at the ledger's ``now``.
    reset_in_s: float | None = None
    age_s: float = 0.0
    #: Counted windows: the access mode, the ``rateLimits`` key and its figures.
    access_mode: str | None = None
    limit_name: str | None = None
    used: int | None = None
    limit: int | None = None


def reading_of(provider: str, event: AgentEvent, now: datetime) -> QuotaWindowView | None:
    """The ledger row of a ``QUOTA`` event; None when it names no known window."""
    from ado.store.views import QuotaWindowView

    data = event.data
    try:
        window = QuotaWindow(str(data.get("window")))
        status = QuotaStatus(str(data.get("status") or QuotaStatus.ALLOWED))
    except ValueError:
        return None
    ratio = data.get("usedRatio")
    minutes = data.get("windowMinutes")
    return QuotaWindowView(
        provider=provider,
        kind=window.value,
        status=status.value,
        source=QuotaSource.AGENT.value,
        used_ratio=float(ratio) if isinstance(ratio, int | float) else None,
        resets_at=event.reset_at,
        window_minutes=minutes if isinstance(minutes, int) else None,
        observed_at=now,
    )


def record_event(store: SqlMethods, provider: str, event: AgentEvent) -> None:
    """Store a ``QUOTA`` event's reading as its window's latest (the runner calls this)."""
    reading = reading_of(provider, event, datetime.now(UTC))
    if reading is not None:
        store.record_quota(reading)


def projected_exhaustion(view: QuotaWindowView) -> datetime | None:
    """When the window runs out at its current pace, if before it resets; else None."""
    used, resets_at = view.used_ratio, view.resets_at
    if used is None or resets_at is None:
        return None
    if used >= 1.0:
        return view.observed_at
    rate: float | None = None  # fraction per second
    if view.prev_used_ratio is not None and view.prev_observed_at is not None:
        seconds = (view.observed_at - view.prev_observed_at).total_seconds()
        if seconds > 0 and used > view.prev_used_ratio:
            rate = (used - view.prev_used_ratio) / seconds
    if rate is None and view.window_minutes:
        start = resets_at - timedelta(minutes=view.window_minutes)
        seconds = (view.observed_at - start).total_seconds()
        if seconds > 0 and used > 0:
            rate = used / seconds
    if not rate:
        return None
    at = view.observed_at + timedelta(seconds=(1.0 - used) / rate)
    return at if at < resets_at else None


def ledger(store: SqlMethods, config: AdoConfig, now: datetime) -> list[QuotaEntry]:
    """Every window of every enabled provider: the agents' readings, then the counted ones."""
    from ado.routing.limits import usage_against_limits

    entries = [
        QuotaEntry(
            provider=view.provider,
            window=QuotaWindow(view.kind),
            status=QuotaStatus(view.status),
            source=QuotaSource(view.source),
            used_ratio=view.used_ratio,
            resets_at=view.resets_at,
            window_minutes=view.window_minutes,
            observed_at=view.observed_at,
            runs_out_at=projected_exhaustion(view),
            reset_in_s=_seconds(view.resets_at, now),
            age_s=max(0.0, (now - view.observed_at).total_seconds()),
        )
        for view in store.quota_windows()
        if view.kind in _KNOWN
    ]
    for provider_id, provider in sorted(config.providers.items()):
        if not provider.enabled:
            continue
        for mode in provider.access_modes:
            for row in usage_against_limits(store, provider_id, mode, now):
                window = _COUNTED_WINDOWS.get(row.name)
                if window is None or row.limit <= 0:
                    continue
                ratio = row.used / row.limit
                entries.append(
                    QuotaEntry(
                        provider=provider_id,
                        window=window,
                        status=QuotaStatus.REJECTED if row.exhausted else QuotaStatus.ALLOWED,
                        source=QuotaSource.COUNTED,
                        used_ratio=ratio,
                        resets_at=row.resets_at,
                        window_minutes=_COUNTED_MINUTES[window],
                        observed_at=now,
                        reset_in_s=_seconds(row.resets_at, now),
                        access_mode=mode.mode,
                        limit_name=row.name,
                        used=row.used,
                        limit=row.limit,
                    )
                )
    return entries


def _seconds(until: datetime | None, now: datetime) -> float | None:
    return None if until is None else round(max(0.0, (until - now).total_seconds()), 3)
