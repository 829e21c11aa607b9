"""Usage windows as the agent CLIs report them, turned into ``QUOTA`` events.

What each CLI reports (checked with the real CLIs against the scripted model server, which
sends the servers' headers, ``ado.testing.quota_headers``):

- claude prints ``{"type":"rate_limit_event","rate_limit_info":{status, resetsAt,
  rateLimitType, utilization?, surpassedThreshold?}}`` when logged in with a subscription
  (not with an API key), read from Anthropic's ``anthropic-ratelimit-unified-*`` headers.
  It reports the binding window only (``-representative-claim``); ``utilization`` only
  once a warning threshold is passed.
- codex reads ``x-codex-{primary,secondary}-*`` but prints nothing of them in
  ``exec --json``: it writes ``token_count`` events with ``rate_limits{primary, secondary}``
  (used_percent, window_minutes, resets_at) to its session log,
  ``$CODEX_HOME/sessions/YYYY/MM/DD/rollout-<time>-<thread id>.jsonl``, read when the run
  ends.

An event's ``data`` holds ``window`` (``QuotaWindow``), ``status`` (``QuotaStatus``),
``used_ratio`` (0..1, when known) and ``window_minutes``; ``reset_at`` the reset.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from ado.providers.events import AgentEvent, EventKind
from ado.vocab import QuotaStatus, QuotaWindow

__all__ = ["claude_window", "codex_session_windows", "codex_windows", "window_event"]

#: claude's ``rateLimitType`` -> (window, its length in minutes)
_CLAUDE_TYPES: dict[str, tuple[QuotaWindow, int]] = {
    "five_hour": (QuotaWindow.FIVE_HOUR, 300),
    "seven_day": (QuotaWindow.WEEKLY, 10080),
    "seven_day_opus": (QuotaWindow.WEEKLY_OPUS, 10080),
    "seven_day_sonnet": (QuotaWindow.WEEKLY_SONNET, 10080),
}
_CLAUDE_STATUS = {
    "allowed": QuotaStatus.ALLOWED,
    "allowed_warning": QuotaStatus.WARNING,
    "rejected": QuotaStatus.REJECTED,
}
#: a window's length in minutes -> its kind (codex names its windows primary/secondary)
_BY_MINUTES = {
    1: QuotaWindow.PER_MINUTE,
    60: QuotaWindow.HOURLY,
    300: QuotaWindow.FIVE_HOUR,
    1440: QuotaWindow.DAILY,
    10080: QuotaWindow.WEEKLY,
}


def window_event(
    window: QuotaWindow,
    status: QuotaStatus,
    *,
    used_ratio: float | None,
    resets_at: datetime | None,
    window_minutes: int | None,
) -> AgentEvent:
    """The ``QUOTA`` event of one reading."""
    used = f" {used_ratio:.0%} used" if used_ratio is not None else ""
    data: dict[str, Any] = {"window": window.value, "status": status.value}
    if used_ratio is not None:
        data["usedRatio"] = used_ratio
    if window_minutes is not None:
        data["windowMinutes"] = window_minutes
    return AgentEvent(
        EventKind.QUOTA,
        text=f"{window.value} window{used}, {status.value}",
        reset_at=resets_at,
        data=data,
    )


def claude_window(info: Mapping[str, Any]) -> list[AgentEvent]:
    """claude's ``rate_limit_info``: one reading of the window it names, [] when unknown."""
    known = _CLAUDE_TYPES.get(str(info.get("rateLimitType") or ""))
    status = _CLAUDE_STATUS.get(str(info.get("status") or ""))
    if known is None or status is None:
        return []
    window, minutes = known
    return [
        window_event(
            window,
            status,
            used_ratio=_ratio(info.get("utilization"), 1.0),
            resets_at=_epoch(info.get("resetsAt")),
            window_minutes=minutes,
        )
    ]


def codex_windows(rate_limits: Mapping[str, Any]) -> list[AgentEvent]:
    """codex's ``rate_limits`` snapshot: a reading per primary / secondary window."""
    events: list[AgentEvent] = []
    reached = rate_limits.get("rate_limit_reached_type")
    for name in ("primary", "secondary"):
        raw = rate_limits.get(name)
        if not isinstance(raw, dict):
            continue
        minutes = raw.get("window_minutes")
        window = _BY_MINUTES.get(minutes) if isinstance(minutes, int) else None
        used = _ratio(raw.get("used_percent"), 100.0)
        if window is None:
            continue
        rejected = (used is not None and used >= 1.0) or (
            isinstance(reached, str) and name in reached
        )
        resets_at = _epoch(raw.get("resets_at"))
        if resets_at is None and isinstance(raw.get("resets_in_seconds"), int | float):
            resets_at = datetime.fromtimestamp(
                datetime.now(UTC).timestamp() + float(raw["resets_in_seconds"]), UTC
            )
        events.append(
            window_event(
                window,
                QuotaStatus.REJECTED if rejected else QuotaStatus.ALLOWED,
                used_ratio=used,
                resets_at=resets_at,
                window_minutes=int(minutes) if isinstance(minutes, int) else None,
            )
        )
    return events


def codex_session_windows(codex_home: Path, thread_id: str) -> list[AgentEvent]:
    """The last ``rate_limits`` codex wrote to the session log of ``thread_id``; [] when
    there is no log or no snapshot (an API-key login, an older codex)."""
    if not thread_id or "/" in thread_id or "*" in thread_id:
        return []
    logs = sorted((codex_home / "sessions").glob(f"*/*/*/rollout-*-{thread_id}.jsonl"))
    if not logs:
        return []
    latest: dict[str, Any] | None = None
    try:
        with logs[-1].open(encoding="utf-8", errors="replace") as log:
            for line in _lines_with(log, '"rate_limits"'):
                try:
                    payload = json.loads(line).get("payload") or {}
                except ValueError:
                    continue
                limits = payload.get("rate_limits") if isinstance(payload, dict) else None
                if isinstance(limits, dict):
                    latest = limits
    except OSError:
        return []
    return codex_windows(latest) if latest else []


def _lines_with(lines: Iterable[str], needle: str) -> Iterable[str]:
    return (line for line in lines if needle in line)


def _ratio(value: Any, scale: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return max(0.0, float(value) / scale)


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None
