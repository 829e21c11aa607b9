"""A reading of a usage window written to the quota ledger, relative to now."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ado.store import QuotaWindowView
from ado.store.methods import SqlMethods


def record_reading(
    store: SqlMethods,
    provider: str,
    kind: str,
    used: float | None,
    *,
    status: str = "allowed",
    resets_in: timedelta | None,
    ago: timedelta = timedelta(minutes=1),
    minutes: int | None = 300,
) -> None:
    """Record an agent's reading of ``provider``'s ``kind`` window, observed ``ago``, whose
    window resets ``resets_in`` from now (None: no reset reported; negative: it has reset)."""
    now = datetime.now(UTC)
    store.record_quota(
        QuotaWindowView(
            provider=provider,
            kind=kind,
            status=status,
            source="agent",
            used_ratio=used,
            resets_at=None if resets_in is None else now + resets_in,
            window_minutes=minutes,
            observed_at=now - ago,
        )
    )
