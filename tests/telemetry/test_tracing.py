"""The task tracer on its own: edge cases of the span tree, log correlation, ``span()``."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator, Mapping
from pathlib import Path

import pytest
from opentelemetry import context as otel_context
from opentelemetry.sdk.trace import Event, ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode
from opentelemetry.util.types import AnyValue

import ado.telemetry
from ado.orchestrator.task import AttemptInfo, TaskSpec, TaskUpdate
from ado.providers.events import AgentEvent, EventKind
from ado.telemetry.config import LoggingConfig, TelemetryConfig
from ado.telemetry.logging import configure_logging
from ado.telemetry.setup import start
from ado.telemetry.tracing import TaskTracer


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    token = otel_context.attach(otel_context.Context())
    yield InMemorySpanExporter()
    otel_context.detach(token)


def _tracer(exporter: InMemorySpanExporter) -> TaskTracer:
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return TaskTracer(provider.get_tracer("test"))


def _attributes(item: ReadableSpan | Event) -> Mapping[str, AnyValue]:
    """The attributes of a span (or span event) the tracer set some on."""
    assert item.attributes is not None, f"{item.name} has no attributes"
    return item.attributes


def test_an_interrupted_attempt_ends_its_open_tool_spans(exporter: InMemorySpanExporter) -> None:
    tracer = _tracer(exporter)
    spec = TaskSpec(prompt="p" * 50, cwd=Path("."))
    info = AttemptInfo(1, 1, "claude-code", "subscription", "claude-sonnet-4-5", "first")
    tracer.task_started(1, spec)
    for event, attempt in [
        (AgentEvent(EventKind.ATTEMPT_STARTED, text="first"), info),
        (AgentEvent(EventKind.TOOL_CALL, tool_id="a", tool_name="Bash"), info),
        (AgentEvent(EventKind.TOOL_RESULT, tool_id="a", is_error=True, text="exit 1"), info),
        (AgentEvent(EventKind.TOOL_CALL, tool_id="b", tool_name="Edit"), info),
        (AgentEvent(EventKind.ERROR, text="agent said no"), info),
        (AgentEvent(EventKind.TASK_FINISHED, data={"status": "cancelled"}), None),
    ]:
        tracer.update(TaskUpdate(1, attempt, event))
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {
        "ado.task",
        "ado.route",
        "ado.attempt",
        "execute_tool Bash",
        "execute_tool Edit",
    }
    assert spans["execute_tool Bash"].status.status_code is StatusCode.ERROR
    assert _attributes(spans["execute_tool Edit"])["ado.tool.unfinished"] is True
    attempt_span = spans["ado.attempt"]
    assert attempt_span.status.status_code is StatusCode.ERROR
    assert _attributes(attempt_span)["gen_ai.system"] == "anthropic"
    assert _attributes(attempt_span)["gen_ai.request.model"] == "claude-sonnet-4-5"
    exceptions = [e for e in attempt_span.events if e.name == "exception"]
    assert [_attributes(e)["exception.type"] for e in exceptions] == [
        "AgentError",
        "Interrupted",
    ]
    task = spans["ado.task"]
    assert _attributes(task)["ado.task.status"] == "cancelled"
    assert _attributes(task)["ado.prompt.length"] == 50
    assert "ado.prompt.prefix" not in _attributes(task), "no prefix unless configured"
    assert task.status.status_code is StatusCode.UNSET


def test_a_task_taken_from_this_process_ends_its_spans_failed(
    exporter: InMemorySpanExporter,
) -> None:
    """``on_task_disowned``: the task goes on elsewhere; its spans here end failed
    (``TaskDisowned``), and the same task taken back later starts a new tree."""
    tracer = _tracer(exporter)
    info = AttemptInfo(1, 1, "claude-code", "subscription", None, "first")
    tracer.task_started(1, TaskSpec(prompt="p", cwd=Path(".")))
    tracer.update(TaskUpdate(1, info, AgentEvent(EventKind.ATTEMPT_STARTED, text="first")))
    tracer.update(TaskUpdate(1, info, AgentEvent(EventKind.TOOL_CALL, tool_id="a")))
    tracer.task_disowned(1)
    tracer.task_disowned(1)  # once
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"ado.task", "ado.route", "ado.attempt", "execute_tool tool"}
    for name in ("ado.task", "ado.attempt"):
        assert spans[name].status.status_code is StatusCode.ERROR, name
    [failed] = [e for e in spans["ado.task"].events if e.name == "exception"]
    assert _attributes(failed)["exception.type"] == "TaskDisowned"
    assert "ado.task.status" not in _attributes(spans["ado.task"])
    tracer.task_started(1)
    tracer.update(TaskUpdate(1, None, AgentEvent(EventKind.TASK_FINISHED, data={"status": "x"})))
    assert len([s for s in exporter.get_finished_spans() if s.name == "ado.task"]) == 2


def test_logs_carry_the_trace_and_span_ids_of_the_running_task(
    exporter: InMemorySpanExporter,
) -> None:
    stream = io.StringIO()
    handler = configure_logging(LoggingConfig(level="info", format="json"), stream=stream)
    try:
        tracer = _tracer(exporter)
        info = AttemptInfo(1, 1, "codex", "subscription", None, "first")
        tracer.task_started(9)
        tracer.update(TaskUpdate(9, info, AgentEvent(EventKind.ATTEMPT_STARTED)))
        logging.getLogger("ado.test").info("inside", extra={"task_id": 9})
        tracer.update(TaskUpdate(9, None, AgentEvent(EventKind.TASK_FINISHED)))
        logging.getLogger("ado.test").info("after")
    finally:
        logging.getLogger("ado").removeHandler(handler)
    inside, after = (json.loads(line) for line in stream.getvalue().splitlines())
    attempt = next(s for s in exporter.get_finished_spans() if s.name == "ado.attempt")
    assert inside["message"] == "inside" and inside["task_id"] == 9
    assert inside["trace_id"] == f"{attempt.context.trace_id:032x}"
    assert inside["span_id"] == f"{attempt.context.span_id:016x}"
    assert "trace_id" not in after, "the task's context is gone once it finished"


def test_span_helper_is_a_no_op_when_off_and_records_errors_when_on() -> None:
    with ado.telemetry.span("ado.notification", channel="slack") as nothing:
        assert nothing is None
    out = io.StringIO()
    telemetry = start(TelemetryConfig(enabled=True, exporter="console", metrics=False), console=out)
    try:
        with pytest.raises(RuntimeError), ado.telemetry.span("ado.notification", channel="slack"):
            raise RuntimeError("smtp down")
    finally:
        assert telemetry.shutdown()
    exported = json.loads(out.getvalue())
    assert exported["name"] == "ado.notification"
    assert exported["attributes"] == {"channel": "slack"}
    assert exported["status"]["status_code"] == "ERROR"
    assert exported["events"][0]["attributes"]["exception.message"] == "smtp down"
