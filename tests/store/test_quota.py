"""The quota ledger's table: the latest reading per (provider, window), on both databases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ado.store import QuotaWindowView, Store

NOW = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)
RESET = NOW + timedelta(hours=2)


def reading(
    provider: str = "claude-code",
    kind: str = "five_hour",
    *,
    used: float | None = 0.5,
    at: datetime = NOW,
    resets_at: datetime | None = RESET,
    status: str = "allowed",
) -> QuotaWindowView:
    return QuotaWindowView(
        provider=provider,
        kind=kind,
        status=status,
        source="agent",
        used_ratio=used,
        resets_at=resets_at,
        window_minutes=300,
        observed_at=at,
    )


def test_latest_reading_per_window_with_the_one_before(store: Store) -> None:
    assert store.quota_windows() == []
    store.record_quota(reading(used=0.5))
    store.record_quota(reading(used=0.6, at=NOW + timedelta(minutes=10)))
    store.record_quota(reading(kind="weekly", used=0.2, resets_at=NOW + timedelta(days=3)))
    store.record_quota(reading("claude-work", used=0.1))
    rows = store.quota_windows()
    assert [(r.provider, r.kind, r.used_ratio) for r in rows] == [
        ("claude-code", "five_hour", 0.6),
        ("claude-code", "weekly", 0.2),
        ("claude-work", "five_hour", 0.1),
    ]
    five = rows[0]
    assert five.observed_at == NOW + timedelta(minutes=10) and five.resets_at == RESET
    assert (five.prev_used_ratio, five.prev_observed_at) == (0.5, NOW)
    assert rows[1].prev_used_ratio is None
    assert [r.kind for r in store.quota_windows("claude-work")] == ["five_hour"]


def test_a_new_window_forgets_the_old_ones_reading(store: Store) -> None:
    store.record_quota(reading(used=0.9))
    # the window reset: a reading with another reset time is not the burn rate's other point
    store.record_quota(
        reading(used=0.05, at=NOW + timedelta(hours=3), resets_at=RESET + timedelta(hours=5))
    )
    (row,) = store.quota_windows()
    assert row.used_ratio == 0.05 and row.prev_used_ratio is None and row.prev_observed_at is None
    # a reading without utilization (claude's plain "allowed") is kept, and is no rate point
    store.record_quota(
        reading(
            used=None,
            at=NOW + timedelta(hours=4),
            resets_at=RESET + timedelta(hours=5),
            status="rejected",
        )
    )
    store.record_quota(
        reading(
            used=0.2, at=NOW + timedelta(hours=4, minutes=5), resets_at=RESET + timedelta(hours=5)
        )
    )
    (row,) = store.quota_windows()
    assert row.used_ratio == 0.2 and row.prev_used_ratio is None


def test_an_older_reading_arriving_late_is_not_kept(store: Store) -> None:
    store.record_quota(reading(used=0.6, at=NOW))
    store.record_quota(reading(used=0.5, at=NOW - timedelta(minutes=5)))
    (row,) = store.quota_windows()
    assert row.used_ratio == 0.6 and row.observed_at == NOW and row.prev_used_ratio is None
