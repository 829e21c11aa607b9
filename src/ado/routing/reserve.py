"""Taking a routed pair's request atomically, so limits hold across processes.

``Router.plan`` reads the store to choose; ``reserve`` then takes the chosen pair's request
in one locked transaction (``ado.store.reservations``), counting each configured limit's
window (``ado.routing.limits.limit_windows``) and the pair's cooldown again under the lock.
Two processes racing for a pair's last request both see it free in their plans; exactly one
reservation succeeds, and the other routes again (its next plan skips the pair as limited).
A pair with no configured limit needs no reservation: its usage is recorded when the
attempt ends, as before.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ado.routing.limits import limit_windows

if TYPE_CHECKING:
    from ado.routing.router import Candidate, RoutingPlan
    from ado.store.methods import SqlMethods

__all__ = ["release", "reserve"]


def reserve(
    store: SqlMethods, plan: RoutingPlan, task_id: int, now: datetime | None = None
) -> Candidate | None:
    """The plan's first candidate, its request reserved (``reservation`` set when it has
    limits); None when another process took the last one meanwhile: route again."""
    cand = plan.candidates[0]
    now = now or datetime.now(UTC)
    limits = limit_windows(cand.mode_config, now)
    if not limits:
        return cand
    reservation = store.reserve_request(
        cand.provider, cand.access_mode, limits=limits, now=now, task_id=task_id
    )
    return None if reservation is None else cand.replace(reservation=reservation)


def release(store: SqlMethods, cand: Candidate) -> None:
    """Give ``cand``'s reserved request back: no agent ran on it."""
    if cand.reservation is not None:
        store.release_request(cand.reservation)
