"""Reading rate-limit texts: is this a limit, a quota, an auth failure, and when does it reset.

Agents report limits in prose as often as in fields ("resets 2pm", "try again in 2 days 17
hours", "Claude AI usage limit reached|1732500000"); these helpers turn that prose into a
decision and a reset time.
"""

from __future__ import annotations

from datetime import datetime

__all__ = [
    "looks_like_auth_error",
    "looks_like_quota",
    "looks_like_server_error",
    "looks_rate_limited",
    "parse_reset",
    "parse_retry_after",
]


def looks_rate_limited(text: str) -> bool:
    raise NotImplementedError


def looks_like_quota(text: str) -> bool:
    raise NotImplementedError


def looks_like_auth_error(text: str) -> bool:
    raise NotImplementedError


def looks_like_server_error(text: str) -> bool:
    raise NotImplementedError


def parse_reset(text: str, now: datetime) -> datetime | None:
    raise NotImplementedError


def parse_retry_after(value: str, now: datetime) -> datetime | None:
    raise NotImplementedError
