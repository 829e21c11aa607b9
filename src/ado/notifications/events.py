"""From the runner's ``TaskUpdate`` stream to notifications.

``NotificationListener`` is a runner hook (``ado.orchestrator.hooks``; the composition root,
``ado.orchestrator.compose``, adds it): it keeps a little state per task and hands
notifications to the manager, which queues them and returns at once.

    attempt 1 started                    → task.started
    a usage window at routing.quota.warnAt → rate_limit.warning  (once per provider, window
                                                                    and reset)
    agent reports it is near its limit   → rate_limit.warning      (once per provider, window;
                                           only when the agent reports no window figures)
    attempt ended rate limited / quota   → rate_limit.reached      (once per provider, reset)
                                           sent when the next attempt starts (its failover
                                           target) or the task ends (no failover)
    attempt ended not installed / auth   → provider.failure        (once per provider, window)
    attempts of a provider crash twice   → provider.failure        ("crashing repeatedly")
    every provider limited, task parked  → task.parked             (what it waits for, until
                                                                    when; once per park)
    task finished: succeeded             → task.completed
                   cancelled             → task.cancelled
                   exit 3                → providers.exhausted     (earliest reset)
                   exit 4                → cost.daily_limit | cost.task_limit
                   otherwise failed      → task.failed
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from ado.notifications.message import Level, Notification, NotificationEvent
from ado.orchestrator.hooks import RunnerHooks
from ado.providers.events import EventKind
from ado.vocab import OutcomeKind, QuotaStatus

if TYPE_CHECKING:
    from ado.notifications.manager import NotificationManager
    from ado.orchestrator.task import TaskUpdate
    from ado.providers.events import AgentEvent

__all__ = ["NotificationListener"]

#: Crashes of one provider within ``throttle.failureWindow`` that make a provider.failure.
CRASHES_FOR_FAILURE = 2
_EARLIEST_RESET = re.compile(r"earliest reset is (\d{4}-\d\d-\d\d \d\d:\d\d) UTC")
_LIMITS = (OutcomeKind.RATE_LIMITED, OutcomeKind.QUOTA_EXHAUSTED)
_PROVIDER_FAILURES = {
    "not_installed": "is not installed",
    "auth_missing": "is not logged in (authentication missing)",
}


@dataclass(slots=True)
class _Limit:
    pair: str
    provider: str
    outcome: str
    message: str
    reset_at: datetime | None


@dataclass(slots=True)
class _TaskState:
    started: float = field(default_factory=time.monotonic)
    pair: str | None = None
    provider: str | None = None
    cost_usd: float = 0.0
    api_cost_usd: float = 0.0
    attempts: int = 0
    error: str | None = None
    limit: _Limit | None = None
    #: Providers whose usage windows this task has readings of: ``warnAt`` decides for them.
    measured: set[str] = field(default_factory=set)


class NotificationListener(RunnerHooks):
    def __init__(self, manager: NotificationManager) -> None:
        self.manager = manager
        self.settings = manager.settings
        self._tasks: dict[int, _TaskState] = {}
        self._crashes: dict[str, list[float]] = {}

    def on_update(self, update: TaskUpdate) -> None:
        """The runner hook; never raises, never blocks."""
        if not self.manager.active:
            return
        try:
            self._handle(update)
        except Exception:  # a notification bug must never fail the task
            import logging

            logging.getLogger("ado.notifications").exception("notification listener failed")

    def on_task_disowned(self, task_id: int) -> None:
        """The task went on in another process, which notifies what becomes of it."""
        self._tasks.pop(task_id, None)

    # -- the mapping ------------------------------------------------------------------------

    def _handle(self, update: TaskUpdate) -> None:
        ev, task_id = update.event, update.task_id
        state = self._tasks.setdefault(task_id, _TaskState())
        kind = ev.kind
        if kind is EventKind.ATTEMPT_STARTED:
            provider, mode = ev.data.get("provider"), ev.data.get("accessMode")
            pair = f"{provider}/{mode}"
            state.attempts = int(ev.data.get("number") or state.attempts + 1)
            if state.limit is not None:
                self._limit_reached(task_id, state, failed_over_to=pair)
            state.pair, state.provider = pair, str(provider)
            if state.attempts == 1:
                self._send(
                    task_id,
                    NotificationEvent.TASK_STARTED,
                    Level.INFO,
                    f"Task {task_id} started on {pair}",
                    ev.text or "",
                    state,
                )
        elif kind is EventKind.QUOTA and update.attempt is not None:
            self._quota_warning(task_id, state, update.attempt.provider, ev)
        elif kind is EventKind.RATE_LIMIT and update.attempt is not None:
            measured = update.attempt.provider in state.measured
            if not ev.retrying and ev.data.get("status") != "rejected" and not measured:
                self._limit_warning(task_id, state, ev.text or "", ev.reset_at, ev.data)
        elif kind is EventKind.ATTEMPT_FINISHED and update.attempt is not None:
            self._attempt_finished(task_id, state, update)
        elif kind is EventKind.ERROR and update.attempt is None:
            state.error = ev.text
        elif kind is EventKind.LOG and update.attempt is None and ev.data.get("parked"):
            self._parked(task_id, state, ev)
        elif kind is EventKind.TASK_FINISHED:
            self._tasks.pop(task_id, None)
            if state.limit is not None:
                self._limit_reached(task_id, state, failed_over_to=None)
            self._task_finished(task_id, state, ev.data, ev.text or "")

    def _attempt_finished(self, task_id: int, state: _TaskState, update: TaskUpdate) -> None:
        ev, attempt = update.event, update.attempt
        assert attempt is not None
        outcome = str(ev.data.get("outcome") or "")
        state.cost_usd += float(ev.data.get("costUsd") or 0.0)
        state.api_cost_usd += float(ev.data.get("apiCostUsd") or 0.0)
        pair = f"{attempt.provider}/{attempt.access_mode}"
        if outcome in _LIMITS:
            state.limit = _Limit(pair, attempt.provider, outcome, ev.text or "", ev.reset_at)
        elif outcome in _PROVIDER_FAILURES:
            self._provider_failure(
                task_id, state, attempt.provider, outcome, _PROVIDER_FAILURES[outcome], ev.text
            )
        elif outcome == "crashed":
            now = time.monotonic()
            window = self.settings.throttle.failure_window
            recent = [t for t in self._crashes.get(attempt.provider, []) if now - t < window]
            recent.append(now)
            self._crashes[attempt.provider] = recent
            if len(recent) >= CRASHES_FOR_FAILURE:
                self._provider_failure(
                    task_id,
                    state,
                    attempt.provider,
                    "crashing",
                    f"crashed {len(recent)} times in {window / 60:.0f} min",
                    ev.text,
                )

    def _task_finished(
        self, task_id: int, state: _TaskState, data: dict[str, Any], text: str
    ) -> None:
        status, exit_code = data.get("status"), data.get("exitCode")
        extra = {"status": status, "exit_code": exit_code}
        on = f" on {state.pair}" if state.pair else ""
        if status == "succeeded":
            self._send(
                task_id,
                NotificationEvent.TASK_COMPLETED,
                Level.SUCCESS,
                f"Task {task_id} succeeded{on}",
                _clip(text) or "done",
                state,
                extra,
            )
        elif status == "cancelled":
            self._send(
                task_id,
                NotificationEvent.TASK_CANCELLED,
                Level.WARNING,
                f"Task {task_id} cancelled",
                _clip(text),
                state,
                extra,
            )
        elif exit_code == 3:
            message = state.error or text
            match = _EARLIEST_RESET.search(message)
            reset = (
                datetime.strptime(match.group(1), "%Y-%m-%d %H:%M").replace(tzinfo=UTC)
                if match
                else None
            )
            self._send(
                task_id,
                NotificationEvent.PROVIDERS_EXHAUSTED,
                Level.ERROR,
                f"No provider can take task {task_id}",
                _clip(message),
                state,
                {**extra, "reset_at": reset},
                dedupe_key=f"providers.exhausted:{reset.isoformat() if reset else '-'}",
            )
        elif exit_code == 4:
            message = state.error or text
            daily = "daily" in message.lower()
            self._send(
                task_id,
                NotificationEvent.COST_DAILY_LIMIT if daily else NotificationEvent.COST_TASK_LIMIT,
                Level.ERROR,
                (
                    f"Daily API cost limit reached (task {task_id})"
                    if daily
                    else f"Task {task_id} went over its cost limit"
                ),
                _clip(message),
                state,
                extra,
            )
        else:
            self._send(
                task_id,
                NotificationEvent.TASK_FAILED,
                Level.ERROR,
                f"Task {task_id} failed{on}",
                _clip(state.error or text) or "failed",
                state,
                extra,
            )

    def _parked(self, task_id: int, state: _TaskState, event: AgentEvent) -> None:
        """The runner parked the task (``ado.routing.parking``): what it waits for, until
        when. Its state is let go: a parked task may resume in another process."""
        parks = event.data.get("parks")
        self._tasks.pop(task_id, None)
        self._send(
            task_id,
            NotificationEvent.TASK_PARKED,
            Level.WARNING,
            f"Task {task_id} parked until a reset",
            _clip(event.text or ""),
            state,
            {"reset_at": event.reset_at, "parks": parks},
            dedupe_key=f"task.parked:{task_id}:{parks}",
        )

    # -- limits and providers -----------------------------------------------------------------

    def _limit_warning(
        self,
        task_id: int,
        state: _TaskState,
        text: str,
        reset_at: datetime | None,
        data: dict[str, Any],
    ) -> None:
        provider = state.provider or "?"
        used = data.get("utilization")
        self._send(
            task_id,
            NotificationEvent.RATE_LIMIT_WARNING,
            Level.WARNING,
            f"{state.pair} is close to its usage limit",
            text + (f" ({float(used) * 100:.0f}% used)" if isinstance(used, int | float) else ""),
            state,
            {"reset_at": reset_at},
            dedupe_key=f"rate_limit.warning:{provider}",
            dedupe_window=self.settings.throttle.rate_limit_window,
        )

    def _quota_warning(
        self, task_id: int, state: _TaskState, provider: str, event: AgentEvent
    ) -> None:
        """A usage window at ``routing.quota.warnAt``: once per provider, window and reset."""
        from ado.config.schema import QuotaRoutingConfig
        from ado.routing.headroom import window_end, window_summary
        from ado.routing.quota import reading_of

        now = datetime.now(UTC)
        view = reading_of(provider, event, now)
        if view is None or view.used_ratio is None:
            return
        state.measured.add(provider)
        quota = self.manager.quota or QuotaRoutingConfig()
        if view.used_ratio < quota.warn_at or view.status == QuotaStatus.REJECTED:
            return  # a rejected window is a limit reached, told when the attempt ends
        end = window_end(view)
        window = self.settings.throttle.rate_limit_window
        if end is not None:
            window = max(window, (end - now).total_seconds())
        stamp = end.astimezone(UTC).strftime("%Y%m%dT%H%M") if end else "-"
        self._send(
            task_id,
            NotificationEvent.RATE_LIMIT_WARNING,
            Level.WARNING,
            f"{provider} {window_summary(view, now)}",
            f"At routing.quota.stopAt ({quota.stop_at:.0%}) {provider} takes no new task "
            "until the window resets.",
            state,
            {"window": view.kind, "used_ratio": view.used_ratio, "reset_at": end},
            dedupe_key=f"quota.warning:{provider}:{view.kind}:{stamp}",
            dedupe_window=window,
        )

    def _limit_reached(self, task_id: int, state: _TaskState, failed_over_to: str | None) -> None:
        limit, state.limit = state.limit, None
        assert limit is not None
        what = "its usage quota" if limit.outcome == "quota_exhausted" else "its rate limit"
        reset = limit.reset_at
        when = reset.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if reset else "unknown"
        moved = (
            f"task {task_id} failed over to {failed_over_to}"
            if failed_over_to
            else f"task {task_id} could not fail over"
        )
        window = self.settings.throttle.rate_limit_window
        if reset is not None:
            # one per provider and limit window: the same reset time is announced once
            window = max(window, (reset - datetime.now(UTC)).total_seconds())
        self._send(
            task_id,
            NotificationEvent.RATE_LIMIT_REACHED,
            Level.WARNING,
            f"{limit.pair} hit {what}",
            f"Resets {when}; {moved}.",
            state,
            {
                "provider": limit.pair,
                "reset_at": reset,
                "failed_over_to": failed_over_to,
                "outcome": limit.outcome,
            },
            dedupe_key=(
                f"rate_limit.reached:{limit.provider}:"
                f"{reset.astimezone(UTC).strftime('%Y%m%dT%H%M') if reset else '-'}"
            ),
            dedupe_window=window,
        )

    def _provider_failure(
        self,
        task_id: int,
        state: _TaskState,
        provider: str,
        kind: str,
        what: str,
        detail: str | None,
    ) -> None:
        self._send(
            task_id,
            NotificationEvent.PROVIDER_FAILURE,
            Level.ERROR,
            f"{provider} {what}",
            _clip(detail or "") or f"{provider} {what}",
            state,
            {"provider": provider, "outcome": kind},
            dedupe_key=f"provider.failure:{provider}:{kind}",
            dedupe_window=self.settings.throttle.rate_limit_window,
        )

    # -- sending ------------------------------------------------------------------------------

    def _send(
        self,
        task_id: int,
        event: NotificationEvent,
        level: Level,
        title: str,
        message: str,
        state: _TaskState,
        extra: dict[str, Any] | None = None,
        *,
        dedupe_key: str | None = None,
        dedupe_window: float | None = None,
    ) -> None:
        metadata: dict[str, Any] = {
            "task_id": task_id,
            "provider": state.pair,
            "attempts": state.attempts or None,
            "cost_usd": round(state.cost_usd, 6),
            "api_cost_usd": round(state.api_cost_usd, 6) or None,
            "duration_s": round(time.monotonic() - state.started, 1),
        }
        metadata.update(extra or {})
        public = self.settings.public_url
        self.manager.notify(
            Notification(
                event=event,
                title=title,
                message=message,
                level=level,
                metadata={k: v for k, v in metadata.items() if v is not None},
                url=f"{public}/tasks/{task_id}" if public else None,
                dedupe_key=dedupe_key,
                dedupe_window=dedupe_window,
            )
        )


def _clip(text: str, limit: int = 500) -> str:
    text = text.strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"
