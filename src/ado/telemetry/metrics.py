"""Metrics from a task's events, recorded as the work happens.

| Instrument | Kind | Unit | Attributes | Recorded at |
|---|---|---|---|---|
| ``ado.tasks.total`` | counter | ``{task}`` | status, provider | task_finished |
| ``ado.task.duration`` | histogram | ``s`` | status, provider | task_finished |
| ``ado.provider.requests`` | counter | ``{request}`` | provider, success | attempt_finished |
| ``ado.provider.latency`` | histogram | ``ms`` | provider, success | attempt_finished |
| ``ado.rate_limits.total`` | counter | ``{limit}`` | provider, access_mode | a limited attempt |
| ``ado.errors.total`` | counter | ``{error}`` | provider, error_type | a failed attempt or task |
| ``ado.tokens.usage`` | counter | ``{token}`` | provider, token_type | attempt_finished |
| ``ado.cost`` | counter | ``usd`` | provider, access_mode | attempt_finished |
| ``ado.cost.api_equivalent`` | counter | ``usd`` | provider, access_mode | attempt_finished |
| ``ado.tasks.active`` | up-down counter | ``{task}`` | | task start / end |
| ``ado.providers.cooldown`` | gauge | ``{provider}`` | provider, access_mode | each collection |
| ``ado.quota.used_ratio`` | gauge | ``1`` | provider, window | each collection (the quota ledger) |
| ``ado.quota.reset`` | gauge | ``s`` | provider, window | each collection (the quota ledger) |

``provider`` is ``none`` for a task that never reached one. In Prometheus the names become
``ado_tasks_total``, ``ado_task_duration_seconds``, ``ado_provider_latency_milliseconds``,
``ado_tokens_usage_total``, ``ado_cost_usd_total``, ``ado_quota_used_ratio``,
``ado_quota_reset_seconds``... (see docs/telemetry.md).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from opentelemetry.metrics import CallbackOptions, Observation

from ado.providers.events import EventKind
from ado.vocab import OutcomeKind

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter

    from ado.orchestrator.task import AttemptInfo, TaskSpec, TaskUpdate

__all__ = ["CooldownSource", "QuotaReadings", "TaskMetrics"]

log = logging.getLogger(__name__)

#: Returns the (provider, access mode) pairs cooling down now (e.g. from the store).
CooldownSource = Callable[[], Iterable[tuple[str, str]]]
#: Returns each known usage window: (provider, window, fraction used or None, seconds to
#: its reset or None) — ``ado.routing.quota.ledger``.
QuotaReadings = Callable[[], Iterable[tuple[str, str, float | None, float | None]]]

#: Exit codes of a task that failed before or outside an attempt (see ``ado.errors``).
TASK_ERROR_TYPES = {2: "usage_error", 3: "no_provider_available", 4: "cost_limit"}
NOT_ERRORS = ("success", "cancelled")
DURATION_BUCKETS_S = (1, 5, 10, 30, 60, 120, 300, 600, 1200, 1800, 3600)
LATENCY_BUCKETS_MS = (100, 500, 1000, 5000, 10000, 30000, 60000, 120000, 300000, 600000)


class TaskMetrics:
    """Records every ``ado.*`` metric from the ``TaskUpdate``s of the tasks it watches."""

    def __init__(
        self,
        meter: Meter,
        *,
        cooldowns: CooldownSource | None = None,
        quota: QuotaReadings | None = None,
    ) -> None:
        self._tasks: dict[int, _TaskState] = {}
        self._cooling: dict[tuple[str, str], datetime] = {}
        self._cooldown_source = cooldowns
        self._quota_source = quota
        self._seen: set[tuple[str, str]] = set()
        m = meter
        self.tasks_total = m.create_counter(
            "ado.tasks.total", unit="{task}", description="Tasks finished, by status and provider."
        )
        self.task_duration = m.create_histogram(
            "ado.task.duration",
            unit="s",
            description="Task wall time, routing and failovers included.",
            explicit_bucket_boundaries_advisory=DURATION_BUCKETS_S,
        )
        self.provider_requests = m.create_counter(
            "ado.provider.requests", unit="{request}", description="Agent runs (attempts)."
        )
        self.provider_latency = m.create_histogram(
            "ado.provider.latency",
            unit="ms",
            description="How long an agent ran for one attempt.",
            explicit_bucket_boundaries_advisory=LATENCY_BUCKETS_MS,
        )
        self.rate_limits = m.create_counter(
            "ado.rate_limits.total",
            unit="{limit}",
            description="Attempts that hit a rate limit or an exhausted quota.",
        )
        self.errors = m.create_counter(
            "ado.errors.total", unit="{error}", description="Failed attempts and task errors."
        )
        self.tokens = m.create_counter(
            "ado.tokens.usage", unit="{token}", description="Tokens used, by type."
        )
        self.cost = m.create_counter(
            "ado.cost", unit="usd", description="What the attempts cost (0 on subscriptions)."
        )
        self.api_cost = m.create_counter(
            "ado.cost.api_equivalent",
            unit="usd",
            description="What the attempts would have cost at API prices.",
        )
        self.active = m.create_up_down_counter(
            "ado.tasks.active", unit="{task}", description="Tasks running now."
        )
        m.create_observable_gauge(
            "ado.providers.cooldown",
            callbacks=[self._observe_cooldowns],
            unit="{provider}",
            description="1 for each provider/access mode cooling down after a limit, else 0.",
        )
        if quota is not None:
            m.create_observable_gauge(
                "ado.quota.used_ratio",
                callbacks=[self._observe_quota_used],
                unit="1",
                description="Fraction of each usage window used (the quota ledger).",
            )
            m.create_observable_gauge(
                "ado.quota.reset",
                callbacks=[self._observe_quota_reset],
                unit="s",
                description="Seconds until each usage window resets (the quota ledger).",
            )

    # -- hooks --------------------------------------------------------------------------------

    def task_started(self, task_id: int, spec: TaskSpec | None = None) -> None:
        if task_id not in self._tasks:
            self._tasks[task_id] = _TaskState(time.monotonic())
            self.active.add(1)

    def update(self, update: TaskUpdate) -> None:
        ev = update.event
        kind = ev.kind
        if kind is EventKind.TASK_FINISHED:
            self._task_finished(update.task_id, ev.data)
            return
        if update.task_id not in self._tasks:
            self.task_started(update.task_id)
        state = self._tasks[update.task_id]
        if kind is EventKind.ATTEMPT_STARTED and update.attempt is not None:
            state.provider = update.attempt.provider
        elif kind is EventKind.ATTEMPT_FINISHED and update.attempt is not None:
            self._attempt_finished(update.attempt, ev.data)
        elif kind is EventKind.ERROR and update.attempt is None:
            state.task_error = True

    # -- recording ----------------------------------------------------------------------------

    def _attempt_finished(self, info: AttemptInfo, data: dict[str, Any]) -> None:
        outcome = info.outcome.kind.value if info.outcome else str(data.get("outcome", "crashed"))
        provider, mode = info.provider, info.access_mode
        success = {"provider": provider, "success": "true" if outcome == "success" else "false"}
        self.provider_requests.add(1, success)
        if data.get("durationS") is not None:
            self.provider_latency.record(float(data["durationS"]) * 1000, success)
        pair = {"provider": provider, "access_mode": mode}
        if outcome in (OutcomeKind.RATE_LIMITED, OutcomeKind.QUOTA_EXHAUSTED):
            self.rate_limits.add(1, pair)
            reset_at = info.outcome.reset_at if info.outcome else None
            if reset_at is not None:
                self._cooling[(provider, mode)] = reset_at
        if outcome not in NOT_ERRORS:
            self.errors.add(1, {"provider": provider, "error_type": outcome})
        usage = info.usage
        for token_type, count in (
            ("input", usage.input_tokens),
            ("output", usage.output_tokens),
            ("cache_read", usage.cache_read_tokens),
            ("cache_write", usage.cache_write_tokens),
        ):
            if count:
                self.tokens.add(count, {"provider": provider, "token_type": token_type})
        self.cost.add(info.cost_usd, pair)
        self.api_cost.add(info.api_cost_usd, pair)

    def task_disowned(self, task_id: int) -> None:
        """The task went on in another process, which counts how it ends: no longer active
        here, not counted finished."""
        if self._tasks.pop(task_id, None) is not None:
            self.active.add(-1)

    def _task_finished(self, task_id: int, data: dict[str, Any]) -> None:
        state = self._tasks.pop(task_id, None)
        if state is None:
            return
        self.active.add(-1)
        status = str(data.get("status", "failed"))
        provider = state.provider or "none"
        attrs = {"status": status, "provider": provider}
        self.tasks_total.add(1, attrs)
        self.task_duration.record(time.monotonic() - state.started, attrs)
        if state.task_error:
            exit_code = int(data.get("exitCode") or 1)
            error_type = TASK_ERROR_TYPES.get(exit_code, "task_error")
            self.errors.add(1, {"provider": provider, "error_type": error_type})

    def _observe_cooldowns(self, options: CallbackOptions) -> Iterable[Observation]:
        now = datetime.now(UTC)
        cooling = {pair for pair, until in self._cooling.items() if until > now}
        if self._cooldown_source is not None:
            try:
                cooling.update(self._cooldown_source())
            except Exception:  # a store that cannot answer now: what this process knows
                log.warning("could not read the cooldowns", exc_info=True)
        self._seen |= cooling | set(self._cooling)
        for provider, mode in sorted(self._seen):
            value = 1 if (provider, mode) in cooling else 0
            yield Observation(value, {"provider": provider, "access_mode": mode})

    def _quota(self) -> list[tuple[str, str, float | None, float | None]]:
        if self._quota_source is None:
            return []
        try:
            return list(self._quota_source())
        except Exception:  # a store that cannot answer now: no reading this time
            log.warning("could not read the quota ledger", exc_info=True)
            return []

    def _observe_quota_used(self, options: CallbackOptions) -> Iterable[Observation]:
        for provider, window, used, _ in self._quota():
            if used is not None:
                yield Observation(used, {"provider": provider, "window": window})

    def _observe_quota_reset(self, options: CallbackOptions) -> Iterable[Observation]:
        for provider, window, _, reset_s in self._quota():
            if reset_s is not None:
                yield Observation(reset_s, {"provider": provider, "window": window})


class _TaskState:
    __slots__ = ("provider", "started", "task_error")

    def __init__(self, started: float) -> None:
        self.started = started
        self.provider: str | None = None
        self.task_error = False
