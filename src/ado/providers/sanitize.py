"""Agent text made safe to store, serve and print — once, where it enters ADO.

An agent's output is hostile until proven otherwise. Three things in it break whatever
comes after the parser, so they are replaced here and nowhere else:

- **invalid UTF-8 bytes**: ``ado.providers.process`` decodes every line with
  ``errors="replace"`` (each bad byte becomes U+FFFD);
- **lone surrogates** (``"\\ud83d"``, which JavaScript emits when it cuts a string inside an
  emoji): valid JSON, but no UTF-8 encoder accepts them, so the terminal, the JSON output,
  the API and the WebSocket would fail on them. Each becomes U+FFFD (a valid pair written as
  two escapes is joined into its character);
- **NUL** (``\\x00`` or ``"\\u0000"``): PostgreSQL refuses it in text ("text fields cannot
  contain NUL"), and a command line cannot carry it. It becomes U+FFFD too, rather than
  vanishing, so the text still shows that something was there. Prompts get the same rule.

The cleaning itself (``clean_text``, ``clean_value``, ``needs_cleaning``) is ``ado.text``'s,
the one definition that the store also reads back with.

Control characters (ESC, OSC…) are kept: they are data. Whoever prints for a terminal
escapes them (``ado.cli.render.printable``); JSON escapes them by itself.

The fast path costs a substring test per line: only a JSON line holding a ``\\u`` escape
of a surrogate or NUL can produce such a string, and only its events are walked.
"""

from __future__ import annotations

from typing import Any

from ado.providers.events import AgentEvent
from ado.text import clean_text, clean_value

__all__ = [
    "TRUNCATED_KEY",
    "clean_event",
    "event_size",
    "limit_event",
    "text_size",
]


def clean_event(event: AgentEvent) -> AgentEvent:
    """``event`` with every string it carries cleaned (in place; returned for chaining)."""
    for name in AgentEvent.__slots__:
        if name == "kind":
            continue
        value = getattr(event, name)
        if isinstance(value, str | dict | list):
            setattr(event, name, clean_value(value))
    if event.usage is not None and event.usage.model:
        event.usage.model = clean_text(event.usage.model)
    return event


# -- size ------------------------------------------------------------------------------------

#: Key added to ``data`` of an event whose strings were cut: how many bytes were dropped.
TRUNCATED_KEY = "truncatedBytes"
_MIN_PIECE = 64


def text_size(value: Any) -> int:
    """About how many bytes ``value`` takes as JSON: its strings' UTF-8 sizes, plus a little
    per item (cheap: no encoding for ASCII, nothing serialised)."""
    if isinstance(value, str):
        return len(value) if value.isascii() else len(value.encode("utf-8", "replace"))
    if isinstance(value, dict):
        return sum(text_size(k) + text_size(v) + 4 for k, v in value.items()) + 2
    if isinstance(value, list | tuple):
        return sum(text_size(v) + 1 for v in value) + 2
    return 8


def event_size(event: AgentEvent) -> int:
    """About how many bytes ``event`` takes once stored."""
    size = 24
    for value in (
        event.text,
        event.tool_id,
        event.tool_name,
        event.tool_input,
        event.session_id,
        event.files,
        event.data,
    ):
        if value:
            size += text_size(value)
    return size


def limit_event(event: AgentEvent, max_bytes: int) -> AgentEvent:
    """``event`` cut to about ``max_bytes`` (in place): long strings end with a marker, long
    lists and objects lose their tail, and ``data["truncatedBytes"]`` says how much went."""
    size = event_size(event)
    if size <= max_bytes:
        return event
    piece = max(_MIN_PIECE, max_bytes // 2)
    while True:
        for name in ("text", "tool_id", "tool_name", "tool_input", "session_id", "files", "data"):
            value = getattr(event, name)
            if value:
                setattr(event, name, _cut(value, piece))
        left = event_size(event)
        if left <= max_bytes or piece <= _MIN_PIECE:
            break
        piece //= 2
    if left > max_bytes:  # a great many small items: keep the text, drop the rest
        event.tool_input = {"truncated": True} if event.tool_input else None
        event.files = None
        event.data = {}
        left = event_size(event)
    event.data[TRUNCATED_KEY] = max(0, size - left)
    return event


def _cut(value: Any, piece: int) -> Any:
    if isinstance(value, str):
        if len(value) <= piece:
            return value
        return f"{value[:piece]}… [{len(value) - piece} characters cut: output truncated]"
    items = max(8, piece // 64)
    if isinstance(value, dict):
        kept = list(value.items())[:items]
        return {k: _cut(v, piece) for k, v in kept}
    if isinstance(value, list | tuple):
        return [_cut(v, piece) for v in value[:items]]
    return value
