"""Which attempt outcomes move a task to the next provider."""

from __future__ import annotations

from ado.vocab import OutcomeKind

__all__ = ["ERROR_CLASSES", "should_fail_over"]

#: Names accepted in ``routing.failover.onErrors`` (the original's names and ADO's).
ERROR_CLASSES: dict[str, frozenset[OutcomeKind]] = {
    "rate_limit": frozenset({OutcomeKind.RATE_LIMITED}),
    "rate_limited": frozenset({OutcomeKind.RATE_LIMITED}),
    "quota_exhausted": frozenset({OutcomeKind.QUOTA_EXHAUSTED}),
    "timeout": frozenset({OutcomeKind.TIMED_OUT}),
    "timed_out": frozenset({OutcomeKind.TIMED_OUT}),
    "server_error": frozenset({OutcomeKind.SERVER_ERROR}),
    "crash": frozenset({OutcomeKind.CRASHED}),
    "crashed": frozenset({OutcomeKind.CRASHED}),
    "auth": frozenset({OutcomeKind.AUTH_MISSING}),
    "auth_missing": frozenset({OutcomeKind.AUTH_MISSING}),
    "not_installed": frozenset({OutcomeKind.NOT_INSTALLED}),
    "failed": frozenset({OutcomeKind.FAILED}),
}


def should_fail_over(kind: OutcomeKind, on_errors: list[str]) -> bool:
    """Rate limits and exhausted quotas always move on; other outcomes when listed."""
    if kind.is_limit:
        return True
    return any(kind in ERROR_CLASSES[name] for name in on_errors)
