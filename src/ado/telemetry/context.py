"""Trace context for the agent subprocess.

Each attempt's agent gets ``TRACEPARENT`` (W3C Trace Context) naming the attempt's span, so
anything the agent traces is a child of it. When ``agentTelemetry`` is on, the agents that
have an OpenTelemetry exporter of their own are pointed at ADO's OTLP/HTTP endpoint:

- Claude Code: ``CLAUDE_CODE_ENABLE_TELEMETRY=1`` turns on its metrics and log events
  (``OTEL_METRICS_EXPORTER``/``OTEL_LOGS_EXPORTER=otlp``); its traces are a beta behind
  ``CLAUDE_CODE_ENHANCED_TELEMETRY_BETA=1`` with ``OTEL_TRACES_EXPORTER=otlp``.
- GitHub Copilot CLI: ``COPILOT_OTEL_ENABLED=true`` and ``OTEL_EXPORTER_OTLP_ENDPOINT``
  (its exporter is ``otlp-http``); it exports GenAI-convention spans (``invoke_agent``,
  ``chat``, ``execute_tool``) and metrics.

Neither is asked to capture prompt or message content. Variables a provider's own ``env``
sets in the configuration win over these.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from opentelemetry.trace import Span

    from ado.telemetry.setup import ExportSettings

__all__ = ["AGENT_OTEL_ENV", "agent_env", "traceparent"]

#: Per provider: the variables that switch its own OpenTelemetry export on.
AGENT_OTEL_ENV: Mapping[str, Mapping[str, str]] = {
    "claude-code": {
        "CLAUDE_CODE_ENABLE_TELEMETRY": "1",
        "CLAUDE_CODE_ENHANCED_TELEMETRY_BETA": "1",
        "OTEL_METRICS_EXPORTER": "otlp",
        "OTEL_LOGS_EXPORTER": "otlp",
        "OTEL_TRACES_EXPORTER": "otlp",
    },
    "copilot": {
        "COPILOT_OTEL_ENABLED": "true",
        "COPILOT_OTEL_EXPORTER_TYPE": "otlp-http",
    },
}


def traceparent(span: Span) -> str | None:
    """The W3C ``traceparent`` header value naming ``span`` (None for an invalid span)."""
    ctx = span.get_span_context()
    if not ctx.is_valid:
        return None
    return f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{int(ctx.trace_flags):02x}"


def agent_env(
    provider: str,
    span: Span,
    settings: ExportSettings | None,
    *,
    resource: Mapping[str, str] | None = None,
) -> dict[str, str]:
    """The variables one attempt's agent runs with: ``TRACEPARENT`` always, and its own
    OTLP export pointed at ``settings.endpoint`` when ``settings`` is given."""
    env: dict[str, str] = {}
    parent = traceparent(span)
    if parent is not None:
        env["TRACEPARENT"] = parent
        state = span.get_span_context().trace_state
        if state:
            env["TRACESTATE"] = state.to_header()
    if settings is None or provider not in AGENT_OTEL_ENV:
        return env
    env.update(AGENT_OTEL_ENV[provider])
    env["OTEL_EXPORTER_OTLP_ENDPOINT"] = settings.endpoint
    env["OTEL_EXPORTER_OTLP_PROTOCOL"] = "http/protobuf"
    if settings.headers:
        env["OTEL_EXPORTER_OTLP_HEADERS"] = ",".join(
            f"{k}={v}" for k, v in settings.headers.items()
        )
    if resource:
        env["OTEL_RESOURCE_ATTRIBUTES"] = ",".join(f"{k}={v}" for k, v in resource.items())
    return env
