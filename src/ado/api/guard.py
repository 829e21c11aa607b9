"""The ASGI middleware in front of everything: Host and Origin, API tokens, rate limits.

Pure ASGI (no ``BaseHTTPMiddleware``, which copies every response through a stream), one
pass over the request headers. For every HTTP request and WebSocket handshake:

1. the ``Host`` must be one the server answers to (``ado.api.access``; exactly one Host
   header): else 400 — except ``/health`` and ``/health/ready``, which liveness probes
   reach by any address;
2. a browser's ``Origin`` on a WebSocket handshake or on a write (any method but GET, HEAD,
   OPTIONS) must be the server's own or allowed: else 403;
3. the client is the peer, or the address a trusted proxy forwarded.

Then, for an HTTP request under ``/api`` (and ``/metrics``, ``/health/info`` when tokens are
required and they are not public):

4. when tokens are required, the ``Authorization: Bearer`` token is looked up (in a
   worker thread: it is a database query);
5. the client's bucket is the token's when valid, else the address's (so guessing tokens
   is rate limited too): 429 + ``Retry-After`` when empty;
6. 401 when a token is required and missing or invalid;
7. otherwise the request goes on, and the rate-limit headers are added to its response.

A WebSocket handshake takes one request from its address's bucket (429 when empty); the
``/api/ws`` route checks its ``?token=`` itself. Loopback clients without a token are not
limited when the limit says so (``RateLimit.exempt_loopback``).
"""

from __future__ import annotations

import anyio.to_thread
from pydantic_core import to_json
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ado.api.access import AccessPolicy
from ado.api.auth import TokenChecker, bearer_token
from ado.api.errors import error_body
from ado.api.ratelimit import Decision, RateLimiter
from ado.api.responses import send_json

__all__ = ["ApiGuard"]

_LOOPBACK = frozenset({"127.0.0.1", "::1", "localhost", "::ffff:127.0.0.1"})
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})
#: Open to any Host: what a liveness probe asks, by whatever address it has.
_PROBES = frozenset({"/health", "/health/ready"})
#: Behind the token (when tokens are required) unless ``AccessPolicy.public_metrics``.
_PRIVATE = frozenset({"/metrics", "/health/info"})


class ApiGuard:
    def __init__(
        self,
        app: ASGIApp,
        *,
        tokens: TokenChecker | None,
        limiter: RateLimiter | None,
        access: AccessPolicy | None = None,
    ) -> None:
        self.app = app
        self.tokens = tokens
        self.limiter = limiter
        self.access = access or AccessPolicy()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind != "http" and kind != "websocket":
            await self.app(scope, receive, send)
            return
        host: bytes | None = None
        origin: bytes | None = None
        authorization: bytes | None = None
        forwarded: bytes | None = None
        host_count = 0
        for name, value in scope["headers"]:
            if name == b"host":
                host = value
                host_count += 1
            elif name == b"origin":
                origin = value
            elif name == b"authorization":
                authorization = value
            elif name == b"x-forwarded-for":
                forwarded = value if forwarded is None else forwarded + b"," + value
        access = self.access
        path: str = scope["path"]
        if access.check_hosts and path not in _PROBES:
            if host_count != 1 or host is None or not access.host_allowed(host):
                await self._refuse_host(scope, send, host, host_count)
                return
        if (
            origin is not None
            and (kind == "websocket" or scope["method"] not in _SAFE_METHODS)
            and not access.origin_allowed(origin, host)
        ):
            shown = origin.decode("latin-1")[:200]
            await _reject(
                scope,
                send,
                403,
                "origin_not_allowed",
                f"pages of {shown} may not use this server: add the origin to "
                "server.allowedOrigins if it is yours",
                None,
            )
            return
        client = scope.get("client")
        peer: str = client[0] if client else "unknown"
        address = access.client(peer, forwarded) if forwarded is not None else peer
        if address != peer:
            scope["client"] = (address, 0)
        if kind == "websocket":
            await self._websocket(scope, receive, send, address)
            return
        if not (
            path.startswith("/api")
            or (self.tokens is not None and not access.public_metrics and path in _PRIVATE)
        ):
            await self.app(scope, receive, send)
            return
        token_id: int | None = None
        if self.tokens is not None:
            token = bearer_token(authorization.decode("latin-1") if authorization else None)
            if token:
                token_id = await anyio.to_thread.run_sync(self.tokens.token_id, token)
            scope.setdefault("state", {})["token_id"] = token_id
        decision: Decision | None = None
        limiter = self.limiter
        if limiter is not None and not (
            token_id is None and limiter.limit.exempt_loopback and address in _LOOPBACK
        ):
            decision = limiter.take(f"token:{token_id}" if token_id else f"ip:{address}")
        if decision is not None and not decision.allowed:
            await _reject(
                scope,
                send,
                429,
                "rate_limited",
                f"too many requests; retry in {decision.retry_after} s",
                decision,
            )
            return
        if self.tokens is not None and token_id is None:
            await _reject(
                scope,
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

    async def _websocket(self, scope: Scope, receive: Receive, send: Send, address: str) -> None:
        """A handshake takes one request from the address's bucket (tokens come later)."""
        limiter = self.limiter
        if limiter is not None and not (limiter.limit.exempt_loopback and address in _LOOPBACK):
            decision = limiter.take(f"ip:{address}")
            if not decision.allowed:
                await _reject(
                    scope,
                    send,
                    429,
                    "rate_limited",
                    f"too many connection attempts; retry in {decision.retry_after} s",
                    decision,
                )
                return
        await self.app(scope, receive, send)

    async def _refuse_host(self, scope: Scope, send: Send, host: bytes | None, count: int) -> None:
        if count > 1:
            message = "more than one Host header"
        elif host is None:
            message = "the request has no Host header"
        else:
            shown = host.decode("latin-1")[:200]
            message = (
                f"this server does not answer to the host {shown!r}: reach it by its own "
                "address, or add the name to server.allowedHosts"
            )
        await _reject(scope, send, 400, "host_not_allowed", message, None)


async def _reject(
    scope: Scope,
    send: Send,
    status: int,
    code: str,
    message: str,
    decision: Decision | None,
    extra: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = to_json(error_body(code, message))
    headers = [*(decision.headers() if decision else ()), *(extra or ())]
    if scope["type"] == "http":
        await send_json(send, status, body, headers)
        return
    # A WebSocket handshake refused before it is accepted: an HTTP answer where the server
    # supports it (uvicorn does), else a close, which the server turns into a 403.
    if "websocket.http.response" not in scope.get("extensions", {}):
        await send({"type": "websocket.close", "code": 1008})
        return
    await send(
        {
            "type": "websocket.http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
                *headers,
            ],
        }
    )
    await send({"type": "websocket.http.response.body", "body": body})
