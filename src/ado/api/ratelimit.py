"""Per-client request rate limiting: a token bucket per client (an API token, else an IP).

Each client may burst up to ``per_minute`` requests, refilled at ``per_minute / 60`` per
second. Every ``/api`` response carries ``X-RateLimit-Limit`` (the per-minute limit),
``X-RateLimit-Remaining`` (requests left right now) and ``X-RateLimit-Reset`` (seconds until
the bucket is full again); a refused request gets 429 with ``Retry-After`` (seconds until
one request is allowed). The ASGI middleware applying it is ``ado.api.guard``.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ado.config.server import ServerConfig

__all__ = ["Decision", "RateLimit", "RateLimiter"]


@dataclass(frozen=True, slots=True)
class RateLimit:
    """How many requests a client may make per minute; loopback clients may be exempt."""

    per_minute: int = 600
    #: Requests from 127.0.0.1/::1 without a token are not limited (benchmarks, `ado serve`
    #: on a laptop) when True.
    exempt_loopback: bool = False
    #: Buckets kept at most; the fullest are dropped first beyond it.
    max_clients: int = 10_000

    @classmethod
    def for_server(cls, config: ServerConfig, *, require_auth: bool) -> RateLimit | None:
        """``server.rateLimit`` (None when 0: off); loopback clients are exempt while the API
        needs no token, unless ``server.exemptLoopback`` is false."""
        if config.rate_limit == 0:
            return None
        return cls(
            per_minute=config.rate_limit,
            exempt_loopback=config.exempt_loopback and not require_auth,
        )


@dataclass(frozen=True, slots=True)
class Decision:
    allowed: bool
    limit: int
    remaining: int
    #: Seconds until the bucket is full again.
    reset: int
    #: Seconds until the next request is allowed (0 when allowed).
    retry_after: int

    def headers(self) -> list[tuple[bytes, bytes]]:
        found = [
            (b"x-ratelimit-limit", str(self.limit).encode()),
            (b"x-ratelimit-remaining", str(self.remaining).encode()),
            (b"x-ratelimit-reset", str(self.reset).encode()),
        ]
        if not self.allowed:
            found.append((b"retry-after", str(self.retry_after).encode()))
        return found


class RateLimiter:
    """Token buckets by client key. Not thread-safe: used from the event loop only."""

    def __init__(self, limit: RateLimit, clock: Callable[[], float] = time.monotonic) -> None:
        self.limit = limit
        self._capacity = float(limit.per_minute)
        self._rate = limit.per_minute / 60.0
        self._clock = clock
        #: key → [tokens, time of the last update]
        self._buckets: dict[str, list[float]] = {}

    def take(self, key: str) -> Decision:
        """Take one request from ``key``'s bucket (if there is one to take)."""
        now = self._clock()
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= self.limit.max_clients:
                self._evict(now)
            bucket = self._buckets[key] = [self._capacity, now]
        tokens = min(self._capacity, bucket[0] + (now - bucket[1]) * self._rate)
        bucket[1] = now
        allowed = tokens >= 1.0
        if allowed:
            tokens -= 1.0
        bucket[0] = tokens
        return Decision(
            allowed=allowed,
            limit=self.limit.per_minute,
            remaining=int(tokens),
            reset=math.ceil((self._capacity - tokens) / self._rate) if self._rate else 0,
            retry_after=0 if allowed else max(1, math.ceil((1.0 - tokens) / self._rate)),
        )

    def _evict(self, now: float) -> None:
        """Drop the buckets that are full by now (they hold no state), else the fullest half."""
        full = [
            k
            for k, (t, at) in self._buckets.items()
            if t + (now - at) * self._rate >= self._capacity
        ]
        if not full:
            ranked = sorted(self._buckets, key=lambda k: self._buckets[k][0], reverse=True)
            full = ranked[: max(1, len(ranked) // 2)]
        for key in full:
            del self._buckets[key]
