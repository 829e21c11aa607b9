"""Request reservations: the last request of a provider's window goes to one process only.

Routing reads usage to decide; two processes that both read "one request left" would both
take it. So the chosen pair's request is *reserved* before its agent starts: one write
transaction that takes the pair's lock, counts the pair's usage in each limit's window and
checks its cooldown again, then inserts a ``usage_records`` row of one request — the same
row that is counted by every limit, so the next reservation anywhere sees it. The lock is
PostgreSQL's transaction-scoped advisory lock on the pair (``pg_advisory_xact_lock``, a
key per pair, released at commit), SQLite's database write lock (``BEGIN IMMEDIATE``); in
both, the count runs after the lock is held, never read-then-write.

When the attempt ends, ``writes.record_usage(reservation=...)`` turns the row into the
attempt's usage (tokens and costs filled in); when no agent started after all (a cost check
refused, the agent is not installed), ``release_request`` deletes it.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Protocol

from ado.store.reader import usage_in_transaction
from ado.store.sql import SqlConnection
from ado.store.writes import check_owned

__all__ = ["Counted", "release_request", "reserve_request"]

#: The first key of the advisory locks of reservations (the second: the pair's hash).
_LOCK_SPACE = 0x0AD0


class Counted(Protocol):
    """A limit to check under the lock (``ado.routing.limits.LimitWindow``)."""

    @property
    def since(self) -> datetime: ...
    @property
    def unit(self) -> str: ...  # "requests" or "tokens"
    @property
    def limit(self) -> int: ...


def reserve_request(
    sql: SqlConnection,
    provider: str,
    access_mode: str,
    *,
    limits: Sequence[Counted],
    now: datetime,
    task_id: int | None = None,
) -> int | None:
    """Reserve one request of (provider, access mode): the new usage row's id, or None when,
    counted under the pair's lock, a limit is used up or a cooldown runs. For ``task_id``
    only while it is this process's (``writes.check_owned``: ``TaskDisowned`` otherwise)."""
    params = {"provider": provider, "access_mode": access_mode, "now": sql.time(now)}
    with sql.transaction(write=True):
        if task_id is not None:
            check_owned(sql, task_id)
        if sql.dialect == "postgresql":
            sql.rows(
                "SELECT pg_advisory_xact_lock(:space, hashtext(:pair))",
                {"space": _LOCK_SPACE, "pair": f"{provider}/{access_mode}"},
            )
        cooling = sql.rows(
            "SELECT 1 FROM cooldowns WHERE provider = :provider"
            " AND access_mode = :access_mode AND until > :now",
            params,
        )
        if cooling:
            return None
        for window in limits:
            used = usage_in_transaction(sql, provider, access_mode, window.since)
            count = used.requests if window.unit == "requests" else used.tokens
            if count >= window.limit:
                return None
        ((new_id,),) = sql.rows(
            "INSERT INTO usage_records (provider, access_mode, task_id, requests, input_tokens,"
            " output_tokens, cache_read_tokens, cache_write_tokens, cost_usd, api_cost_usd,"
            " created_at) VALUES (:provider, :access_mode, :task_id, 1, 0, 0, 0, 0, 0, 0, :now)"
            " RETURNING id",
            {**params, "task_id": task_id},
        )
    return int(new_id)


def release_request(sql: SqlConnection, reservation: int) -> None:
    """Give a reserved request back: no agent ran on it."""
    with sql.transaction(write=True):
        sql.execute("DELETE FROM usage_records WHERE id = :id", {"id": reservation})
