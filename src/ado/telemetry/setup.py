"""Providers and exporters: what the configuration and the ``OTEL_*`` variables ask for.

``resolve()`` is pure (no OpenTelemetry import): ``ado run`` calls it to learn whether
telemetry is on at all. ``start()`` builds the SDK providers:

- traces: a ``BatchSpanProcessor`` to OTLP/HTTP (``/v1/traces``) or the console;
- metrics: a ``PeriodicExportingMetricReader`` to OTLP/HTTP (``/v1/metrics``) or the console,
  and a Prometheus reader (its own ``CollectorRegistry``) for ``ado serve``'s ``/metrics``.

The providers are ADO's own (never installed as OpenTelemetry's globals, so a host
application's are left alone). ``Telemetry.shutdown()`` flushes with a bound: a collector
that is down never holds up the end of ``ado run``.
"""

from __future__ import annotations

import os
import sys
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, TextIO

from ado.telemetry import _state, export_enabled

if TYPE_CHECKING:
    from opentelemetry.metrics import Meter
    from opentelemetry.sdk.metrics import MeterProvider
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.trace import Tracer
    from prometheus_client import CollectorRegistry

    from ado.telemetry.config import TelemetryConfig

__all__ = ["ExportSettings", "Telemetry", "resolve", "start"]

DEFAULT_ENDPOINT = "http://localhost:4318"
SCOPE = "ado"


class ExportSettings(NamedTuple):
    """Where telemetry goes, once configuration and environment are merged."""

    enabled: bool
    traces_exporter: str  # otlp, console or none
    metrics_exporter: str
    traces_endpoint: str
    metrics_endpoint: str
    #: The OTLP/HTTP base URL (what the agents' own exporters are given).
    endpoint: str
    headers: dict[str, str]
    service_name: str | None = None
    export_interval_ms: int = 15000
    flush_timeout_ms: int = 5000


def _exporter(env_value: str | None, configured: str) -> str:
    if env_value:
        names = [n.strip().lower() for n in env_value.split(",") if n.strip()]
        for wanted in ("otlp", "console"):
            if wanted in names:
                return wanted
        return "none"
    return configured


def resolve(config: TelemetryConfig, environ: Mapping[str, str] | None = None) -> ExportSettings:
    """Merge ``observability.telemetry`` with the standard ``OTEL_*`` variables.

    The configuration's ``endpoint`` wins over ``OTEL_EXPORTER_OTLP_ENDPOINT``; the
    variables that choose exporters, the service name and the export interval win over
    the configuration (the OpenTelemetry convention), so one file serves every deployment.
    """
    env = os.environ if environ is None else environ
    signal_endpoints = (
        env.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT"),
        env.get("OTEL_EXPORTER_OTLP_METRICS_ENDPOINT"),
    )
    enabled = export_enabled(config, env)
    base = (config.endpoint or env.get("OTEL_EXPORTER_OTLP_ENDPOINT") or DEFAULT_ENDPOINT).rstrip(
        "/"
    )
    traces_url = (not config.endpoint and signal_endpoints[0]) or f"{base}/v1/traces"
    metrics_url = (not config.endpoint and signal_endpoints[1]) or f"{base}/v1/metrics"
    headers = _parse_headers(env.get("OTEL_EXPORTER_OTLP_HEADERS", ""))
    headers.update({k: v.get_secret_value() for k, v in config.headers.items()})
    interval = env.get("OTEL_METRIC_EXPORT_INTERVAL", "")
    return ExportSettings(
        enabled=enabled,
        traces_exporter=_exporter(env.get("OTEL_TRACES_EXPORTER"), config.exporter)
        if config.traces
        else "none",
        metrics_exporter=_exporter(env.get("OTEL_METRICS_EXPORTER"), config.exporter)
        if config.metrics
        else "none",
        traces_endpoint=traces_url,
        metrics_endpoint=metrics_url,
        endpoint=base,
        headers=headers,
        service_name=env.get("OTEL_SERVICE_NAME") or config.service_name,
        export_interval_ms=int(interval) if interval.isdigit() else config.export_interval,
        flush_timeout_ms=config.flush_timeout,
    )


def _parse_headers(raw: str) -> dict[str, str]:
    from urllib.parse import unquote

    out: dict[str, str] = {}
    for part in raw.split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            out[unquote(key.strip()).lower()] = unquote(value.strip())
    return out


