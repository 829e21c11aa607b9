"""API tokens: created once, stored as a SHA-256 hash, looked up per request, revoked.

The token itself (``ado_`` + 32 random bytes, URL-safe base64) is shown once by
``ado tokens create`` and never stored; a request's token is hashed and looked up.
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import NamedTuple

from sqlalchemy import or_, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from ado.errors import NotFoundError, StoreError, UsageError
from ado.store.ids import parse_id
from ado.store.models import ApiToken, utcnow, view_of
from ado.store.sql import SqlConnection

__all__ = ["TOKEN_PREFIX", "TokenMethods", "TokenView", "hash_token"]

TOKEN_PREFIX = "ado_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class TokenView(NamedTuple):
    """A stored token, without the token."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class TokenMethods:
    """The API-token part of ``Store``; it provides the sessions."""

    _read: Callable[[], AbstractContextManager[Session]]
    _write: Callable[[], AbstractContextManager[Session]]
    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    def create_token(self, name: str) -> tuple[TokenView, str]:
        """A new token named ``name``: its view, and the token itself (shown once)."""
        name = name.strip()
        if not name:
            raise UsageError("a token needs a name", hint="ado tokens create NAME")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        row = ApiToken(name=name, token_hash=hash_token(token), created_at=utcnow())
        try:
            with self._write() as session:
                session.add(row)
                session.flush()
                view = _view(row)
        except StoreError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise UsageError(
                    f"a token named {name!r} exists already",
                    hint="choose another name, or revoke it first: ado tokens revoke " + name,
                ) from exc
            raise
        return view, token

    def list_tokens(self) -> list[TokenView]:
        with self._read() as session:
            return [_view(t) for t in session.scalars(select(ApiToken).order_by(ApiToken.id))]

    def revoke_token(self, name_or_id: str) -> TokenView:
        """Revoke the token with this name (or id); it stops working at once."""
        match = [ApiToken.name == name_or_id]
        if (token_id := parse_id(name_or_id)) is not None:
            match.append(ApiToken.id == token_id)
        with self._write() as session:
            row = session.scalars(select(ApiToken).where(or_(*match))).first()
            if row is None:
                raise NotFoundError(
                    f"no API token named {name_or_id!r}", hint="see them with: ado tokens list"
                )
            if row.revoked_at is None:
                row.revoked_at = utcnow()
            session.flush()
            return _view(row)

    def token_id(self, token: str) -> int | None:
        """The id of the valid (not revoked) token ``token``, None if there is none."""
        with self._sql() as sql, sql.transaction(write=False):
            found = sql.rows(
                "SELECT id FROM api_tokens WHERE token_hash = :hash AND revoked_at IS NULL",
                {"hash": hash_token(token)},
            )
        return int(found[0][0]) if found else None

    def touch_token(self, token_id: int, when: datetime) -> None:
        """Record that the token was used at ``when``."""
        with self._write() as session:
            session.execute(
                update(ApiToken).where(ApiToken.id == token_id).values(last_used_at=when)
            )


def _view(row: ApiToken) -> TokenView:
    return view_of(TokenView, row)
