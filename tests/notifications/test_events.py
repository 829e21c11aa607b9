"""The listener's mapping from TaskUpdate to notifications, event by event."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from ado.notifications import Notification, NotificationManager
from ado.orchestrator.task import AttemptInfo, TaskUpdate
from ado.providers.events import AgentEvent, EventKind

from .helpers import settings


class Recording(NotificationManager):
    def __init__(self) -> None:
        super().__init__(
            settings(
                publicUrl="https://ado.example.com",
                channels={"webhook": {"enabled": True, "url": "http://127.0.0.1:9/"}},
            )
        )
        self.sent: list[Notification] = []

    def notify(self, notification: Notification, channels: Any = None) -> bool:
        self.sent.append(notification)
        return True


ATTEMPT = AttemptInfo(1, 1, "claude-code", "subscription", None, "priority 1")


def feed(manager: Recording, *events: tuple[AttemptInfo | None, AgentEvent]) -> list[str]:
    listener = manager.listener()
    for attempt, event in events:
        listener.on_update(TaskUpdate(7, attempt, event))
    return [str(n.event) for n in manager.sent]


def started() -> tuple[AttemptInfo, AgentEvent]:
    data = {"number": 1, "provider": "claude-code", "accessMode": "subscription"}
    return ATTEMPT, AgentEvent(EventKind.ATTEMPT_STARTED, text="priority 1", data=data)


def finished(status: str, code: int, text: str = "") -> tuple[None, AgentEvent]:
    data = {"status": status, "exitCode": code}
    return None, AgentEvent(EventKind.TASK_FINISHED, text=text, data=data)


def test_rate_limit_warning_from_the_agent() -> None:
    mgr = Recording()
    reset = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    warning = AgentEvent(
        EventKind.RATE_LIMIT,
        text="five_hour limit allowed_warning",
        reset_at=reset,
        retrying=False,
        data={"status": "allowed_warning", "utilization": 0.92},
    )
    assert feed(mgr, started(), (ATTEMPT, warning)) == ["task.started", "rate_limit.warning"]
    note = mgr.sent[1]
    assert note.metadata["reset_at"] == reset and "92% used" in note.message
    assert note.dedupe_key == "rate_limit.warning:claude-code"
    assert note.url == "https://ado.example.com/tasks/7"


def test_provider_not_installed_or_logged_out() -> None:
    for outcome in ("not_installed", "auth_missing"):
        mgr = Recording()
        end = AgentEvent(
            EventKind.ATTEMPT_FINISHED, text="claude: no login", data={"outcome": outcome}
        )
        assert feed(mgr, started(), (ATTEMPT, end), finished("failed", 1))[1] == "provider.failure"
        assert mgr.sent[1].dedupe_key == f"provider.failure:claude-code:{outcome}"


def test_a_provider_crashing_repeatedly() -> None:
    mgr = Recording()
    crash = AgentEvent(EventKind.ATTEMPT_FINISHED, text="segfault", data={"outcome": "crashed"})
    events = feed(mgr, started(), (ATTEMPT, crash), (ATTEMPT, crash))
    assert events == ["task.started", "provider.failure"]
    assert "crashed 2 times" in mgr.sent[1].title


def test_cost_limits_and_cancellation() -> None:
    daily = "Today's API spend $50.00 has reached the daily limit $50.00"
    mgr = Recording()
    feed(mgr, started(), (None, AgentEvent(EventKind.ERROR, text=daily)), finished("failed", 4))
    assert [str(n.event) for n in mgr.sent] == ["task.started", "cost.daily_limit"]
    mgr = Recording()
    feed(mgr, started(), finished("failed", 4, "Stopped: this attempt has cost $11.00"))
    assert str(mgr.sent[-1].event) == "cost.task_limit"
    mgr = Recording()
    feed(mgr, started(), finished("cancelled", 130, "cancelled by the user"))
    assert str(mgr.sent[-1].event) == "task.cancelled" and mgr.sent[-1].level == "warning"


def test_every_event_is_documented() -> None:
    from pathlib import Path

    from ado.notifications import EVENTS, NotificationEvent

    text = (Path(__file__).parents[2] / "docs" / "notifications.md").read_text(encoding="utf-8")
    assert set(EVENTS) == set(NotificationEvent)
    for event in NotificationEvent:
        assert f"| `{event.value}` |" in text, f"docs/notifications.md lacks {event.value}"


def test_built_in_channels_register_through_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    from ado.notifications import channel_classes

    names = {ep.name for ep in entry_points(group="ado.notifiers")}
    assert {"slack", "email", "webhook"} <= names
    assert {"slack", "email", "webhook"} <= set(channel_classes())


def parked(parks: int, until: datetime) -> tuple[None, AgentEvent]:
    text = f"parked: waiting for claude-code's 5-hour window, resets 14:00 UTC (park {parks})"
    data = {"parked": True, "parks": parks}
    return None, AgentEvent(EventKind.LOG, text=text, reset_at=until, data=data)


def test_a_parked_task_is_told_once_per_park() -> None:
    mgr = Recording()
    until = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    assert feed(mgr, started(), parked(1, until)) == ["task.started", "task.parked"]
    note = mgr.sent[1]
    assert note.title == "Task 7 parked until a reset" and note.level == "warning"
    assert "5-hour window" in note.message
    assert note.metadata["reset_at"] == until and note.metadata["parks"] == 1
    assert note.dedupe_key == "task.parked:7:1"
    feed(mgr, started(), parked(2, until))
    assert mgr.sent[-1].dedupe_key == "task.parked:7:2"  # parked again: told again


def test_what_only_looks_like_a_park_is_not_told() -> None:
    """Adversarial: an agent's own log line whose data says ``parked`` (agent data is the
    agent's), and a task log line without the mark, are not parks."""
    mgr = Recording()
    until = datetime(2026, 11, 25, 14, 0, tzinfo=UTC)
    agent_says = AgentEvent(EventKind.LOG, text="parked: my car", data={"parked": True})
    plain = AgentEvent(EventKind.LOG, text="parked: waiting for a reset", reset_at=until)
    assert feed(mgr, started(), (ATTEMPT, agent_says), (None, plain)) == ["task.started"]


def test_a_task_taken_from_this_process_is_forgotten_unnotified() -> None:
    """``on_task_disowned``: the task went on in another process, which notifies its end;
    here nothing more is sent, not even the limit its run here met."""
    mgr = Recording()
    listener = mgr.listener()
    limited = AgentEvent(EventKind.ATTEMPT_FINISHED, text="429", data={"outcome": "rate_limited"})
    for attempt, event in (started(), (ATTEMPT, limited)):
        listener.on_update(TaskUpdate(7, attempt, event))
    listener.on_task_disowned(7)
    assert [str(n.event) for n in mgr.sent] == ["task.started"]
    again: list[tuple[AttemptInfo | None, AgentEvent]] = [started(), finished("succeeded", 0)]
    for info, ev in again:  # taken back later: a new run, told from its start
        listener.on_update(TaskUpdate(7, info, ev))
    assert [str(n.event) for n in mgr.sent] == ["task.started", "task.started", "task.completed"]
