"""Agent text cleaned and bounded where it is parsed (``ado.providers.sanitize``), and
escaped where it is printed for a terminal (``ado.cli.render.printable``)."""

from __future__ import annotations

import json

import pytest

from ado.cli.render import event_line, printable
from ado.providers.events import AgentEvent, EventKind
from ado.providers.sanitize import TRUNCATED_KEY, event_size, limit_event
from ado.text import clean_text, clean_value, needs_cleaning


@pytest.mark.parametrize(
    ("raw", "clean"),
    [
        ("plain ascii", "plain ascii"),
        ("emoji 😀 and accents é", "emoji 😀 and accents é"),
        ("lone \ud83d high", "lone \ufffd high"),
        ("lone \udc00 low", "lone \ufffd low"),
        ("pair as two \ud83d\ude00", "pair as two 😀"),
        ("reversed \ude00\ud83d", "reversed \ufffd\ufffd"),
        ("nul \x00 ascii", "nul \ufffd ascii"),
        ("nul \x00 and é", "nul \ufffd and é"),
        ("", ""),
        ("control \x1b[2J stays", "control \x1b[2J stays"),
    ],
)
def test_clean_text(raw: str, clean: str) -> None:
    assert clean_text(raw) == clean
    clean_text(raw).encode("utf-8")


def test_clean_text_returns_the_same_object_when_nothing_is_wrong() -> None:
    text = "nothing to do é" * 100
    assert clean_text(text) is text


def test_clean_value_reaches_keys_and_nested_values() -> None:
    dirty = {"k\ud83d": ["a\x00", {"deep": "\udfff"}], "n": 1, "b": None}
    assert clean_value(dirty) == {"k\ufffd": ["a\ufffd", {"deep": "\ufffd"}], "n": 1, "b": None}


@pytest.mark.parametrize("text", ["a\x00b", "é\x00", "nul \x00 and lone \ud83d"])
def test_nul_false_keeps_nul_and_still_replaces_lone_surrogates(text: str) -> None:
    # What stored settings and API answers are read back with: a NUL is valid JSON there.
    kept = clean_text(text, nul=False)
    assert kept == text.replace("\ud83d", "\ufffd")
    assert kept.count("\x00") == 1
    assert clean_text(text) == text.replace("\ud83d", "\ufffd").replace("\x00", "\ufffd")
    assert clean_value({"k\udc00": [text]}, nul=False) == {"k\ufffd": [kept]}
    assert clean_text("plain", nul=False) == "plain"


@pytest.mark.parametrize(
    ("line", "risky"),
    [
        ('{"t": "\\ud83d"}', True),
        ('{"t": "\\uDC00"}', True),
        ('{"t": "\\u0000"}', True),
        ('{"t": "\\u00e9 \\u2603 \\u001b"}', False),
        ('{"t": "plain"}', False),
        ('{"t": "\\\\ud83d"}', True),  # an escaped backslash: a false positive, harmless
    ],
)
def test_needs_cleaning_spots_the_escapes_that_decode_badly(line: str, risky: bool) -> None:
    assert needs_cleaning(line) is risky
    if not risky:
        json.dumps(json.loads(line), ensure_ascii=False).encode("utf-8")


def test_a_small_event_is_left_alone() -> None:
    event = AgentEvent(EventKind.TEXT, text="short")
    assert limit_event(event, 1024) is event and event.text == "short" and not event.data


def test_a_long_text_is_cut_with_a_marker_and_the_bytes_counted() -> None:
    event = AgentEvent(EventKind.TEXT, text="x" * 1_000_000)
    limit_event(event, 65536)
    assert event_size(event) <= 65536
    assert event.text is not None and event.text.endswith("characters cut: output truncated]")
    assert event.data[TRUNCATED_KEY] > 900_000


def test_non_ascii_text_is_measured_in_utf8_bytes() -> None:
    event = AgentEvent(EventKind.TEXT, text="é" * 40_000)  # 80,000 bytes in UTF-8
    limit_event(event, 65536)
    assert event.text is not None and len(event.text.encode()) <= 65536


def test_tool_input_and_data_are_cut_too() -> None:
    event = AgentEvent(
        EventKind.TOOL_CALL,
        tool_name="write",
        tool_input={"path": "a.py", "fileText": "y" * 500_000},
        files=["a.py"],
        data={"line": "z" * 500_000},
    )
    limit_event(event, 8192)
    assert event_size(event) <= 8192
    assert event.tool_input is not None and event.tool_input["path"] == "a.py"
    assert event.files == ["a.py"]


def test_a_great_many_small_items_are_dropped() -> None:
    event = AgentEvent(
        EventKind.TOOL_CALL,
        text="kept",
        tool_input={f"k{i}": i for i in range(200_000)},
        files=[f"f{i}" for i in range(200_000)],
    )
    limit_event(event, 4096)
    assert event_size(event) <= 4096
    assert event.text == "kept"
    assert event.data[TRUNCATED_KEY] > 1_000_000


# -- printing for a terminal -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("plain", "plain"),
        ("two\nlines\tand a tab", "two\nlines\tand a tab"),
        ("clear \x1b[2J", "clear \\x1b[2J"),
        ("title \x1b]0;x\x07", "title \\x1b]0;x\\x07"),
        ("csi \x9b31m", "csi \\x9b31m"),
        ("cr \r over", "cr \\x0d over"),
        ("nul \x00 del \x7f", "nul \\x00 del \\x7f"),
        ("bidi \u202eabc\u202c", "bidi \\u202eabc\\u202c"),
        ("emoji 😀 é", "emoji 😀 é"),
    ],
)
def test_printable(raw: str, shown: str) -> None:
    assert printable(raw) == shown


def test_event_lines_escape_controls_and_markup() -> None:
    for event in (
        AgentEvent(EventKind.TEXT, text="[red]x[/] \x1b[2J"),
        AgentEvent(EventKind.TOOL_CALL, tool_name="\x1b]0;t\x07", tool_input={"command": "\x1b[H"}),
        AgentEvent(EventKind.ERROR, text="\x9b1m"),
        AgentEvent(EventKind.LOG, text="\x1bc reset"),
    ):
        line = event_line(event)
        assert line is not None
        assert not any(c in line.plain for c in "\x1b\x07\x9b")
    text = event_line(AgentEvent(EventKind.TEXT, text="[red]x[/]"))
    assert text is not None and "[red]x[/]" in text.plain
