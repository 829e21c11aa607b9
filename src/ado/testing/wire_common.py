"""Helpers shared by the wire modules: ids, SSE framing, rendered responses."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass, field
from typing import Any

from ado.testing.behaviours import Failure


@dataclass(frozen=True)
class Rendered:
    """An HTTP answer ready to send."""

    status: int
    body: bytes
    content_type: str = "application/json"
    headers: dict[str, str] = field(default_factory=dict)


def new_id(prefix: str) -> str:
    return f"{prefix}{uuid.uuid4().hex[:24]}"


def json_body(obj: Any) -> bytes:
    return json.dumps(obj).encode()


def sse(events: list[tuple[str | None, Any]]) -> bytes:
    """Frame ``(event name, data)`` pairs as Server-Sent Events; str data is sent raw."""
    out: list[str] = []
    for name, data in events:
        if name:
            out.append(f"event: {name}\n")
        payload = data if isinstance(data, str) else json.dumps(data)
        out.append(f"data: {payload}\n\n")
    return "".join(out).encode()


def failure_headers(failure: Failure, request_id: str) -> dict[str, str]:
    """``retry-after`` and the ``x-ratelimit-*`` family (plus Anthropic's own) on a 429."""
    headers = {"x-request-id": request_id, "request-id": request_id}
    if failure.retry_after_s is not None:
        retry = failure.retry_after_s
        headers["retry-after"] = str(int(retry)) if float(retry).is_integer() else str(retry)
        headers["retry-after-ms"] = str(int(retry * 1000))
    if failure.rate_limit_headers:
        reset = f"{int(failure.retry_after_s or 60)}s"
        headers |= {
            "x-ratelimit-limit-requests": "50",
            "x-ratelimit-remaining-requests": "0",
            "x-ratelimit-reset-requests": reset,
            "x-ratelimit-limit-tokens": "40000",
            "x-ratelimit-remaining-tokens": "0",
            "x-ratelimit-reset-tokens": reset,
            "anthropic-ratelimit-requests-limit": "50",
            "anthropic-ratelimit-requests-remaining": "0",
            "anthropic-ratelimit-tokens-limit": "40000",
            "anthropic-ratelimit-tokens-remaining": "0",
        }
    return headers
