"""The one codec between Python values and what the store keeps: times, JSON, booleans.

Every path into the database uses it: the SQLAlchemy models (``UTCDateTime``), the plain-SQL
queries (``SqlConnection.time``/``value``) and the bulk readers (``time_decoder``).

- Times are stored as naive UTC: text ``YYYY-MM-DD HH:MM:SS.ffffff`` on SQLite (what
  SQLAlchemy's ``DateTime`` writes), ``timestamp without time zone`` on PostgreSQL. Every
  time handed out is timezone-aware UTC; a naive time handed in is refused.
- JSON is text on SQLite, ``json`` on PostgreSQL (given as text and cast in the SQL:
  ``json_param``); psycopg decodes it on the way out.
- Booleans are 0/1 on SQLite, ``boolean`` on PostgreSQL.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from datetime import UTC, datetime
from functools import cache
from typing import Any

__all__ = [
    "BOOLS",
    "JSONS",
    "TIMES",
    "decode",
    "encode_json",
    "encode_time",
    "json_param",
    "naive_utc",
    "time_decoder",
    "utcnow",
]

#: Columns holding times, JSON and booleans, across every table.
TIMES = frozenset(
    {
        "created_at",
        "started_at",
        "finished_at",
        "updated_at",
        "until",
        "reset_at",
        "last_used_at",
        "resets_at",
        "parked_until",
        "observed_at",
        "prev_observed_at",
        "heartbeat_at",
        "expires_at",
    }
)
JSONS = frozenset({"options", "files_changed", "data", "value", "queues"})
BOOLS = frozenset({"reset_known"})
#: How SQLAlchemy's SQLite ``DateTime`` writes a time (always with microseconds).
SQLITE_TIME = "%Y-%m-%d %H:%M:%S.%f"


def utcnow() -> datetime:
    return datetime.now(UTC)


def naive_utc(value: datetime) -> datetime:
    """``value`` as naive UTC; a naive ``value`` is refused (its zone is unknown)."""
    if value.tzinfo is None:
        raise ValueError("naive datetime given to the store; use ado.store.codec.utcnow()")
    return value.astimezone(UTC).replace(tzinfo=None)


def encode_time(value: datetime, dialect: str) -> Any:
    """``value`` as the store keeps it: naive UTC (text on SQLite)."""
    naive = naive_utc(value)
    return naive.strftime(SQLITE_TIME) if dialect == "sqlite" else naive


def encode_json(value: Any) -> str:
    """``value`` as JSON text: pydantic-core's encoder (every stored event comes through
    here; it is several times faster than ``json.dumps``, and writes UTF-8 rather than
    ``\\u`` escapes), else ``json.dumps``: for a lone surrogate, which it escapes, and before
    pydantic-core has loaded (``ado run`` writes its task and attempt before the agent's
    spawn, and pydantic-core loads after it)."""
    if "pydantic_core" not in sys.modules:  # `ado run` writing its task: not worth ~20 ms
        return json.dumps(value, separators=(",", ":"))
    from pydantic_core import to_json  # not at import: ``ado status`` reads only

    try:
        return to_json(value).decode()
    except ValueError:
        return json.dumps(value)


def json_param(name: str, dialect: str) -> str:
    """The SQL placeholder for a JSON value given as text by ``encode_json``."""
    return f"CAST(:{name} AS json)" if dialect == "postgresql" else f":{name}"


def decode(column: str, value: Any) -> Any:
    """A stored value of ``column`` as the views hold it."""
    if value is None:
        return None
    if column in TIMES:
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC)
    if column in JSONS:
        return json.loads(value) if isinstance(value, str | bytes) else value
    if column in BOOLS:
        return bool(value)
    return value


@cache
def time_decoder(dialect: str) -> Callable[[Any], datetime]:
    """``decode`` of a non-null time, resolved once per dialect (for pages of rows)."""

    def sqlite_time(value: str) -> datetime:
        return datetime.fromisoformat(value + "+00:00")

    def pg_time(value: datetime) -> datetime:
        return value.replace(tzinfo=UTC)

    return sqlite_time if dialect == "sqlite" else pg_time
