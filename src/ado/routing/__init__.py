"""Routing: which (provider, access mode) takes a task, its limits, and its cost guards.

The names below are imported on first use, so that loading one routing module (the config
validator needs ``routing.outcomes``) does not load the router and its dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ado._lazy import lazy_exports

if TYPE_CHECKING:
    from ado.routing.costs import CostGuard, check_costs
    from ado.routing.limits import (
        LimitRow,
        LimitStatus,
        check_limits,
        cooldown_until,
        usage_against_limits,
    )
    from ado.routing.outcomes import should_fail_over
    from ado.routing.router import Candidate, RouteFilters, Router, RoutingPlan, Skip, SkipKind

_HOMES = {
    "CostGuard": "costs",
    "check_costs": "costs",
    "LimitRow": "limits",
    "LimitStatus": "limits",
    "check_limits": "limits",
    "cooldown_until": "limits",
    "usage_against_limits": "limits",
    "should_fail_over": "outcomes",
    "Candidate": "router",
    "RouteFilters": "router",
    "Router": "router",
    "RoutingPlan": "router",
    "Skip": "router",
    "SkipKind": "router",
}

__getattr__ = lazy_exports(__name__, _HOMES)


__all__ = [
    "Candidate",
    "CostGuard",
    "LimitRow",
    "LimitStatus",
    "RouteFilters",
    "Router",
    "RoutingPlan",
    "Skip",
    "SkipKind",
    "check_costs",
    "check_limits",
    "cooldown_until",
    "should_fail_over",
    "usage_against_limits",
]
