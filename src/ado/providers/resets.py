"""Reading rate-limit texts: is this a limit, a quota, an auth failure, and when does it reset.

Agents report limits in prose as often as in fields ("resets 2pm", "try again in 2 days 17
hours", "Claude AI usage limit reached|1732500000"); these helpers turn that prose into a
decision and a reset time.

Every datetime returned is timezone-aware UTC. A clock time without a date ("resets 2am",
"try again at 6:44 PM") means its next occurrence: in the zone named next to it
("resets 2pm (Asia/Shanghai)"), else in local time.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta, tzinfo

__all__ = [
    "looks_like_auth_error",
    "looks_like_quota",
    "looks_like_server_error",
    "looks_rate_limited",
    "parse_reset",
    "parse_retry_after",
]

# The patterns are compiled on first use (``re``'s own cache), not on import: every adapter
# imports this module, and ``ado status`` loads every adapter without reading a message.
_I = re.IGNORECASE

_RATE_LIMITED = (
    r"rate[ _-]?limit|\b429\b|too many requests|usage limit|hit your (?:usage )?limit"
    r"|(?:usage|hour|weekly|daily|monthly|session|opus|sonnet) limit reached"
    r"|resource[ _]?(?:has been )?exhausted|exceeded your current quota|exhausted your \w* ?quota"
    r"|quota[ _]exceeded|out of extra usage|premium request allowance|\brate_limited\b"
)
_QUOTA = (
    r"weekly|seven[ _-]day|7[ -]day|monthly|month(?:ly)? cycle|premium request allowance"
    r"|quota_exceeded|\b402\b|payment required|out of extra usage|billing"
)
_AUTH = (
    r"invalid[ _-]?(?:x-)?api[ _-]?key|api key not valid|incorrect api key|\b401\b|unauthori[sz]ed"
    r"|authentication[ _](?:error|failed|required)|please run /login|not logged in"
    r"|invalid auth method selected|log ?in required|please (?:log|sign) in|no api key"
    r"|missing (?:an )?api key|oauth token (?:has )?expired|credentials? (?:not found|missing)"
)
_SERVER = (
    r"\b(?:500|502|503|504|529)\b|internal server error|bad gateway|service unavailable"
    r"|gateway timeout|overloaded|high demand|temporarily unavailable"
    r"|server (?:had an|encountered an) error|server[ _]error"
)

_UNIT = r"(?:milliseconds?|ms|days?|d|hours?|hrs?|h|minutes?|mins?|m|seconds?|secs?|s)"
_AMOUNT = rf"\d+(?:\.\d+)?\s*{_UNIT}(?![a-z])"
_DURATION = (
    rf"(?:try again in|retry after|retry in|resets? in|available (?:again )?in)\s+"
    rf"(?P<d>{_AMOUNT}(?:[\s,]*(?:and\s+)?{_AMOUNT})*)"
)
_PART = rf"(\d+(?:\.\d+)?)\s*({_UNIT})(?![a-z])"
_EPOCH = r"usage limit reached\|(\d{9,13})"
_MONTHS = "jan feb mar apr may jun jul aug sep oct nov dec".split()
_CLOCK = (
    r"(?:resets?|try again|available again|retry)(?:\s+at|\s+on)?\s+"
    r"(?:(?P<mon>jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?\s+(?P<day>\d{1,2})"
    r"(?:st|nd|rd|th)?,?\s+(?:at\s+)?)?"
    r"(?P<h>\d{1,2})(?::(?P<min>\d{2}))?\s*(?P<ampm>[ap]\.?m\.?)?(?![\w:])"
    r"(?:\s*\((?P<zone>[A-Za-z_]+(?:/[A-Za-z0-9_+-]+)*)\)|\s+(?P<utc>UTC|GMT)\b)?"
)
_DATE = (
    r"(?:ends?|resets?|renews?|on)\s+(?:on\s+)?"
    r"(?:(?P<m>\d{1,2})/(?P<d>\d{1,2})/(?P<y>\d{4})|(?P<iso>\d{4}-\d{2}-\d{2}(?:[T ][\d:.]+)?"
    r"(?:Z|[+-]\d{2}:?\d{2})?))"
)


def looks_rate_limited(text: str) -> bool:
    """A 429, a usage limit, an exhausted resource or quota."""
    return bool(text) and re.search(_RATE_LIMITED, text, _I) is not None


def looks_like_quota(text: str) -> bool:
    """A long-window limit (weekly, monthly, premium allowance, 402): skip, don't wait."""
    return bool(text) and re.search(_QUOTA, text, _I) is not None


