"""The alert history in the store, on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ado.store import Store


def test_record_update_and_page_through_alerts(store: Store) -> None:
    task_id = store.create_task(prompt="p", cwd="/", hitl_policy="autonomous", options={})
    ids = [
        store.record_alert(
            event="task.failed",
            channel="slack",
            status="retrying",
            title=f"Task {i} failed",
            level="error",
            task_id=task_id,
            error="http: HTTP 500",
            attempts=1,
            details={"task_id": task_id},
        )
        for i in range(5)
    ]
    store.update_alert(ids[-1], status="delivered", attempts=2)
    page, cursor = store.list_alerts(limit=2)
    assert [a.id for a in page] == [ids[4], ids[3]]
    assert page[0].status == "delivered" and page[0].attempts == 2 and page[0].error is None
    assert page[0].delivered_at is not None and page[0].task_id == task_id
    assert page[1].status == "retrying" and page[1].error == "http: HTTP 500"
    assert cursor is not None
    page2, cursor2 = store.list_alerts(limit=2, cursor=cursor)
    page3, cursor3 = store.list_alerts(limit=2, cursor=cursor2)
    assert [a.id for a in page2 + page3] == [ids[2], ids[1], ids[0]]
    assert cursor3 is None


def test_alert_for_an_unknown_task_is_kept(store: Store) -> None:
    alert_id = store.record_alert(
        event="custom", channel="webhook", status="failed", title="t", task_id=999
    )
    [alert] = store.list_alerts()[0]
    assert alert.id == alert_id and alert.task_id is None


def test_dedupe_lookup_ignores_throttled_rows(store: Store) -> None:
    since = datetime.now(UTC) - timedelta(minutes=1)
    store.record_alert(event="e", channel="*", status="throttled", title="t", dedupe_key="k")
    assert not store.alert_sent_since("k", since)
    store.record_alert(event="e", channel="slack", status="delivered", title="t", dedupe_key="k")
    assert store.alert_sent_since("k", since)
    assert not store.alert_sent_since("k", datetime.now(UTC) + timedelta(seconds=1))


def test_bad_status_and_cursor_are_refused(store: Store) -> None:
    with pytest.raises(ValueError, match="alert status"):
        store.record_alert(event="e", channel="c", status="sent", title="t")
    with pytest.raises(ValueError, match="cursor"):
        store.list_alerts(cursor="abc")