class Telemetry:
    """ADO's tracer and meter providers, and how to flush them."""

    def __init__(
        self,
        settings: ExportSettings,
        tracer_provider: TracerProvider | None,
        meter_provider: MeterProvider | None,
        registry: CollectorRegistry | None,
    ) -> None:
        self.settings = settings
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        #: The Prometheus registry ``/metrics`` renders (None: no Prometheus reader).
        self.registry = registry
        self._closed = False

    @property
    def tracer(self) -> Tracer | None:
        if self.tracer_provider is None:
            return None
        from ado import __version__

        return self.tracer_provider.get_tracer(SCOPE, __version__)

    @property
    def meter(self) -> Meter | None:
        if self.meter_provider is None:
            return None
        from ado import __version__

        return self.meter_provider.get_meter(SCOPE, __version__)

    def flush(self, timeout_ms: int | None = None) -> bool:
        """Export everything recorded so far; False when the bound ran out first."""
        return self._bounded(self._flush, timeout_ms)

    def shutdown(self, timeout_ms: int | None = None) -> bool:
        """Flush and stop the exporters, waiting at most ``flush_timeout`` (or ``timeout_ms``)."""
        if self._closed:
            return True
        self._closed = True
        if _state.current is self:
            _state.current = None
        return self._bounded(self._shutdown, timeout_ms)

    def _flush(self, timeout_ms: int) -> None:
        if self.tracer_provider is not None:
            self.tracer_provider.force_flush(timeout_ms)
        if self.meter_provider is not None:
            self.meter_provider.force_flush(timeout_ms)

    def _shutdown(self, timeout_ms: int) -> None:
        self._flush(timeout_ms)
        if self.tracer_provider is not None:
            self.tracer_provider.shutdown()
        if self.meter_provider is not None:
            self.meter_provider.shutdown(timeout_ms)

    def _bounded(self, work: Any, timeout_ms: int | None) -> bool:
        # The exporters retry a collector that is down until their own timeout; a daemon
        # thread keeps that from ever holding the process past the bound.
        bound = self.settings.flush_timeout_ms if timeout_ms is None else timeout_ms
        thread = threading.Thread(target=work, args=(bound,), name="ado-telemetry-flush")
        thread.daemon = True
        thread.start()
        thread.join(bound / 1000 + 0.5)
        return not thread.is_alive()


def start(
    config: TelemetryConfig,
    *,
    prometheus: bool = False,
    environ: Mapping[str, str] | None = None,
    console: TextIO | None = None,
) -> Telemetry:
    """Build the providers; the result is also what ``ado.telemetry.current()`` returns.

    With telemetry off and ``prometheus`` on (``ado serve`` by default), only the metrics
    are kept, for ``/metrics``.
    """
    from opentelemetry.sdk.resources import SERVICE_NAME, SERVICE_VERSION, Resource

    from ado import __version__

    settings = resolve(config, environ)
    attributes: dict[str, Any] = {SERVICE_VERSION: __version__}
    if settings.service_name:
        attributes[SERVICE_NAME] = settings.service_name
    resource = Resource.create(attributes)
    out = console or sys.stderr
    timeout_s = max(settings.flush_timeout_ms, 1000) / 1000

    tracer_provider = None
    if settings.enabled and settings.traces_exporter != "none":
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter

        span_exporter: SpanExporter
        if settings.traces_exporter == "console":
            from opentelemetry.sdk.trace.export import ConsoleSpanExporter

            span_exporter = ConsoleSpanExporter(out=out)
        else:
            from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

            span_exporter = OTLPSpanExporter(
                endpoint=settings.traces_endpoint,
                headers=settings.headers or None,
                timeout=timeout_s,
            )
        tracer_provider = TracerProvider(resource=resource, shutdown_on_exit=False)
        tracer_provider.add_span_processor(BatchSpanProcessor(span_exporter))

    readers: list[Any] = []
    if settings.enabled and settings.metrics_exporter != "none":
        from opentelemetry.sdk.metrics.export import (
            MetricExporter,
            PeriodicExportingMetricReader,
        )

        metric_exporter: MetricExporter
        if settings.metrics_exporter == "console":
            from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

            metric_exporter = ConsoleMetricExporter(out=out)
        else:
            from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
                OTLPMetricExporter,
            )

            metric_exporter = OTLPMetricExporter(
                endpoint=settings.metrics_endpoint,
                headers=settings.headers or None,
                timeout=timeout_s,
            )
        readers.append(
            PeriodicExportingMetricReader(
                metric_exporter, export_interval_millis=settings.export_interval_ms
            )
        )
    registry = None
    if prometheus:
        from opentelemetry.exporter.prometheus import PrometheusMetricReader
        from prometheus_client import CollectorRegistry

        registry = CollectorRegistry(auto_describe=True)
        readers.append(PrometheusMetricReader(registry=registry))

    meter_provider = None
    if readers:
        from opentelemetry.sdk.metrics import MeterProvider

        meter_provider = MeterProvider(
            metric_readers=readers, resource=resource, shutdown_on_exit=False
        )
    telemetry = Telemetry(settings, tracer_provider, meter_provider, registry)
    _state.current = telemetry
    return telemetry