def looks_like_auth_error(text: str) -> bool:
    """Credentials missing, invalid or expired."""
    return bool(text) and re.search(_AUTH, text, _I) is not None


def looks_like_server_error(text: str) -> bool:
    """A 5xx or an overloaded model: transient."""
    return bool(text) and re.search(_SERVER, text, _I) is not None


def parse_reset(text: str, now: datetime) -> datetime | None:
    """When the limit described by ``text`` lifts, or None when the text does not say."""
    if not text:
        return None
    now = _aware(now)
    if match := re.search(_EPOCH, text, _I):
        return _from_epoch(int(match.group(1)))
    if match := re.search(_DURATION, text, _I):
        seconds = sum(
            float(amount) * _unit_seconds(unit)
            for amount, unit in re.findall(_PART, match.group("d"), _I)
        )
        return now + timedelta(seconds=seconds)
    for match in re.finditer(_CLOCK, text, _I):
        if match.group("min") is None and match.group("ampm") is None:
            continue  # a bare number ("resets 5") is not a time of day
        if (found := _next_clock_time(match, now)) is not None:
            return found
    if match := re.search(_DATE, text, _I):
        return _explicit_date(match, now)
    return None


def parse_retry_after(value: str, now: datetime) -> datetime | None:
    """An HTTP ``Retry-After`` value: delay in seconds or an HTTP date."""
    value = (value or "").strip()
    if not value:
        return None
    now = _aware(now)
    try:
        return now + timedelta(seconds=max(0.0, float(value)))
    except ValueError:
        pass
    from email.utils import parsedate_to_datetime

    try:
        parsed = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    return _aware(parsed).astimezone(UTC)


def _aware(moment: datetime) -> datetime:
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _unit_seconds(unit: str) -> float:
    unit = unit.lower()
    if unit.startswith(("ms", "milli")):
        return 0.001
    return {"s": 1, "m": 60, "h": 3600, "d": 86400}[unit[0]]


def _from_epoch(value: int) -> datetime:
    if value > 10**11:  # milliseconds
        return datetime.fromtimestamp(value / 1000, UTC)
    return datetime.fromtimestamp(value, UTC)


def _zone(name: str | None) -> tzinfo | None:
    if not name:
        return None
    if name.upper() in ("UTC", "GMT"):
        return UTC
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return None


def _next_clock_time(match: re.Match[str], now: datetime) -> datetime | None:
    hour = int(match.group("h"))
    minute = int(match.group("min") or 0)
    ampm = (match.group("ampm") or "").lower().replace(".", "")
    if ampm:
        if not 1 <= hour <= 12:
            return None
        hour = hour % 12 + (12 if ampm == "pm" else 0)
    if hour > 23 or minute > 59:
        return None
    zone = _zone(match.group("zone") or match.group("utc"))
    local = now.astimezone(zone) if zone else now.astimezone()
    if match.group("mon"):
        month = _MONTHS.index(match.group("mon").lower()[:3]) + 1
        try:
            candidate = local.replace(
                month=month,
                day=int(match.group("day")),
                hour=hour,
                minute=minute,
                second=0,
                microsecond=0,
            )
        except ValueError:
            return None
        if candidate <= now:
            candidate = candidate.replace(year=candidate.year + 1)
    else:
        candidate = local.replace(hour=hour, minute=minute, second=0, microsecond=0)
        if candidate <= now:
            candidate += timedelta(days=1)
    return candidate.astimezone(UTC)


def _explicit_date(match: re.Match[str], now: datetime) -> datetime | None:
    local_tz = now.astimezone().tzinfo
    try:
        if match.group("iso"):
            parsed = datetime.fromisoformat(match.group("iso").replace("Z", "+00:00"))
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=local_tz)
        else:
            parsed = datetime(
                int(match.group("y")),
                int(match.group("m")),
                int(match.group("d")),
                tzinfo=local_tz,
            )
    except ValueError:
        return None
    return parsed.astimezone(UTC)
