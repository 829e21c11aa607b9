"""The quota ledger: every usage window ADO knows of, per provider id (an account), with
how much is used, when it resets, where the reading came from, and when at this pace it
runs out.

Two sources:

- ``agent``: what the agent CLI reported during a normal run (``ado.providers.quota``:
  claude's ``rate_limit_event``, codex's session log, the quota errors of gemini, copilot
  and opencode), stored in ``quota_windows`` by the runner, the latest reading per
  (provider, window) and the one before it (a reading whose reset is already past is
  dropped);
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
from typing import TYPE_CHECKING, NamedTuple

from ado.vocab import QuotaSource, QuotaStatus, QuotaWindow

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.providers.events import AgentEvent
    from ado.store.methods import SqlMethods
    from ado.store.views import QuotaWindowView

__all__ = [
    "QuotaEntry",
    "QuotaLedger",
    "ledger",
    "projected_exhaustion",
    "reading_of",
    "record_event",
    "snapshot",
]

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
    #: False: the window has reset since the reading (or its end is unknown); routing
    #: ignores it (``ado.routing.headroom``). Counted windows are computed now: always True.
    current: bool = True
    #: The reading keeps the provider's subscription/free modes from new tasks (at
    #: ``routing.quota.stopAt`` or rejected, while current).
    stops: bool = False

    @property
    def label(self) -> str:
        """For people: ``5-hour window``."""
        return self.window.label


@dataclass(frozen=True, slots=True)
class QuotaLedger:
    """The ledger with the thresholds it is read against: ``GET /api/quota``, ``--json``."""

    now: datetime
    warn_at: float
    stop_at: float
    windows: list[QuotaEntry]


def snapshot(store: SqlMethods, config: AdoConfig, now: datetime) -> QuotaLedger:
    """The ledger at ``now`` with ``routing.quota``'s warnAt and stopAt."""
    settings = config.routing.quota
    return QuotaLedger(now, settings.warn_at, settings.stop_at, ledger(store, config, now))


def reading_of(provider: str, event: AgentEvent, now: datetime) -> QuotaWindowView | None:
    """The ledger row of a ``QUOTA`` event; None when it names no known window, or a reset
    already past (a window that has ended says nothing of the current one: the reading
    before it stays)."""
    from ado.store.views import QuotaWindowView

    data = event.data
    try:
        window = QuotaWindow(str(data.get("window")))
        status = QuotaStatus(str(data.get("status") or QuotaStatus.ALLOWED))
    except ValueError:
        return None
    if event.reset_at is not None and event.reset_at <= now:
        return None
    ratio = data.get("usedRatio")
    if isinstance(ratio, bool) or not isinstance(ratio, int | float) or not 0 <= ratio:
        ratio = None  # NaN fails the comparison too
    minutes = data.get("windowMinutes")
    return QuotaWindowView(
        provider=provider,
        kind=window.value,
        status=status.value,
        source=QuotaSource.AGENT.value,
        used_ratio=None if ratio is None else min(1.0, float(ratio)),
        resets_at=event.reset_at,
        window_minutes=minutes if isinstance(minutes, int) else None,
        observed_at=now,
    )


def record_event(
    store: SqlMethods, provider: str, event: AgentEvent, observed_at: datetime | None = None
) -> None:
    """Store a ``QUOTA`` event's reading as its window's latest (the runner calls this, as
    the agent reports it; ``refresh`` with the time the agent recorded it)."""
    reading = reading_of(provider, event, observed_at or datetime.now(UTC))
    if reading is not None:
        store.record_quota(reading)


class Refreshed(NamedTuple):
    """What ``refresh`` found for one provider id: windows and their time, or why none."""

    provider: str
    windows: int = 0
    observed_at: datetime | None = None
    reason: str = ""


def refresh(store: SqlMethods, config: AdoConfig) -> list[Refreshed]:
    """Read every enabled provider's usage windows that its agent can tell without a run
    (``AgentAdapter.quota_snapshot``: codex's session logs), into the ledger. Costs no quota
    and starts no agent; a reading older than the one kept is not the latest, and stays out."""
    from ado.providers import get_configured_adapter
    from ado.providers.base import RunRequest

    found = []
    for provider_id, provider in sorted(config.providers.items()):
        if not provider.enabled:
            continue
        adapter = get_configured_adapter(config, provider_id)
        env = adapter.environment(
            RunRequest(
                prompt="", cwd=".", extra_env=dict(provider.env), pass_env=tuple(provider.pass_env)
            )
        )
        snapshot = adapter.quota_snapshot(env)
        if snapshot is None:
            found.append(Refreshed(provider_id, reason=_NO_SNAPSHOT))
            continue
        when, events = snapshot
        for event in events:
            record_event(store, provider_id, event, when)
        found.append(Refreshed(provider_id, len(events), when))
    return found


_NO_SNAPSHOT = "no record to read without a run: its windows come with its next run"


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
    from ado.routing.headroom import stops, window_end
    from ado.routing.limits import usage_against_limits

    settings = config.routing.quota

    def current(view: QuotaWindowView) -> bool:
        end = window_end(view)
        return end is not None and end > now

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
            current=current(view),
            stops=current(view) and stops(view, settings),
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
                        stops=row.exhausted,
                    )
                )
    return entries


def _seconds(until: datetime | None, now: datetime) -> float | None:
    return None if until is None else round(max(0.0, (until - now).total_seconds()), 3)
