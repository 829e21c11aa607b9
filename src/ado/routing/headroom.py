"""Routing by headroom: what the agents' own usage windows (the quota ledger) say of a pair.

A reading counts while its window is current: until its reset (``resets_at``), else until
``observed_at`` plus the window's length; a reading with neither, or from the ``counted``
source (ADO's own limits, checked by ``ado.routing.limits``), does not count here.

For each provider id (an account), from the readings that count:

- it is **stopped** when any window is at or above ``routing.quota.stopAt`` or ``rejected``:
  its subscription and free modes take no new task until that window resets (when several
  windows stop it, until the last of them resets);
- its **pressure** is the highest used fraction of its windows (a ``rejected`` window counts
  as 1, a ``warning`` one without a figure as ``warnAt``): at equal priority, the pair with
  less pressure (more headroom) goes first.

API modes are paid per token, outside the plan's windows: readings never stop or reorder them.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from ado.records import Record
from ado.vocab import QuotaSource, QuotaStatus, QuotaWindow

if TYPE_CHECKING:
    from ado.config.schema import QuotaRoutingConfig
    from ado.store.views import QuotaWindowView

__all__ = [
    "Headroom",
    "headroom_by_provider",
    "stops",
    "window_end",
    "window_name",
    "window_summary",
]


class Headroom(Record):
    """What the current readings of one provider id say."""

    __slots__ = ("provider", "pressure", "stopped_by")

    def __init__(
        self, provider: str, pressure: float = 0.0, stopped_by: QuotaWindowView | None = None
    ) -> None:
        self.provider = provider
        #: The highest used fraction among its current windows (0 with none).
        self.pressure = pressure
        #: The window that stops it (the one that resets last), None when it may take tasks.
        self.stopped_by = stopped_by

    @property
    def until(self) -> datetime | None:
        return None if self.stopped_by is None else window_end(self.stopped_by)


def window_end(view: QuotaWindowView) -> datetime | None:
    """When the reading stops counting: its reset, else the end of its window, else None."""
    if view.resets_at is not None:
        return view.resets_at
    if view.window_minutes:
        return view.observed_at + timedelta(minutes=view.window_minutes)
    return None


def _ratio(view: QuotaWindowView, settings: QuotaRoutingConfig) -> float:
    if view.status == QuotaStatus.REJECTED:
        return max(1.0, view.used_ratio or 0.0)
    if view.used_ratio is not None:
        return view.used_ratio
    return settings.warn_at if view.status == QuotaStatus.WARNING else 0.0


def stops(view: QuotaWindowView, settings: QuotaRoutingConfig) -> bool:
    """Whether the reading stops its provider's subscription/free modes (at stopAt, rejected)."""
    if view.status == QuotaStatus.REJECTED:
        return True
    return view.used_ratio is not None and view.used_ratio >= settings.stop_at


def current(views: Iterable[QuotaWindowView], now: datetime) -> list[QuotaWindowView]:
    """The agents' readings whose window has not reset yet."""
    kept = []
    for view in views:
        end = window_end(view)
        if view.source == QuotaSource.AGENT and end is not None and end > now:
            kept.append(view)
    return kept


def headroom_by_provider(
    views: Iterable[QuotaWindowView], settings: QuotaRoutingConfig, now: datetime
) -> dict[str, Headroom]:
    """Each provider id with a current reading: its pressure and what stops it, if anything."""
    grouped: dict[str, list[QuotaWindowView]] = {}
    for view in current(views, now):
        grouped.setdefault(view.provider, []).append(view)
    result = {}
    for provider, readings in grouped.items():
        stopping = [v for v in readings if stops(v, settings)]
        result[provider] = Headroom(
            provider,
            pressure=max(_ratio(v, settings) for v in readings),
            stopped_by=max(stopping, key=lambda v: window_end(v) or now) if stopping else None,
        )
    return result


def window_name(view: QuotaWindowView) -> str:
    """``5-hour window``, ``weekly Opus window``; ``<kind> window`` for a kind ADO lacks."""
    try:
        return QuotaWindow(view.kind).label
    except ValueError:
        return f"{view.kind} window"


def window_summary(view: QuotaWindowView, now: datetime) -> str:
    """``5-hour window at 96 %, resets 14:05 UTC`` (the date too when it is not today)."""
    name = window_name(view)
    if view.used_ratio is not None:
        state = f"at {view.used_ratio * 100:.0f} %"
        if view.status == QuotaStatus.REJECTED:
            state += ", rejected"
    else:
        state = str(view.status)
    text = f"{name} {state}"
    end = window_end(view)
    if end is not None:
        from ado.routing.limits import clock

        text += f", resets {clock(end, now)}"
    return text
