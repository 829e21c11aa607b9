"""Turning events into lines for people: ``ado run``'s live view and ``ado tasks show``."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

from rich.markup import escape
from rich.text import Text

from ado.providers.events import AgentEvent, EventKind
from ado.vocab import TaskStatus

__all__ = [
    "event_line",
    "format_cost",
    "format_duration",
    "format_tokens",
    "printable",
    "safe",
    "status_text",
    "summary_line",
]

_MAX_TEXT = 400

#: What a terminal would act on instead of print: C0 controls but newline and tab, DEL,
#: C1 controls (``\x9b`` is CSI on some terminals), and the bidirectional overrides that
#: make text read differently from what it is. Compiled on first use (``re``'s cache): most
#: text is printable and never needs it.
_CONTROL = "[\x00-\x08\x0b-\x1f\x7f-\x9f\u200e\u200f\u202a-\u202e\u2066-\u2069]"


def printable(text: str) -> str:
    """``text`` safe to print on a terminal: control characters shown escaped (``\x1b``),
    so agent output cannot clear the screen, retitle the window or forge lines."""
    if text.isprintable() or re.search(_CONTROL, text) is None:
        return text
    return re.sub(_CONTROL, _escaped, text)


def _escaped(match: re.Match[str]) -> str:
    char = match.group()
    return f"\\x{ord(char):02x}" if ord(char) < 0x100 else f"\\u{ord(char):04x}"


def safe(text: object) -> str:
    """``text`` for Rich markup: control characters escaped, then markup escaped."""
    return escape(printable(str(text)))


def format_cost(usd: float | None) -> str:
    if not usd:
        return "$0"
    return f"${usd:.4f}" if usd < 1 else f"${usd:,.2f}"


def format_tokens(n: int) -> str:
    if n >= 1_000_000:
        return f"{n / 1_000_000:.1f}M"
    if n >= 10_000:
        return f"{n / 1000:.0f}k"
    return f"{n:,}"


def format_duration(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, secs = divmod(int(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{secs:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def format_when(when: datetime | None) -> str:
    if when is None:
        return "unknown"
    local = when.astimezone()
    delta = when - datetime.now(UTC)
    rel = format_duration(delta.total_seconds()) if delta.total_seconds() > 0 else "now"
    return f"{local:%H:%M %Z} (in {rel})" if delta.days < 1 else f"{local:%Y-%m-%d %H:%M %Z}"


def status_text(task: Any) -> str:
    """A task's status for a table cell: a parked one says what it waits for (escaped)."""
    if task.status == TaskStatus.PARKED and task.park_reason:
        return f"parked: {safe(task.park_reason)}"
    return str(task.status)


def _short(text: str | None, limit: int = _MAX_TEXT) -> str:
    text = (text or "").strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _tool_args(inp: dict[str, Any] | None) -> str:
    if not inp:
        return ""
    for key in ("file_path", "filePath", "path", "command", "cmd", "pattern", "url"):
        if key in inp and isinstance(inp[key], str | list):
            value = inp[key] if isinstance(inp[key], str) else " ".join(map(str, inp[key]))
            return _short(value, 120)
    return _short(json.dumps(inp, ensure_ascii=False), 120)


def event_line(event: AgentEvent, provider: str | None = None) -> Text | None:
    """One line for an event, or None for events a person need not see."""
    k = event.kind
    if k is EventKind.ATTEMPT_STARTED:
        d = event.data
        model = f" ({d['model']})" if d.get("model") else ""
        return Text.from_markup(
            f"[bold cyan]▶ attempt {d.get('number')}: {d.get('provider')}/"
            f"{d.get('accessMode')}{safe(model)}[/]\n  [dim]{safe(event.text or '')}[/]"
        )
    if k is EventKind.SESSION_STARTED:
        return Text.from_markup(f"  [dim]session {safe(event.session_id or '')}[/]")
    if k is EventKind.TEXT:
        return Text.from_markup(f"  [white]{safe(_short(event.text))}[/]")
    if k is EventKind.TOOL_CALL:
        name, args = safe(event.tool_name or "tool"), safe(_tool_args(event.tool_input))
        return Text.from_markup(f"  [yellow]⚙ {name}[/] {args}")
    if k is EventKind.TOOL_RESULT:
        if event.is_error:
            return Text.from_markup(f"    [red]✗ {safe(_short(event.text, 200))}[/]")
        return None
    if k is EventKind.RATE_LIMIT:
        when = f" — resets {format_when(event.reset_at)}" if event.reset_at else ""
        what = (
            "rate limited"
            if event.retrying or event.data.get("status") == "rejected"
            else ("near its rate limit")
        )
        return Text.from_markup(f"  [magenta]⚠ {what}{safe(when)}[/]")
    if k is EventKind.ERROR:
        return Text.from_markup(f"  [red]✗ {safe(_short(event.text))}[/]")
    if k is EventKind.FAILOVER:
        return Text.from_markup(f"[magenta]↪ {safe(event.text or 'failing over')}[/]")
    if k is EventKind.HANDOFF:  # the whole prompt is the event's text (`tasks show --json`)
        return Text.from_markup(f"  [magenta]↳ {safe(_handoff(event.data))}[/]")
    if k is EventKind.ATTEMPT_FINISHED:
        outcome = event.data.get("outcome", "")
        colour = "green" if outcome == "success" else "red"
        detail = f": {_short(event.text, 200)}" if event.text and outcome != "success" else ""
        return Text.from_markup(
            f"  [{colour}]{safe(outcome.replace('_', ' '))}{safe(detail)}[/] "
            f"[dim]in {format_duration(event.data.get('durationS'))}[/]"
        )
    if k is EventKind.LOG:
        if event.data.get("warning"):
            return Text.from_markup(f"  [yellow]⚠ {safe(event.text or '')}[/]")
        return Text.from_markup(f"  [dim]{safe(_short(event.text))}[/]")
    return None


def _handoff(data: dict[str, Any]) -> str:
    attempts = ", ".join(str(n) for n in data.get("attempts") or [])
    files = [str(f).rsplit("/", 1)[-1] for f in data.get("files") or []]
    named = ", ".join(files[:3]) + (f" +{len(files) - 3}" if len(files) > 3 else "")
    return (
        f"handoff: told what attempt {attempts} did"
        + (f" (files: {named})" if files else "")
        + f", {data.get('bytes', 0):,} bytes"
        + (", cut to fit" if data.get("truncated") else "")
    )


def summary_line(
    status: str,
    duration_s: float,
    input_tokens: int,
    output_tokens: int,
    cost_usd: float,
    api_cost_usd: float,
    files: list[str] | None = None,
    task_id: int | None = None,
) -> Text:
    colours: dict[str, str] = {TaskStatus.SUCCEEDED: "green", TaskStatus.CANCELLED: "yellow"}
    marks: dict[str, str] = {TaskStatus.SUCCEEDED: "✔", TaskStatus.CANCELLED: "■"}
    colour, mark = colours.get(status, "red"), marks.get(status, "✘")
    parts = [
        f"[bold {colour}]{mark} {status}[/]" + (f" [dim]task {task_id}[/]" if task_id else ""),
        f"{format_duration(duration_s)}",
        f"{format_tokens(input_tokens)} in / {format_tokens(output_tokens)} out",
        f"spent {format_cost(cost_usd)} (API value {format_cost(api_cost_usd)})",
    ]
    if files:
        shown = ", ".join(files[:5]) + (f" +{len(files) - 5}" if len(files) > 5 else "")
        parts.append(f"files: {safe(shown)}")
    return Text.from_markup(" · ".join(parts))
