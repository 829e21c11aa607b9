"""The views routing reads before an agent starts: cooldowns, quota windows, usage totals.

Kept apart from the other views (``ado.store.views``, which re-exports them) so that
``ado run`` loads only these three before it spawns its agent (tests/cli/test_run_startup.py):
defining a named tuple costs ~0.2 ms at import, and the task and event views load after the
spawn, when the task's end is recorded.
"""

# No ``from __future__ import annotations``: see ``ado.store.views``.
from datetime import datetime
from typing import NamedTuple

__all__ = ["CooldownView", "QuotaWindowView", "UsageTotals"]


class UsageTotals(NamedTuple):
    requests: int
    #: Input + output + cache read + cache write.
    tokens: int
    cost_usd: float
    api_cost_usd: float


class CooldownView(NamedTuple):
    provider: str
    access_mode: str
    until: datetime
    #: rate_limited or quota_exhausted
    kind: str
    reason: str | None
    #: True when the reset time came from the agent, False when ADO assumed a default.
    reset_known: bool
    task_id: int | None
    created_at: datetime


class QuotaWindowView(NamedTuple):
    """The latest reading of one usage window (the quota ledger, ``quota_windows``)."""

    provider: str
    #: a QuotaWindow value
    kind: str
    status: str
    source: str
    used_ratio: float | None
    resets_at: datetime | None
    window_minutes: int | None
    observed_at: datetime
    prev_used_ratio: float | None = None
    prev_observed_at: datetime | None = None
