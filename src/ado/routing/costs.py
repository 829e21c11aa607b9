"""Money guards for API access modes: before a run (:func:`check_costs`) and during it
(:class:`CostGuard`).

Subscription and free modes are never checked: they spend nothing. For API modes, in order:

1. today's spend (since 00:00 UTC, every provider) has reached ``apiFallback.maxDailyCost``;
2. the task's estimate exceeds ``--max-cost`` (or ``apiFallback.maxCostPerTask``);
3. the estimate exceeds ``apiFallback.confirmAboveCost``: the user is asked (``-y`` skips it).

Each refusal raises :class:`~ado.errors.CostLimitError`.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ado.errors import CostLimitError

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.routing.router import Candidate
    from ado.store.methods import SqlMethods

__all__ = ["CostGuard", "check_costs", "day_start", "spent_today"]


def day_start(now: datetime) -> datetime:
    """00:00 UTC of ``now``'s day: where the daily cost budget starts."""
    return now.astimezone(UTC).replace(hour=0, minute=0, second=0, microsecond=0)


def spent_today(store: SqlMethods, now: datetime) -> float:
    return store.spend_since(day_start(now))


def check_costs(
    store: SqlMethods,
    config: AdoConfig,
    candidate: Candidate,
    *,
    estimate: float,
    max_cost: float | None,
    confirm: Callable[[str], bool] | None,
    now: datetime,
) -> None:
    """Raise ``CostLimitError`` unless ``candidate`` may start a task expected to cost
    ``estimate`` USD. ``confirm`` asks the user (None: do not ask, as with ``-y``). A refused
    candidate gives its reserved request back (``ado.routing.reserve``)."""
    if candidate.mode_config.mode != "api":
        return
    try:
        fallback = config.routing.api_fallback
        where = f"{candidate.provider}/{candidate.access_mode}"

        if fallback.max_daily_cost is not None:
            spent = spent_today(store, now)
            if spent >= fallback.max_daily_cost:
                raise CostLimitError(
                    f"Today's API spend ${spent:.2f} has reached the daily limit "
                    f"${fallback.max_daily_cost:.2f} (routing.apiFallback.maxDailyCost); "
                    f"not starting {where}.",
                    hint="Wait for 00:00 UTC, raise maxDailyCost in ado.config.yaml, "
                    "or route to a subscription with --access-mode subscription.",
                )

        per_task = max_cost if max_cost is not None else fallback.max_cost_per_task
        if per_task is not None and estimate > per_task:
            source = "--max-cost" if max_cost is not None else "routing.apiFallback.maxCostPerTask"
            raise CostLimitError(
                f"{where} is expected to cost about ${estimate:.2f}, above the ${per_task:.2f} "
                f"per-task limit ({source}).",
                hint="Raise it with --max-cost, or route to a subscription.",
            )

        threshold = fallback.confirm_above_cost
        if confirm is not None and threshold is not None and estimate > threshold:
            question = (
                f"{where} uses a paid API key; this task may cost about ${estimate:.2f} "
                f"(above ${threshold:.2f}). Continue?"
            )
            if not confirm(question):
                raise CostLimitError(
                    f"Not running on {where}: the expected cost (~${estimate:.2f}) was refused.",
                    hint="Pass -y to skip the confirmation, or route to a subscription.",
                )
    except CostLimitError:  # no agent runs: its reserved request is given back
        from ado.routing.reserve import release

        release(store, candidate)
        raise


class CostGuard:
    """Tells the runner when a running API-mode attempt has spent too much.

    Feed it the attempt's measured cost so far; ``exceeded`` turns true once it is above the
    limit (None: no limit).
    """

    def __init__(self, limit: float | None) -> None:
        self.limit = limit

    @classmethod
    def for_task(
        cls, store: SqlMethods, config: AdoConfig, *, max_cost: float | None, now: datetime
    ) -> CostGuard:
        """The per-task limit (``--max-cost`` or ``maxCostPerTask``), capped by what is left
        of today's ``maxDailyCost``."""
        fallback = config.routing.api_fallback
        limits = [max_cost if max_cost is not None else fallback.max_cost_per_task]
        if fallback.max_daily_cost is not None:
            limits.append(max(0.0, fallback.max_daily_cost - spent_today(store, now)))
        present = [limit for limit in limits if limit is not None]
        return cls(min(present) if present else None)

    def exceeded(self, cost: float) -> bool:
        return self.limit is not None and cost > self.limit

    def message(self, cost: float) -> str:
        return (
            f"Stopped: this attempt has cost ${cost:.2f}, above the ${self.limit or 0:.2f} limit "
            "(--max-cost or routing.apiFallback.maxCostPerTask, capped by what is left of "
            "maxDailyCost)."
        )
