"""API tokens: when the server requires them, every ``/api`` request must carry one.

``ado serve`` requires tokens when bound to anything but loopback. A request presents one as
``Authorization: Bearer <token>``; the WebSocket, which browsers cannot give headers, as
``?token=<token>`` (its route calls ``verify_token``). Tokens are created with
``ado tokens create NAME`` and stored hashed (``ado.store.tokens``).
"""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ado.store import Store

__all__ = ["TokenChecker", "bearer_token", "verify_token"]

#: ``last_used_at`` is written at most this often per token (seconds).
TOUCH_INTERVAL = 60.0


class TokenChecker:
    """Looks tokens up in the store; records their use at most once a minute each."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self._touched: dict[int, float] = {}
        self._lock = threading.Lock()

    def token_id(self, token: str) -> int | None:
        """The id of the valid token ``token`` (None: unknown or revoked). Blocking."""
        if not token:
            return None
        found = self.store.token_id(token)
        if found is not None:
            now = time.monotonic()
            with self._lock:
                due = now - self._touched.get(found, -TOUCH_INTERVAL) >= TOUCH_INTERVAL
                if due:
                    self._touched[found] = now
            if due:
                self.store.touch_token(found, datetime.now(UTC))
        return found


_checkers: dict[int, TokenChecker] = {}


def verify_token(store: Store, token: str | None) -> bool:
    """True when ``token`` is a valid, unrevoked API token. Blocking: call it in a thread."""
    if not token:
        return False
    checker = _checkers.get(id(store))
    if checker is None or checker.store is not store:
        checker = _checkers[id(store)] = TokenChecker(store)
    return checker.token_id(token) is not None


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header value."""
    if not authorization:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return token.strip() or None
