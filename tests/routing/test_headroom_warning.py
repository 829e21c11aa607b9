"""``routing.quota.warnAt``: one notification per usage window and reset, through the real
manager, its de-duplication and the alert history, delivered to a webhook on 127.0.0.1."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from ado.config.schema import AdoConfig
from ado.notifications import NotificationManager
from ado.orchestrator.task import AttemptInfo, TaskUpdate
from ado.providers.events import AgentEvent, EventKind
from ado.providers.quota import window_event
from ado.store import Store
from ado.vocab import QuotaStatus, QuotaWindow
from tests.notifications.conftest import Receiver

ATTEMPT = AttemptInfo(1, 1, "claude-code", "subscription", None, "priority 1")


def config(url: str, **quota: Any) -> AdoConfig:
    return AdoConfig.model_validate(
        {
            "routing": {"quota": quota},
            "notifications": {
                "delivery": {"timeout": 2, "retries": 1, "backoff": 0.05},
                "channels": {"webhook": {"enabled": True, "url": url}},
            },
        }
    )


def window(
    used: float | None,
    resets_at: datetime,
    kind: QuotaWindow = QuotaWindow.FIVE_HOUR,
    status: QuotaStatus = QuotaStatus.ALLOWED,
) -> AgentEvent:
    return window_event(kind, status, used_ratio=used, resets_at=resets_at, window_minutes=300)


def claude_warning(resets_at: datetime) -> AgentEvent:
    """claude's own warning, which follows its reading of the same window."""
    return AgentEvent(
        EventKind.RATE_LIMIT,
        text="five_hour limit allowed_warning",
        reset_at=resets_at,
        retrying=False,
        data={"status": "allowed_warning", "rateLimitType": "five_hour", "utilization": 0.82},
    )


def at(when: datetime) -> str:
    """The reset as the warning reads it: the date too when it is not today."""
    today = when.date() == datetime.now(UTC).date()
    return f"{when:%H:%M} UTC" if today else f"{when:%Y-%m-%d %H:%M} UTC"


async def feed(mgr: NotificationManager, *events: AgentEvent, task_id: int = 7) -> None:
    listener = mgr.listener()
    data = {"number": 1, "provider": "claude-code", "accessMode": "subscription"}
    listener.on_update(
        TaskUpdate(task_id, ATTEMPT, AgentEvent(EventKind.ATTEMPT_STARTED, data=data))
    )
    for event in events:
        listener.on_update(TaskUpdate(task_id, ATTEMPT, event))


def warnings(receiver: Receiver) -> list[dict[str, Any]]:
    got = [json.loads(r.body) for r in receiver.at("/hook")]
    return [g for g in got if g["event"] == "rate_limit.warning"]


async def test_one_warning_per_window_and_reset(store: Store) -> None:
    reset = (datetime.now(UTC) + timedelta(hours=2)).replace(second=0, microsecond=0)
    later = reset + timedelta(hours=5)
    with Receiver() as receiver:
        url = receiver.url("/hook")
        for task_id in (7, 8):  # two processes sharing the store see the same readings
            mgr = NotificationManager.from_config(config(url), store)
            await feed(
                mgr,
                window(0.7, reset),  # below warnAt: nothing
                window(0.82, reset),  # crosses warnAt: the warning
                claude_warning(reset),  # the agent's own warning of the same reading: not again
                window(0.9, reset),  # the same window and reset: not again
                window(0.85, reset + timedelta(days=5), QuotaWindow.WEEKLY),  # another window
                window(0.81, later),  # the next 5-hour window: warned again
                window(None, later, status=QuotaStatus.WARNING),  # no figure: warnAt can't say
                window(1.0, later, QuotaWindow.WEEKLY_OPUS, QuotaStatus.REJECTED),  # a limit
                task_id=task_id,
            )
            await mgr.aclose()
        got = warnings(receiver)
    assert [g["title"] for g in got] == [
        f"claude-code 5-hour window at 82 %, resets {at(reset)}",
        f"claude-code weekly window at 85 %, resets {at(reset + timedelta(days=5))}",
        f"claude-code 5-hour window at 81 %, resets {at(later)}",
    ]
    assert got[0]["metadata"]["window"] == "five_hour"
    assert "stopAt (95%)" in got[0]["message"]


async def test_warn_at_is_the_configured_one(store: Store) -> None:
    reset = datetime.now(UTC) + timedelta(hours=2)
    with Receiver() as receiver:
        mgr = NotificationManager.from_config(config(receiver.url("/hook"), warnAt=0.5), store)
        await feed(mgr, window(0.55, reset))
        await mgr.aclose()
        assert len(warnings(receiver)) == 1


async def test_without_window_figures_the_agent_warning_stays(store: Store) -> None:
    reset = datetime.now(UTC) + timedelta(hours=2)
    with Receiver() as receiver:
        mgr = NotificationManager.from_config(config(receiver.url("/hook")), store)
        await feed(mgr, claude_warning(reset))
        await mgr.aclose()
        got = warnings(receiver)
    assert [g["title"] for g in got] == ["claude-code/subscription is close to its usage limit"]
