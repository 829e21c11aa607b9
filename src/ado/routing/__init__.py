"""Routing: which (provider, access mode) takes a task, its limits, and its cost guards."""

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
