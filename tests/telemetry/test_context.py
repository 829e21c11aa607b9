"""Trace context for the agents, the switches that turn telemetry on and off, and flushing."""

from __future__ import annotations

import json
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ado.config.schema import AdoConfig
from ado.telemetry.config import TelemetryConfig
from ado.telemetry.setup import resolve
from tests.fixtures.ado import Project
from tests.telemetry.conftest import OtlpReceiver


def _env_dumping_cursor(tmp_path: Path, dump: Path) -> dict[str, Any]:
    script = tmp_path / "bin3" / "cursor-agent"
    script.parent.mkdir()
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import json, os
        with open({str(dump)!r}, "w") as f:
            json.dump(dict(os.environ), f)
        from ado.testing.fake_cursor_agent import main
        raise SystemExit(main())
    """)
    )
    script.chmod(0o755)
    return {
        "enabled": True,
        "command": str(script),
        "accessModes": [{"mode": "subscription", "priority": 1}],
    }


def test_the_agent_gets_the_attempt_span_as_traceparent(
    project: Project, tmp_path: Path, otlp_receiver: OtlpReceiver
) -> None:
    dump = tmp_path / "env.json"
    project.write_config(
        {"cursor-agent": _env_dumping_cursor(tmp_path, dump)},
        observability={"telemetry": {"enabled": True, "endpoint": otlp_receiver.url}},
    )
    project.run("run", "--json", "hi", check_code=0)
    env = json.loads(dump.read_text())
    (attempt,) = [s for s in otlp_receiver.spans() if s.name == "ado.attempt"]
    assert env["TRACEPARENT"].startswith(f"00-{attempt.trace_id}-{attempt.span_id}-")
    assert int(env["TRACEPARENT"][-2:], 16) & 1, "sampled"
    # cursor-agent has no OpenTelemetry export of its own: nothing else is set for it.
    assert not any(k.startswith("OTEL_") for k in env)


def test_ados_own_traceparent_makes_the_task_join_that_trace(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], otlp_receiver: OtlpReceiver
) -> None:
    trace_id, parent_id = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
    project.write_config({"cursor-agent": fake_cursor()})
    project.run(
        "run",
        "--json",
        "hi",
        check_code=0,
        env={
            "OTEL_EXPORTER_OTLP_ENDPOINT": otlp_receiver.url,
            "OTEL_SERVICE_NAME": "from-env",
            "TRACEPARENT": f"00-{trace_id}-{parent_id}-01",
        },
    )
    spans = otlp_receiver.spans()
    (task,) = [s for s in spans if s.name == "ado.task"]
    assert task.trace_id == trace_id and task.parent_id == parent_id
    assert task.resource["service.name"] == "from-env", "OTEL_* alone turned telemetry on"


def test_claude_and_copilot_export_to_the_same_endpoint() -> None:
    from opentelemetry.sdk.trace import TracerProvider

    from ado.telemetry.context import agent_env

    settings = resolve(TelemetryConfig(enabled=True, endpoint="http://collector:4318/"), {})
    span = TracerProvider().get_tracer("t").start_span("ado.attempt")
    claude = agent_env("claude-code", span, settings, resource={"ado.task.id": "7"})
    ctx = span.get_span_context()
    flags = int(ctx.trace_flags)
    assert claude["TRACEPARENT"] == f"00-{ctx.trace_id:032x}-{ctx.span_id:016x}-{flags:02x}"
    assert claude["CLAUDE_CODE_ENABLE_TELEMETRY"] == "1"
    assert claude["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    assert claude["OTEL_EXPORTER_OTLP_PROTOCOL"] == "http/protobuf"
    assert claude["OTEL_RESOURCE_ATTRIBUTES"] == "ado.task.id=7"
    copilot = agent_env("copilot", span, settings)
    assert copilot["COPILOT_OTEL_ENABLED"] == "true"
    assert copilot["OTEL_EXPORTER_OTLP_ENDPOINT"] == "http://collector:4318"
    assert set(agent_env("codex", span, settings)) == {"TRACEPARENT"}
    assert set(agent_env("claude-code", span, None)) == {"TRACEPARENT"}


def test_settings_from_configuration_and_environment() -> None:
    off = resolve(TelemetryConfig(), {})
    assert not off.enabled
    assert resolve(TelemetryConfig(), {"OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318"}).enabled
    assert resolve(TelemetryConfig(), {"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t"}).enabled
    assert not resolve(TelemetryConfig(enabled=True), {"OTEL_SDK_DISABLED": "true"}).enabled
    env = resolve(
        TelemetryConfig(enabled=True),
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318/",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT": "http://m:9/custom",
            "OTEL_EXPORTER_OTLP_HEADERS": "authorization=Bearer%20a,x-team=ado",
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_METRIC_EXPORT_INTERVAL": "500",
        },
    )
    assert env.traces_endpoint == "http://c:4318/v1/traces"
    assert env.metrics_endpoint == "http://m:9/custom"
    assert env.headers == {"authorization": "Bearer a", "x-team": "ado"}
    assert (env.traces_exporter, env.metrics_exporter) == ("console", "none")
    assert env.export_interval_ms == 500
    configured = resolve(
        TelemetryConfig.model_validate(
            {"enabled": True, "endpoint": "http://mine:4318", "headers": {"x-team": "core"}}
        ),
        {
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://c:4318",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://t",
            "OTEL_EXPORTER_OTLP_HEADERS": "x-team=ado",
        },
    )
    assert configured.traces_endpoint == "http://mine:4318/v1/traces", "the file's endpoint wins"
    assert configured.headers == {"x-team": "core"}


def test_the_config_section_is_typed_and_documented() -> None:
    config = AdoConfig.model_validate(
        {
            "observability": {
                "logging": {"level": "info", "format": "json"},
                "telemetry": {"enabled": True, "serviceName": "x", "promptPrefix": 8},
            }
        }
    )
    assert config.observability.telemetry.service_name == "x"
    assert config.observability.telemetry.prompt_prefix == 8
    assert config.observability.logging.format == "json"


def test_with_telemetry_off_run_imports_no_opentelemetry(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    proc = project.run("run", "--json", "hi", check_code=0, env={"PYTHONPROFILEIMPORTTIME": "1"})
    imported = [line for line in proc.stderr.splitlines() if "import time:" in line]
    assert any("ado.cli" in line for line in imported), "import times were printed"
    assert not [line for line in imported if "opentelemetry" in line]


def test_a_collector_that_is_down_delays_exit_by_the_flush_timeout_at_most(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    project.write_config(
        {"cursor-agent": fake_cursor()},
        observability={
            "telemetry": {"enabled": True, "endpoint": "http://127.0.0.1:9", "flushTimeout": 1000}
        },
    )
    started = time.monotonic()
    project.run("run", "--json", "hi", check_code=0)
    assert time.monotonic() - started < 10


def test_console_exporter_for_development(
    project: Project, fake_cursor: Callable[..., dict[str, Any]]
) -> None:
    project.write_config(
        {"cursor-agent": fake_cursor()},
        observability={"telemetry": {"enabled": True, "exporter": "console", "metrics": False}},
    )
    proc = project.run("run", "--json", "hi", check_code=0)
    assert '"name": "ado.task"' in proc.stderr and '"name": "ado.attempt"' in proc.stderr
