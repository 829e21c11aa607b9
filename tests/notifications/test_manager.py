"""The manager: concurrent delivery, retries, Retry-After, throttling, rules, the history."""

from __future__ import annotations

import json
import logging
import time

import pytest

from ado.notifications import Level, NotificationEvent
from ado.store import Store

from .conftest import Receiver, Reply
from .helpers import manager, note


def webhook(url: str, **extra: object) -> dict[str, object]:
    return {"enabled": True, "url": url, **extra}


async def test_a_failing_channel_is_retried_while_the_others_deliver(
    receiver: Receiver, closed_port: int, store: Store
) -> None:
    slack = receiver.script("/slack", Reply(500, "oops"), Reply(500, "oops"), Reply(200))
    hook = receiver.url("/hook")
    mgr = manager(
        store,
        channels={
            "slack": {"enabled": True, "webhookUrl": slack},
            "webhook": webhook(hook),
            "email": {"enabled": True, "smtpHost": "127.0.0.1", "smtpPort": closed_port,
                      "security": "none", "from": "a@b.c", "to": ["d@e.f"]},
        },
    )  # fmt: skip
    assert mgr.notify(note(title="retry me"))
    assert await mgr.aclose(grace=20)

    assert len(receiver.at("/slack")) == 3  # 500, 500, then delivered
    assert len(receiver.at("/hook")) == 1
    alerts = {a.channel: a for a in store.list_alerts()[0]}
    assert alerts["slack"].status == "delivered" and alerts["slack"].attempts == 3
    assert alerts["webhook"].status == "delivered" and alerts["webhook"].attempts == 1
    assert alerts["email"].status == "failed" and alerts["email"].attempts == 3
    assert alerts["email"].error is not None and alerts["email"].error.startswith("refused")


async def test_a_hanging_channel_does_not_delay_the_others(receiver: Receiver) -> None:
    hang = receiver.script("/hang", Reply(hang=True))
    mgr = manager(
        delivery={"timeout": 1, "retries": 1},
        channels={"slack": {"enabled": True, "webhookUrl": hang}, "webhook": webhook(
            receiver.url("/hook"))},
    )  # fmt: skip
    started = time.monotonic()
    mgr.notify(note())
    await mgr.flush(grace=0.9)  # the hanging channel is still on its first attempt
    assert receiver.at("/hook"), "the webhook waited for the hanging Slack"
    assert time.monotonic() - started < 1
    results = await mgr.deliver(note(title="direct"), ["slack"], retries=1)
    assert results["slack"].error is not None
    assert results["slack"].error.reason.value == "timeout"
    assert results["slack"].attempts == 2
    await mgr.aclose(grace=10)


async def test_notify_returns_at_once(receiver: Receiver) -> None:
    url = receiver.script("/hang", Reply(hang=True))
    mgr = manager(channels={"webhook": webhook(url)}, delivery={"timeout": 1, "retries": 0})
    started = time.monotonic()
    for i in range(50):
        mgr.notify(note(title=f"n{i}"))
    assert time.monotonic() - started < 0.2
    assert not await mgr.aclose(grace=0.2)  # bounded: gives up rather than hang


async def test_429_waits_for_retry_after(receiver: Receiver) -> None:
    url = receiver.script("/hook", Reply(429, "slow down", {"Retry-After": "1"}), Reply(200))
    mgr = manager(channels={"webhook": webhook(url)})
    result = await mgr.deliver(note(), ["webhook"])
    assert result["webhook"].delivered and result["webhook"].attempts == 2
    first, second = receiver.at("/hook")
    assert second.at - first.at >= 0.95  # Retry-After: 1, over the 0.05 s back-off


async def test_no_retry_on_400(receiver: Receiver) -> None:
    url = receiver.script("/hook", Reply(400, "invalid_payload"))
    mgr = manager(channels={"webhook": webhook(url)})
    result = await mgr.deliver(note(), ["webhook"])
    error = result["webhook"].error
    assert error is not None and error.status_code == 400
    assert "invalid_payload" in str(error)
    assert result["webhook"].attempts == 1
    assert len(receiver.at("/hook")) == 1


async def test_rules_route_events_and_levels(receiver: Receiver) -> None:
    mgr = manager(
        channels={
            "slack": {"enabled": True, "webhookUrl": receiver.url("/slack")},
            "webhook": webhook(receiver.url("/hook")),
        },
        rules=[
            {"events": ["task.*"], "channels": ["slack"], "minLevel": "warning"},
            {"events": ["rate_limit.reached"], "channels": ["webhook"]},
        ],
    )
    assert mgr.targets(note("task.completed", level=Level.SUCCESS)) == []
    assert mgr.targets(note("task.failed", level=Level.ERROR)) == ["slack"]
    assert mgr.targets(note("rate_limit.reached", level=Level.WARNING)) == ["webhook"]
    assert mgr.targets(note("custom"), ["webhook"]) == ["webhook"]  # named: rules skipped


async def test_same_rate_limit_is_announced_once(receiver: Receiver, store: Store) -> None:
    url = receiver.url("/hook")
    for _ in range(2):  # two managers: two `ado run` processes sharing the store
        mgr = manager(store, channels={"webhook": webhook(url)})
        for _ in range(2):
            n = note("rate_limit.reached", title="cursor-agent/subscription hit its rate limit")
            n.dedupe_key, n.dedupe_window = "rate_limit.reached:cursor-agent:-", 3600
            mgr.notify(n)
        await mgr.aclose()
    assert len(receiver.at("/hook")) == 1
    statuses = sorted(a.status for a in store.list_alerts()[0])
    assert statuses == ["delivered", "throttled", "throttled", "throttled"]


async def test_a_burst_of_failures_is_summarised(receiver: Receiver) -> None:
    url = receiver.url("/hook")
    mgr = manager(channels={"webhook": webhook(url)}, throttle={"failureBurst": 2})
    for i in range(5):
        mgr.notify(note("task.failed", title=f"Task {i} failed", level=Level.ERROR, task_id=i))
    await mgr.aclose()
    events = [json.loads(r.body) for r in receiver.at("/hook")]
    assert [e["title"] for e in events] == ["Task 0 failed", "Task 1 failed", "3 more tasks failed"]
    summary = events[-1]
    assert summary["event"] == NotificationEvent.TASK_FAILURES
    assert summary["metadata"] == {"count": 3, "task_ids": [2, 3, 4]}


async def test_secrets_are_never_logged(
    receiver: Receiver, closed_port: int, caplog: pytest.LogCaptureFixture, store: Store
) -> None:
    caplog.set_level(logging.DEBUG)
    slack_url = f"http://127.0.0.1:{closed_port}/services/T0/B0/SLACK-SECRET-TOKEN"
    mgr = manager(
        store,
        delivery={"retries": 1},
        channels={
            "slack": {"enabled": True, "webhookUrl": slack_url},
            "webhook": webhook(receiver.script("/hook", Reply(500, "no")), secret="HMAC-SECRET"),
        },
    )
    mgr.notify(note())
    await mgr.aclose()
    assert "slack" in caplog.text and "retrying" in caplog.text
    for secret in ("SLACK-SECRET-TOKEN", "HMAC-SECRET"):
        assert secret not in caplog.text
        assert all(secret not in (a.error or "") for a in store.list_alerts()[0])


async def test_nothing_enabled_sends_nothing() -> None:
    mgr = manager()
    assert not mgr.active
    assert not mgr.notify(note())
    assert await mgr.aclose()
