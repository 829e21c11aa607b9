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
- claude past its plan: when a window is exhausted and the account has extra usage
  (``anthropic-ratelimit-unified-overage-status: allowed``), claude goes on, billed as
  overage: its event says ``status: rejected, isUsingOverage: true, overageStatus,
  overageResetsAt``. That is a reading of the exhausted window and of the ``overage`` one
  (``data["overage"]``), not a limit: the runner counts the attempt's spend as real.
- gemini, copilot and opencode report no windows on a normal run, only in their quota
  errors: gemini's ``RESOURCE_EXHAUSTED`` texts ("You have exhausted your daily quota on this
  model.", "Quota exceeded for quota metric '… per minute'"), copilot's HTTP 402
  ``quota_exceeded`` (its monthly premium requests), opencode's error event with the
  response's ``x-ratelimit-*`` headers. Read from their error events only, never from an
  answer.

An event's ``data`` holds ``window`` (``QuotaWindow``), ``status`` (``QuotaStatus``),
``used_ratio`` (0..1, when known) and ``window_minutes``; ``reset_at`` the reset.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from ado.providers.events import AgentEvent, EventKind
from ado.vocab import QuotaStatus, QuotaWindow

__all__ = [
    "claude_window",
    "codex_session_windows",
    "codex_windows",
    "copilot_premium_window",
    "copilot_quota_snapshots",
    "gemini_windows",
    "rate_limit_header_windows",
    "using_overage",
    "window_event",
]

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
    """claude's ``rate_limit_info``: one reading of the window it names (and of the overage,
    when claude bills it), [] when unknown."""
    events: list[AgentEvent] = []
    known = _CLAUDE_TYPES.get(str(info.get("rateLimitType") or ""))
    status = _CLAUDE_STATUS.get(str(info.get("status") or ""))
    overage = using_overage(info)
    if known is not None and status is not None:
        window, minutes = known
        event = window_event(
            window,
            status,
            used_ratio=_ratio(info.get("utilization"), 1.0),
            resets_at=_epoch(info.get("resetsAt")),
            window_minutes=minutes,
        )
        if overage:
            event.data["overage"] = True
        events.append(event)
    if overage:
        period = info.get("overagePeriodMonthly")
        used = period.get("utilization") if isinstance(period, dict) else None
        event = window_event(
            QuotaWindow.OVERAGE,
            _CLAUDE_STATUS.get(str(info.get("overageStatus") or ""), QuotaStatus.ALLOWED),
            used_ratio=_ratio(used, 1.0),
            resets_at=_epoch(info.get("overageResetsAt")),
            window_minutes=None,
        )
        event.data["overage"] = True
        events.append(event)
    return events


def using_overage(info: Mapping[str, Any]) -> bool:
    """claude goes on past an exhausted window, billed as extra usage (overage)."""
    return info.get("isUsingOverage") is True or info.get("overageInUse") is True


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
    found = _last_rate_limits(logs[-1])
    return codex_windows(found[1]) if found else []


#: Session logs ``codex_latest_windows`` looks into, newest first, for one with a snapshot.
LATEST_LOGS = 20


def codex_latest_windows(codex_home: Path) -> tuple[datetime, list[AgentEvent]] | None:
    """The newest ``rate_limits`` in any of codex's session logs (a run through ADO or not)
    and when codex wrote it: what ``ado quota --refresh`` reads, at no cost in quota. None
    when no recent log holds one. The logs are ``sessions/YYYY/MM/DD/rollout-<time>-…``,
    so their paths sort by time."""
    logs = sorted((codex_home / "sessions").glob("*/*/*/rollout-*.jsonl"))
    for log in reversed(logs[-LATEST_LOGS:]):
        found = _last_rate_limits(log)
        if found is None:
            continue
        when, limits = found
        if when is None:
            try:
                when = datetime.fromtimestamp(log.stat().st_mtime, UTC)
            except OSError:
                continue
        events = codex_windows(limits)
        if events:
            return when, events
    return None


