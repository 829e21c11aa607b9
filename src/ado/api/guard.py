"""The ASGI middleware in front of ``/api``: API tokens, then the per-client rate limit.

Pure ASGI (no ``BaseHTTPMiddleware``, which copies every response through a stream). For an
HTTP request under ``/api``:

1. when tokens are required, the ``Authorization: Bearer`` token is looked up (in a
   worker thread: it is a database query);
2. the client's bucket is the token's when valid, else the IP's (so guessing tokens is
   rate limited too): 429 + ``Retry-After`` when empty;
3. 401 when a token is required and missing or invalid;
4. otherwise the request goes on, and the rate-limit headers are added to its response.

``/health*``, the dashboard's static files and WebSockets (the ``/api/ws`` route checks
its ``?token=`` itself) pass through untouched.
"""

from __future__ import annotations

import anyio.to_thread
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ado.api.auth import TokenChecker, bearer_token
from ado.api.errors import error_body
from ado.api.ratelimit import Decision, RateLimiter
from ado.api.responses import header, send_json

__all__ = ["ApiGuard"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost"})


class ApiGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenChecker | None,
        limiter: RateLimiter | None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not scope["path"].startswith("/api"):
            await self.app(scope, receive, send)
            return
        token_id: int | None = None
        if self.tokens is not None:
            token = bearer_token(header(scope, b"authorization"))
            if token:
                token_id = await anyio.to_thread.run_sync(self.tokens.token_id, token)
            scope.setdefault("state", {})["token_id"] = token_id
        decision: Decision | None = None
        if self.limiter is not None:
            client = scope.get("client")
            host = client[0] if client else "unknown"
            if not (token_id is None and self.limiter.limit.exempt_loopback and host in _LOOPBACK):
                decision = self.limiter.take(f"token:{token_id}" if token_id else f"ip:{host}")
        if decision is not None and not decision.allowed:
            await _reject(
                send,
                429,
                "rate_limited",
                f"too many requests; retry in {decision.retry_after} s",
                decision,
            )
            return
        if self.tokens is not None and token_id is None:
            await _reject(
                send,
                401,
                "unauthorized",
                "a valid API token is required: send 'Authorization: Bearer <token>' "
                "(create one with: ado tokens create NAME)",
                decision,
                extra=[(b"www-authenticate", b"Bearer")],
            )
            return
        if decision is None:
            await self.app(scope, receive, send)
            return
        headers = decision.headers()

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", ()), *headers]
            await send(message)

        await self.app(scope, receive, send_with_headers)


async def _reject(
    send: Send,
    status: int,
    code: str,
    message: str,
    decision: Decision | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = to_json(error_body(code, message))
    await send_json(send, status, body, [*(decision.headers() if decision else ()), *(extra or ())])
