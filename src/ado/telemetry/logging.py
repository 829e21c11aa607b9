"""Structured logs carrying the current trace and span ids.

``configure_logging()`` installs one handler on the ``ado`` logger: ``text`` for people
(``… [trace=… span=…]`` when a span is current) or ``json`` (one object per line: ``time``,
``level``, ``logger``, ``message``, ``trace_id``, ``span_id``, ``exception`` and any
``extra=`` fields). The ids come from the current OpenTelemetry context, which the task
tracer keeps on the task's span while it runs; OpenTelemetry is only consulted when it is
already loaded, so plain logging costs nothing more with telemetry off.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

from ado.telemetry.config import LoggingConfig

__all__ = ["JsonFormatter", "TraceContextFilter", "configure_logging"]

#: Attributes every LogRecord has; anything else came from ``extra=``.
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime"}


class TraceContextFilter(logging.Filter):
    """Adds ``trace_id`` and ``span_id`` (hex, or empty) to every record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.trace_id, record.span_id = current_ids()
        return True


def current_ids() -> tuple[str, str]:
    if "opentelemetry.trace" not in sys.modules:
        return "", ""
    from opentelemetry import trace

    ctx = trace.get_current_span().get_span_context()
    if not ctx.is_valid:
        return "", ""
    return f"{ctx.trace_id:032x}", f"{ctx.span_id:016x}"


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            out["trace_id"] = trace_id
            out["span_id"] = getattr(record, "span_id", "")
        for key, value in vars(record).items():
            if key not in _STANDARD and key not in ("trace_id", "span_id"):
                out[key] = value if isinstance(value, str | int | float | bool) else repr(value)
        if record.exc_info:
            out["exception"] = self.formatException(record.exc_info)
        return json.dumps(out, ensure_ascii=False)


class TextFormatter(logging.Formatter):
    def __init__(self) -> None:
        super().__init__("%(asctime)s %(levelname)s %(name)s: %(message)s")

    def format(self, record: logging.LogRecord) -> str:
        text = super().format(record)
        trace_id = getattr(record, "trace_id", "")
        if trace_id:
            text += f" [trace={trace_id} span={getattr(record, 'span_id', '')}]"
        return text


def configure_logging(
    config: LoggingConfig, *, debug: bool = False, stream: TextIO | None = None
) -> logging.Handler:
    """Send the ``ado`` logger's records to ``stream`` (stderr) in the configured format."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter() if config.format == "json" else TextFormatter())
    handler.addFilter(TraceContextFilter())
    logger = logging.getLogger("ado")
    for old in [h for h in logger.handlers if getattr(h, "_ado_telemetry", False)]:
        logger.removeHandler(old)
    handler._ado_telemetry = True  # type: ignore[attr-defined]
    logger.addHandler(handler)
    logger.setLevel(logging.DEBUG if debug else config.level.upper())
    return handler
