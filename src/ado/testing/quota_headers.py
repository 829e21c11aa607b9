"""The usage-window headers real model APIs send, for the scripted model server.

Subscription agents learn how much of their plan's windows is used from response headers
on every model answer, and report it (claude as a ``rate_limit_event`` line, codex in its
session log). ``ScriptedModelServer(quota_headers=...)`` sends these on every model
response, success or failure, so tests see the real CLIs report them::

    five = WindowHeader(used=0.87, resets_at=now + 3600, window_minutes=300)
    week = WindowHeader(used=0.40, resets_at=now + 86400, window_minutes=10080)
    headers = anthropic_unified(five_hour=five, seven_day=week) | codex(five, week)
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["WindowHeader", "anthropic_unified", "codex"]


@dataclass(frozen=True)
class WindowHeader:
    """One usage window as a server states it."""

    #: Fraction used, 0..1 (codex's headers carry it as a percentage).
    used: float
    #: When it resets, epoch seconds.
    resets_at: int
    window_minutes: int
    #: allowed / allowed_warning / rejected (Anthropic's per-window status).
    status: str = "allowed"
    #: Anthropic's ``-surpassed-threshold``: the warning level the window passed, if any.
    surpassed_threshold: float | None = None


def anthropic_unified(
    *,
    five_hour: WindowHeader | None = None,
    seven_day: WindowHeader | None = None,
    representative_claim: str = "five_hour",
    overage_status: str | None = None,
    overage_resets_at: int | None = None,
    overage_monthly_utilization: float | None = None,
) -> dict[str, str]:
    """Anthropic's ``anthropic-ratelimit-unified-*`` headers (what claude reads).

    ``overage_status`` (allowed / allowed_warning / rejected): the account's extra usage;
    with a rejected window and ``allowed`` here, claude goes on billed as overage and says
    ``isUsingOverage: true``."""
    headers: dict[str, str] = {}
    windows = {"5h": five_hour, "7d": seven_day}
    for abbrev, window in windows.items():
        if window is None:
            continue
        prefix = f"anthropic-ratelimit-unified-{abbrev}"
        headers[f"{prefix}-utilization"] = f"{window.used:g}"
        headers[f"{prefix}-reset"] = str(window.resets_at)
        headers[f"{prefix}-status"] = window.status
        if window.surpassed_threshold is not None:
            headers[f"{prefix}-surpassed-threshold"] = f"{window.surpassed_threshold:g}"
    binding = five_hour if representative_claim == "five_hour" else seven_day
    statuses = [w.status for w in windows.values() if w is not None]
    overall = (
        "rejected"
        if "rejected" in statuses
        else "allowed_warning"
        if "allowed_warning" in statuses
        else "allowed"
    )
    headers["anthropic-ratelimit-unified-status"] = overall
    headers["anthropic-ratelimit-unified-representative-claim"] = representative_claim
    if binding is not None:
        headers["anthropic-ratelimit-unified-reset"] = str(binding.resets_at)
    if overage_status is not None:
        headers["anthropic-ratelimit-unified-overage-status"] = overage_status
    if overage_resets_at is not None:
        headers["anthropic-ratelimit-unified-overage-reset"] = str(overage_resets_at)
    if overage_monthly_utilization is not None:
        headers["anthropic-ratelimit-unified-overage-period-monthly-utilization"] = (
            f"{overage_monthly_utilization:g}"
        )
    return headers


def codex(
    primary: WindowHeader | None = None, secondary: WindowHeader | None = None
) -> dict[str, str]:
    """OpenAI's ``x-codex-{primary,secondary}-*`` headers (what codex reads)."""
    headers: dict[str, str] = {}
    for name, window in (("primary", primary), ("secondary", secondary)):
        if window is None:
            continue
        prefix = f"x-codex-{name}"
        headers[f"{prefix}-used-percent"] = f"{window.used * 100:g}"
        headers[f"{prefix}-window-minutes"] = str(window.window_minutes)
        headers[f"{prefix}-reset-at"] = str(window.resets_at)
    return headers
