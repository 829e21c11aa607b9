"""The typed ``observability`` section of ``ado.config.yaml``.

Only pydantic is imported here: ``ado.config.schema`` loads this module on every command.

```yaml
observability:
  logging: {level: info, format: json}
  telemetry:
    enabled: true
    endpoint: http://localhost:4318      # OTLP/HTTP; or OTEL_EXPORTER_OTLP_ENDPOINT
    serviceName: ado
```
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, SecretStr

from ado.config.base import ConfigModel

__all__ = ["LoggingConfig", "ObservabilityConfig", "TelemetryConfig"]


class TelemetryConfig(ConfigModel):
    """OpenTelemetry traces and metrics (off by default)."""

    enabled: bool = Field(
        default=False,
        description="Export traces and metrics. Also on when `OTEL_EXPORTER_OTLP_ENDPOINT` (or "
        "a signal's own `OTEL_EXPORTER_OTLP_*_ENDPOINT`) is set, unless `OTEL_SDK_DISABLED=true`.",
    )
    endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP base URL (e.g. `http://localhost:4318`); `/v1/traces` and "
        "`/v1/metrics` are appended. Unset: the standard `OTEL_EXPORTER_OTLP_*` variables, "
        "else `http://localhost:4318`.",
    )
    service_name: str = Field(
        default="ado",
        description="`service.name` of ADO's traces and metrics (`OTEL_SERVICE_NAME` wins).",
    )
    headers: dict[str, SecretStr] = Field(
        default_factory=dict,
        description="Extra HTTP headers for the OTLP exporter (e.g. an `Authorization` "
        "token); added to `OTEL_EXPORTER_OTLP_HEADERS`.",
    )
    exporter: Literal["otlp", "console", "none"] = Field(
        default="otlp",
        description="Where spans and metrics go: `otlp`, `console` (stderr, for development) "
        "or `none`. `OTEL_TRACES_EXPORTER` / `OTEL_METRICS_EXPORTER` win when set.",
    )
    traces: bool = Field(default=True, description="Export traces.")
    metrics: bool = Field(default=True, description="Export metrics.")
    export_interval: int = Field(
        default=15000,
        ge=100,
        description="Milliseconds between metric exports (`OTEL_METRIC_EXPORT_INTERVAL` wins); "
        "`ado run` always exports once more before it exits.",
    )
    flush_timeout: int = Field(
        default=5000,
        ge=0,
        description="Milliseconds `ado run` and `ado serve` wait at exit for the last spans and "
        "metrics to be exported.",
    )
    prompt_prefix: int = Field(
        default=0,
        ge=0,
        description="Characters of the prompt exported as `ado.prompt.prefix` (0: none). The "
        "prompt itself is never exported, only its length.",
    )
    agent_telemetry: bool = Field(
        default=True,
        description="Point the agents' own OpenTelemetry export (Claude Code, Copilot) at the "
        "same endpoint, so their spans join ADO's trace.",
    )
    prometheus: bool = Field(
        default=True,
        description="Serve the metrics at `/metrics` of `ado serve` in Prometheus text format "
        "(whether or not OTLP export is on).",
    )


class LoggingConfig(ConfigModel):
    """ADO's own log records (not the agents' output)."""

    level: Literal["debug", "info", "warning", "error"] = Field(
        default="warning", description="The lowest level written (`--debug` means debug)."
    )
    format: Literal["text", "json"] = Field(
        default="text",
        description="`text` for people, `json` for one object per line (time, level, logger, "
        "message, trace_id, span_id, ...).",
    )


class ObservabilityConfig(ConfigModel):
    """Logs, traces and metrics."""

    logging: LoggingConfig = Field(
        default_factory=LoggingConfig, description="ADO's own log records."
    )
    telemetry: TelemetryConfig = Field(
        default_factory=TelemetryConfig,
        description="OpenTelemetry traces and metrics (OTLP/HTTP, console, Prometheus).",
    )
    cost_tracking: dict[str, Any] = Field(
        default_factory=dict,
        description="Accepted as written (from the TypeScript original); not used: ADO "
        "records every attempt's cost (`ado report`).",
    )
