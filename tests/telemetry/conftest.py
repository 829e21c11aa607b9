"""A real OTLP/HTTP receiver: a stdlib HTTP server decoding the protobuf bodies."""

from __future__ import annotations

import gzip
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from opentelemetry.proto.collector.metrics.v1.metrics_service_pb2 import (
    ExportMetricsServiceRequest,
)
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import AnyValue, KeyValue


def value_of(value: AnyValue) -> Any:
    kind = value.WhichOneof("value")
    if kind == "array_value":
        return [value_of(v) for v in value.array_value.values]
    return getattr(value, kind) if kind else None


def attrs_of(attributes: Any) -> dict[str, Any]:
    return {kv.key: value_of(kv.value) for kv in attributes if isinstance(kv, KeyValue)}


@dataclass
class Span:
    name: str
    trace_id: str
    span_id: str
    parent_id: str
    start_ns: int
    end_ns: int
    attributes: dict[str, Any]
    status: int  # 0 unset, 1 ok, 2 error
    status_message: str
    events: list[tuple[str, dict[str, Any]]]
    resource: dict[str, Any]


@dataclass
class Point:
    attributes: dict[str, Any]
    value: float  # the sum or gauge value; for a histogram, its count
    sum: float = 0.0


@dataclass
class OtlpReceiver:
    url: str
    trace_requests: list[ExportTraceServiceRequest] = field(default_factory=list)
    metric_requests: list[ExportMetricsServiceRequest] = field(default_factory=list)
    headers: list[dict[str, str]] = field(default_factory=list)
    changed: threading.Condition = field(default_factory=threading.Condition)

    def spans(self) -> list[Span]:
        out = []
        for request in list(self.trace_requests):
            for rs in request.resource_spans:
                resource = attrs_of(rs.resource.attributes)
                for ss in rs.scope_spans:
                    for s in ss.spans:
                        out.append(
                            Span(
                                name=s.name,
                                trace_id=s.trace_id.hex(),
                                span_id=s.span_id.hex(),
                                parent_id=s.parent_span_id.hex(),
                                start_ns=s.start_time_unix_nano,
                                end_ns=s.end_time_unix_nano,
                                attributes=attrs_of(s.attributes),
                                status=s.status.code,
                                status_message=s.status.message,
                                events=[(e.name, attrs_of(e.attributes)) for e in s.events],
                                resource=resource,
                            )
                        )
        return out

    def metrics(self) -> dict[str, list[Point]]:
        """The last export of each metric (cumulative), by name."""
        out: dict[str, list[Point]] = {}
        for request in list(self.metric_requests):
            for rm in request.resource_metrics:
                for sm in rm.scope_metrics:
                    for m in sm.metrics:
                        kind = m.WhichOneof("data")
                        points = []
                        for p in getattr(m, kind).data_points:
                            attrs = attrs_of(p.attributes)
                            if kind == "histogram":
                                points.append(Point(attrs, p.count, p.sum))
                            else:
                                value = p.as_double if p.HasField("as_double") else p.as_int
                                points.append(Point(attrs, value))
                        out[m.name] = points
        return out


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The caller's OpenTelemetry settings never reach these tests' ``ado`` processes."""
    import os

    for key in list(os.environ):
        if key.startswith(("OTEL_", "COPILOT_OTEL_", "CLAUDE_CODE_")) or key in (
            "TRACEPARENT",
            "TRACESTATE",
        ):
            monkeypatch.delenv(key)


@pytest.fixture
def otlp_receiver() -> Iterator[OtlpReceiver]:
    receiver: OtlpReceiver

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            if self.path == "/v1/traces":
                msg: Any = ExportTraceServiceRequest.FromString(body)
                target: list[Any] = receiver.trace_requests
            elif self.path == "/v1/metrics":
                msg = ExportMetricsServiceRequest.FromString(body)
                target = receiver.metric_requests
            else:
                self.send_response(404)
                self.end_headers()
                return
            with receiver.changed:
                target.append(msg)
                receiver.headers.append({k.lower(): v for k, v in self.headers.items()})
                receiver.changed.notify_all()
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    receiver = OtlpReceiver(f"http://127.0.0.1:{server.server_address[1]}")
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
