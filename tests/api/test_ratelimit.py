"""Per-client token buckets: headers on every /api response, 429 with Retry-After."""

from __future__ import annotations

from typing import Any

from ado.api import RateLimit
from ado.api.ratelimit import RateLimiter


def test_headers_and_429(make_client: Any) -> None:
    client = make_client(rate_limit=RateLimit(per_minute=3))
    remaining = []
    for _ in range(3):
        response = client.get("/api/tasks")
        assert response.status_code == 200
        assert response.headers["x-ratelimit-limit"] == "3"
        remaining.append(int(response.headers["x-ratelimit-remaining"]))
        assert int(response.headers["x-ratelimit-reset"]) >= 1
    assert remaining == [2, 1, 0]
    refused = client.get("/api/tasks")
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert refused.json()["error"]["code"] == "rate_limited"
    assert client.get("/health").status_code == 200  # not limited, no headers
    assert "x-ratelimit-limit" not in client.get("/health").headers


def test_off(make_client: Any) -> None:
    client = make_client(rate_limit=None)
    assert "x-ratelimit-limit" not in client.get("/api/tasks").headers


def test_bucket_refills_per_client() -> None:
    now = [0.0]
    limiter = RateLimiter(RateLimit(per_minute=60), clock=lambda: now[0])
    assert all(limiter.take("a").allowed for _ in range(60))
    refused = limiter.take("a")
    assert not refused.allowed and refused.retry_after == 1
    assert limiter.take("b").allowed  # another client has its own bucket
    now[0] += 1.0
    assert limiter.take("a").allowed and not limiter.take("a").allowed
    now[0] += 120
    decision = limiter.take("a")
    assert decision.remaining == 59 and decision.reset == 1


def test_buckets_are_bounded() -> None:
    limiter = RateLimiter(RateLimit(per_minute=10, max_clients=100), clock=lambda: 0.0)
    for i in range(1000):
        limiter.take(f"ip:{i}")
    assert len(limiter._buckets) <= 100
