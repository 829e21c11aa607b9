"""Parking a task when every candidate is limited, and when it is looked at again.

One decision for ``ado serve`` and ``ado run --wait`` (``ado.orchestrator.runner`` calls it
for both):

    park = decide(plan, parks=0, max_parks=3, not_after=deadline, now=now)   # or raises

- A task is parked only when the routing plan has no candidate and knows a reset
  (``plan.earliest_reset``: a cooldown, a configured limit or a usage window at
  ``routing.quota.stopAt``/rejected). Without a known reset it fails as before.
- It is looked at again **once**, at that earliest reset: the routing plan is made again (the
  cheap check against the cooldowns and the quota ledger, no agent runs); when a pair is free
  the agent runs, and when the agent refuses again (a new cooldown) or nothing is free yet,
  the task is parked again until the next known reset. Never a retry loop: each park counts,
  and the one after ``routing.quota.maxParks`` fails the task instead.
- ``not_after`` (``--not-after HH:MM``, the task field ``notAfter``): a parked task never
  resumes after that time. When the earliest reset falls after it, the task fails at once
  ("not resumed: …") rather than waiting all night; a task found due after it (a server that
  was down at the time) fails the same way. The time is the first ``HH:MM`` after the task
  was created, in its offset (``23:00+01:00``) or else the local time of the deciding
  process (``ado run`` stores the terminal's offset with it).

``ado serve`` parks a task in the queue (status ``parked``, no owner): any worker pool claims
it once ``parked_until`` has passed, so it survives a restart. ``ado run --wait`` parks it
with itself as owner and waits in process; it also looks at the store every few seconds, so
a cooldown cleared by hand (``ado providers reset``) ends the wait early.

Imports only the standard library and ``ado.errors``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import TYPE_CHECKING

from ado.errors import NoProviderAvailable

if TYPE_CHECKING:
    from ado.routing.router import RoutingPlan

__all__ = ["Park", "check_not_after", "deadline", "decide", "park_reason", "resume_refused"]


@dataclass(frozen=True, slots=True)
class Park:
    """Park until ``until`` (the earliest known reset), for ``reason``."""

    until: datetime
    #: ``waiting for claude-code's 5-hour window, resets 14:05 UTC``
    reason: str


def check_not_after(value: str) -> str:
    """``value`` as ``HH:MM`` (with its offset, if given); ``ValueError`` saying the form."""
    try:
        parsed = time.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(
            f"{value!r} is not a time of day: give HH:MM on the 24-hour clock, "
            "optionally with an offset (23:00, 07:30+02:00)"
        ) from None
    return parsed.isoformat(timespec="minutes")


def deadline(not_after: str, since: datetime) -> datetime:
    """The first ``not_after`` time of day after ``since`` (aware)."""
    parsed = time.fromisoformat(not_after)
    local = since.astimezone(parsed.tzinfo) if parsed.tzinfo else since.astimezone()
    at = local.replace(hour=parsed.hour, minute=parsed.minute, second=0, microsecond=0)
    return at if at > local else at + timedelta(days=1)


def park_reason(plan: RoutingPlan, now: datetime) -> str:
    """What the task waits for: the limited pair that frees up first."""
    from ado.routing.limits import clock

    limited = [s for s in plan.skipped if s.until is not None]
    first = min(limited, key=lambda s: s.until or now)
    assert first.until is not None
    what = first.what or first.kind.value.replace("_", " ")
    return f"waiting for {first.provider}'s {what}, resets {clock(first.until, now)}"


def decide(
    plan: RoutingPlan,
    *,
    parks: int,
    max_parks: int,
    not_after: str | None,
    created_at: datetime,
    now: datetime,
) -> Park:
    """Park the task (no candidate in ``plan``) until its earliest reset, or raise
    ``NoProviderAvailable`` saying why not: no known reset, ``max_parks`` parks already,
    or a reset after ``not_after``."""
    when = plan.earliest_reset
    if when is None or max_parks == 0:
        raise plan.unavailable()
    reason = park_reason(plan, now)
    if parks >= max_parks:
        raise NoProviderAvailable(
            f"Still no provider after {parks} park(s) (routing.quota.maxParks: {max_parks}): "
            f"{reason}.",
            earliest_reset=when,
            hint="Raise routing.quota.maxParks, or submit the task again after the reset.",
        )
    if not_after is not None:
        limit = deadline(not_after, created_at)
        if when > limit:
            from ado.routing.limits import clock

            raise NoProviderAvailable(
                f"Not resumed: the earliest reset, {clock(when, now)}, is after the task's "
                f"not-after time {not_after} ({clock(limit, now)}); {reason}.",
                earliest_reset=when,
                hint="Submit it again with a later --not-after (notAfter), or without one.",
            )
    return Park(when, reason)


def resume_refused(
    not_after: str | None, created_at: datetime, now: datetime
) -> NoProviderAvailable | None:
    """The error when a parked task is due only after its ``not_after`` time, else None."""
    if not_after is None:
        return None
    limit = deadline(not_after, created_at)
    if now <= limit:
        return None
    from ado.routing.limits import clock

    return NoProviderAvailable(
        f"Not resumed: it would start after its not-after time {not_after} ({clock(limit, now)}).",
        hint="Submit it again, with a later --not-after (notAfter) or without one.",
    )
