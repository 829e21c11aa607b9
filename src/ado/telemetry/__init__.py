"""OpenTelemetry traces and metrics for every task, OTLP/HTTP and Prometheus export.

Nothing here imports OpenTelemetry until telemetry is started: with it off (the default
for ``ado run``) the command pays nothing.

- ``config``     the typed ``observability`` section (logging, telemetry)
- ``setup``      providers and exporters from the configuration and ``OTEL_*`` variables
- ``tracing``    a task listener: ``ado.task`` → ``ado.route`` / ``ado.attempt`` → tools
- ``metrics``    a task listener: every ``ado.*`` metric, and the gauges
- ``instrument`` both listeners as the runner's hooks (``on_update``, task start, agent env)
- ``context``    W3C ``TRACEPARENT`` and the agents' own OpenTelemetry variables
- ``logging``    structured (optionally JSON) logs carrying trace and span ids
- ``prometheus`` ``/metrics`` for ``ado serve``
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from ado.telemetry import _state

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from ado.config.schema import AdoConfig
    from ado.store import Store
    from ado.telemetry.config import TelemetryConfig
    from ado.telemetry.instrument import RunnerTelemetry
    from ado.telemetry.setup import Telemetry

__all__ = [
    "current",
    "export_enabled",
    "metrics_asgi_app",
    "span",
    "start_for_run",
    "start_for_server",
]


def export_enabled(config: TelemetryConfig, environ: Mapping[str, str] | None = None) -> bool:
    """Whether traces and metrics are exported: ``observability.telemetry.enabled``, or an
    OTLP endpoint in the standard variables; never with ``OTEL_SDK_DISABLED`` set true."""
    env = os.environ if environ is None else environ
    wanted = (
        config.enabled
        or bool(env.get("OTEL_EXPORTER_OTLP_ENDPOINT"))
        or bool(env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"))
        or bool(env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"))
    )
    disabled = env.get("OTEL_SDK_DISABLED", "").strip().lower() in ("1", "true", "yes", "on")
    return wanted and not disabled


def start_for_run(config: AdoConfig, *, debug: bool = False) -> RunnerTelemetry | None:
    """Telemetry for one ``ado run``: None (and nothing of OpenTelemetry imported) unless
    ``observability.telemetry.enabled`` or the ``OTEL_EXPORTER_OTLP_*`` variables turn it on.
    Call ``shutdown()`` on the result before exiting: it flushes, bounded by
    ``flushTimeout``."""
    obs = config.observability
    if obs.logging.model_fields_set or debug:
        from ado.telemetry.logging import configure_logging

        configure_logging(obs.logging, debug=debug)
    if not export_enabled(obs.telemetry):
        return None  # decided without loading ado.telemetry.setup, before ado run's spawn
    from ado.config.snapshot import as_model
    from ado.telemetry.instrument import RunnerTelemetry
    from ado.telemetry.setup import start

    config = as_model(config)  # a cached configuration's real models (OpenTelemetry loads too)
    return RunnerTelemetry.create(start(config.observability.telemetry), config)


def start_for_server(config: AdoConfig, store: Store | None = None) -> RunnerTelemetry:
    """Telemetry for ``ado serve``: OTLP export when enabled, the Prometheus registry behind
    ``/metrics`` when ``prometheus`` is on, the cooldown gauge read from ``store``. Call
    ``shutdown()`` on graceful shutdown (it flushes)."""
    from datetime import UTC, datetime

    from ado.telemetry.instrument import RunnerTelemetry
    from ado.telemetry.logging import configure_logging
    from ado.telemetry.setup import start

    obs = config.observability
    configure_logging(obs.logging)
    telemetry = start(obs.telemetry, prometheus=obs.telemetry.prometheus)
    cooldowns = quota = None
    if store is not None:
        source = store

        def cooldowns() -> list[tuple[str, str]]:
            return [(c.provider, c.access_mode) for c in source.cooldowns(datetime.now(UTC))]

        def quota() -> list[tuple[str, str, float | None, float | None]]:
            from ado.routing.quota import ledger

            # one series per (provider, window): of two windows of a kind (an agent's and a
            # counted one, requestsPerDay and tokensPerDay), the fuller one
            seen: dict[tuple[str, str], tuple[str, str, float | None, float | None]] = {}
            for w in ledger(source, config, datetime.now(UTC)):
                key = (w.provider, w.window.value)
                kept = seen.get(key)
                if kept is None or (w.used_ratio or 0.0) > (kept[2] or 0.0):
                    seen[key] = (w.provider, w.window.value, w.used_ratio, w.reset_in_s)
            return list(seen.values())

    return RunnerTelemetry.create(telemetry, config, cooldowns=cooldowns, quota=quota)


def current() -> Telemetry | None:
    """The telemetry this process started, or None when it is off."""
    return _state.current


@contextmanager
def span(name: str, **attributes: Any) -> Iterator[Span | None]:
    """A span around a block (a child of the current task's span when there is one).

    A no-op yielding None when telemetry is off. An exception escaping the block is
    recorded on the span, whose status becomes ERROR.
    """
    telemetry = _state.current
    tracer = telemetry.tracer if telemetry is not None else None
    if tracer is None:
        yield None
        return
    attrs = {k: v for k, v in attributes.items() if v is not None}
    with tracer.start_as_current_span(name, attributes=attrs) as current_span:
        yield current_span


def metrics_asgi_app() -> Any:
    """An ASGI app rendering the metrics in Prometheus text format (mount at ``/metrics``)."""
    from ado.telemetry.prometheus import metrics_asgi_app as make

    return make()
