"""The runner's telemetry hooks: spans and metrics from every task, the agent's trace context.

```python
telemetry = ado.telemetry.setup.start(config.observability.telemetry)
hooks = RunnerTelemetry.create(telemetry, config)
runner = Runner(config, store, hooks=[view, hooks])   # ado.orchestrator.compose does this
...
hooks.shutdown()          # flushes, bounded by flushTimeout
```

A listener must never break a task: a failure inside one is logged and the task goes on.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from ado.orchestrator.hooks import RunnerHooks

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig
    from ado.orchestrator.task import AttemptInfo, TaskSpec, TaskUpdate
    from ado.telemetry.metrics import CooldownSource, QuotaReadings, TaskMetrics
    from ado.telemetry.setup import ExportSettings, Telemetry
    from ado.telemetry.tracing import TaskTracer

__all__ = ["RunnerTelemetry"]

log = logging.getLogger(__name__)


class RunnerTelemetry(RunnerHooks):
    """Feeds each task's events to the tracer and the metrics; gives each attempt's agent
    its ``TRACEPARENT`` (and its own OTLP export settings)."""

    def __init__(
        self,
        tracer: TaskTracer | None,
        metrics: TaskMetrics | None,
        agent_settings: ExportSettings | None = None,
        telemetry: Telemetry | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.tracer = tracer
        self.metrics = metrics
        self.agent_settings = agent_settings
        self._failed = False

    @classmethod
    def create(
        cls,
        telemetry: Telemetry,
        config: AdoConfig,
        *,
        cooldowns: CooldownSource | None = None,
        quota: QuotaReadings | None = None,
    ) -> RunnerTelemetry:
        tcfg = config.observability.telemetry
        tracer = metrics = None
        otel_tracer, meter = telemetry.tracer, telemetry.meter
        if otel_tracer is not None:
            from ado.telemetry.tracing import TaskTracer

            tracer = TaskTracer(
                otel_tracer,
                prompt_prefix=tcfg.prompt_prefix,
                retry_delay_ms=config.routing.failover.retry_delay,
            )
        if meter is not None:
            from ado.telemetry.metrics import TaskMetrics

            metrics = TaskMetrics(meter, cooldowns=cooldowns, quota=quota)
        settings = telemetry.settings
        agent = settings if (tcfg.agent_telemetry and settings.enabled) else None
        if agent is not None and settings.traces_exporter != "otlp":
            agent = None
        return cls(tracer, metrics, agent, telemetry)

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Flush and stop the exporters (bounded by ``flushTimeout``); False on a timeout."""
        return self.telemetry.shutdown(timeout_ms) if self.telemetry is not None else True

    # -- the runner's hooks -------------------------------------------------------------------

    def on_update(self, update: TaskUpdate) -> None:
        try:
            if self.tracer is not None:
                self.tracer.update(update)
            if self.metrics is not None:
                self.metrics.update(update)
        except Exception:
            self._report()

    def on_task_start(self, task_id: int, spec: TaskSpec) -> None:
        try:
            if self.tracer is not None:
                self.tracer.task_started(task_id, spec)
            if self.metrics is not None:
                self.metrics.task_started(task_id, spec)
        except Exception:
            self._report()

    def on_task_disowned(self, task_id: int) -> None:
        try:
            if self.tracer is not None:
                self.tracer.task_disowned(task_id)
            if self.metrics is not None:
                self.metrics.task_disowned(task_id)
        except Exception:
            self._report()

    def attempt_env(self, task_id: int, attempt: AttemptInfo) -> dict[str, str]:
        if self.tracer is None:
            return {}
        try:
            from ado.telemetry.context import agent_env

            span = self.tracer.attempt_span(task_id, attempt)
            if span is None:
                return {}
            resource = {"ado.task.id": str(task_id), "ado.attempt.number": str(attempt.number)}
            return agent_env(attempt.provider, span, self.agent_settings, resource=resource)
        except Exception:
            self._report()
            return {}

    def _report(self) -> None:
        # Once per process: a broken exporter must not flood the task's output.
        if not self._failed:
            self._failed = True
            log.warning("telemetry failed; the task goes on without it", exc_info=True)