def _last_rate_limits(log: Path) -> tuple[datetime | None, dict[str, Any]] | None:
    """The last ``rate_limits`` of a session log, with its line's ``timestamp``."""
    latest: tuple[datetime | None, dict[str, Any]] | None = None
    try:
        with log.open(encoding="utf-8", errors="replace") as lines:
            for line in _lines_with(lines, '"rate_limits"'):
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                payload = record.get("payload") if isinstance(record, dict) else None
                limits = payload.get("rate_limits") if isinstance(payload, dict) else None
                if isinstance(limits, dict):
                    latest = (_iso(record.get("timestamp")), limits)
    except OSError:
        return None
    return latest


def _iso(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        when = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        return None
    return when if when.tzinfo is not None else when.replace(tzinfo=UTC)


#: gemini's quota errors (``classifyGoogleError`` and the API's own texts): which window.
#: The patterns are compiled on first use (``re``'s cache), not when an adapter loads.
_GEMINI_QUOTA = (
    r"RESOURCE_EXHAUSTED|Resource has been exhausted|exceeded your current quota"
    r"|Quota exceeded for (?:quota )?metric|exhausted your daily quota"
)
_GEMINI_DAILY = r"daily quota|per ?day|\bdaily\b"
_GEMINI_MINUTE = r"per ?minute"
_RETRY_IN = r"(?:retry in|retry after|retryDelay\W+)\s*([0-9]+(?:\.[0-9]+)?)\s*(ms|s)\b"
#: Google's per-day quotas reset at midnight Pacific time (the Gemini API's rate-limit docs).
_PACIFIC = "America/Los_Angeles"


def gemini_windows(error_text: str, now: datetime) -> list[AgentEvent]:
    """A reading of the window gemini's quota error names: ``daily`` (reset at midnight
    Pacific) or ``per_minute`` (reset after the suggested retry delay); [] for any other
    error, or a quota error that names no window."""
    if not re.search(_GEMINI_QUOTA, error_text, re.IGNORECASE):
        return []
    if re.search(_GEMINI_DAILY, error_text, re.IGNORECASE):
        return [
            window_event(
                QuotaWindow.DAILY,
                QuotaStatus.REJECTED,
                used_ratio=1.0,
                resets_at=_next_pacific_midnight(now),
                window_minutes=1440,
            )
        ]
    if re.search(_GEMINI_MINUTE, error_text, re.IGNORECASE):
        delay = _retry_delay(error_text)
        return [
            window_event(
                QuotaWindow.PER_MINUTE,
                QuotaStatus.REJECTED,
                used_ratio=1.0,
                resets_at=now + timedelta(seconds=delay if delay is not None else 60.0),
                window_minutes=1,
            )
        ]
    return []


def copilot_premium_window(status: int | None, code: str | None, now: datetime) -> list[AgentEvent]:
    """copilot's HTTP 402 ``quota_exceeded``: its monthly premium requests are used up (they
    reset on the 1st of the month, 00:00 UTC); [] for any other failure."""
    if status != 402 and code != "quota_exceeded":
        return []
    month = now.astimezone(UTC).replace(day=1, hour=0, minute=0, second=0, microsecond=0)
    reset = (month + timedelta(days=32)).replace(day=1)
    return [
        window_event(
            QuotaWindow.MONTHLY_PREMIUM,
            QuotaStatus.REJECTED,
            used_ratio=1.0,
            resets_at=reset,
            window_minutes=None,
        )
    ]


def copilot_quota_snapshots(snapshots: Mapping[str, Any]) -> list[AgentEvent]:
    """copilot's ``quotaSnapshots`` (its session log's usage records, from GitHub's API):
    the ``premium_interactions`` allowance as the month's premium-request window; an
    unlimited entitlement, or figures that make no sense, give no reading."""
    snap = snapshots.get("premium_interactions")
    if not isinstance(snap, dict) or snap.get("isUnlimitedEntitlement") is True:
        return []
    entitlement = _number(snap.get("entitlementRequests"))
    used_requests = _number(snap.get("usedRequests"))
    remaining = _number(snap.get("remainingPercentage"))
    used: float | None = None
    if entitlement is not None and entitlement > 0 and used_requests is not None:
        used = _ratio(used_requests / entitlement, 1.0)
    elif remaining is not None and 0 <= remaining <= 100:
        used = 1.0 - remaining / 100.0
    if used is None:
        return []
    resets_at = _iso(snap.get("resetDate"))
    exhausted = used >= 1.0 or snap.get("hasQuota") is False
    return [
        window_event(
            QuotaWindow.MONTHLY_PREMIUM,
            QuotaStatus.REJECTED if exhausted else QuotaStatus.ALLOWED,
            used_ratio=used,
            resets_at=resets_at,
            window_minutes=None,
        )
    ]


def rate_limit_header_windows(headers: Mapping[str, str], now: datetime) -> list[AgentEvent]:
    """OpenAI-style ``x-ratelimit-{limit,remaining,reset}-{requests,tokens}`` (what opencode
    hands on in its error event): one reading, the fuller of the two, its window told by
    the reset's distance (a minute, an hour, else a day); [] when the figures are missing
    or make no sense."""
    best: tuple[float, datetime] | None = None
    for unit in ("requests", "tokens"):
        limit = _number(headers.get(f"x-ratelimit-limit-{unit}"))
        remaining = _number(headers.get(f"x-ratelimit-remaining-{unit}"))
        after = _duration_s(headers.get(f"x-ratelimit-reset-{unit}", ""))
        if limit is None or remaining is None or after is None or limit <= 0:
            continue
        used = min(1.0, max(0.0, 1.0 - remaining / limit))
        if best is None or used > best[0]:
            best = (used, now + timedelta(seconds=after))
    if best is None:
        return []
    used, resets_at = best
    seconds = (resets_at - now).total_seconds()
    window, minutes = (
        (QuotaWindow.PER_MINUTE, 1)
        if seconds <= 60
        else (QuotaWindow.HOURLY, 60)
        if seconds <= 3600
        else (QuotaWindow.DAILY, 1440)
    )
    status = QuotaStatus.REJECTED if used >= 1.0 else QuotaStatus.ALLOWED
    return [
        window_event(window, status, used_ratio=used, resets_at=resets_at, window_minutes=minutes)
    ]


def _next_pacific_midnight(now: datetime) -> datetime | None:
    try:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError
    except ImportError:  # pragma: no cover - stdlib since 3.9
        return None
    try:
        zone = ZoneInfo(_PACIFIC)
    except (ZoneInfoNotFoundError, ValueError):
        return None  # no time-zone data on this system: the reset stays unknown
    local = now.astimezone(zone)
    midnight = (local + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    return midnight.astimezone(UTC)


def _retry_delay(text: str) -> float | None:
    match = re.search(_RETRY_IN, text, re.IGNORECASE)
    if not match:
        return None
    value = float(match.group(1))
    return value / 1000 if match.group(2).lower() == "ms" else value


_DURATION_PART = r"([0-9]+(?:\.[0-9]+)?)(ms|h|m|s)"


def _duration_s(text: str) -> float | None:
    """OpenAI's reset durations: ``60s``, ``1m30s``, ``6ms``, ``2h0m0s``; a bare number is
    seconds."""
    text = text.strip()
    if not text:
        return None
    bare = _number(text)
    if bare is not None:
        return bare if bare >= 0 else None
    parts = re.findall(_DURATION_PART, text)
    if not parts or "".join(n + u for n, u in parts) != text:
        return None
    scale = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
    return sum(float(n) * scale[u] for n, u in parts)


def _number(value: Any) -> float | None:
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _lines_with(lines: Iterable[str], needle: str) -> Iterable[str]:
    return (line for line in lines if needle in line)


def _ratio(value: Any, scale: float) -> float | None:
    """A used fraction, 0..1: over 1 is a window used up (1.0); negative, NaN or not a number
    is no figure at all (None), never a made-up 0."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    ratio = float(value) / scale
    if not math.isfinite(ratio) or ratio < 0:
        return None
    return min(1.0, ratio)


def _epoch(value: Any) -> datetime | None:
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    try:
        return datetime.fromtimestamp(float(value), UTC)
    except (OverflowError, OSError, ValueError):
        return None
