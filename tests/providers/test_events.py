"""An event's stored form is its wire form (``EventData``): ADO's keys camelCase, what the
agent gave verbatim."""

from __future__ import annotations

from datetime import UTC, datetime

from ado.api._fields import FIELDS
from ado.api.schemas import EventData
from ado.providers.base import ParseState
from ado.providers.claude_code import ClaudeCode
from ado.providers.events import AgentEvent, EventKind, Usage

#: A tool's input as claude passes it: snake_case keys, nested ones too. They are the agent's.
TOOL_INPUT = {
    "file_path": "/src/app.py",
    "old_string": "a",
    "new_string": "b",
    "edits": [{"old_string": "c", "replace_all": True}],
    "options": {"tool_name": "not ADO's", "is_error": False},
}


def test_every_field_of_an_event_is_a_field_of_its_wire_model() -> None:
    names = [name for name in AgentEvent.__slots__ if name != "kind"]
    assert [name for _, name in FIELDS["EventData"]] == names
    assert [name for _, name in FIELDS["EventUsage"]] == list(Usage.__slots__)


def test_to_dict_is_camel_case_and_round_trips() -> None:
    event = AgentEvent(
        EventKind.RATE_LIMIT,
        text="limit",
        tool_id="t1",
        tool_name="Edit",
        tool_input=TOOL_INPUT,
        is_error=True,
        session_id="s1",
        usage=Usage(input_tokens=3, output_tokens=2, cache_read_tokens=1, cost_usd=0.5),
        files=["/src/app.py"],
        reset_at=datetime(2026, 12, 1, 3, 0, tzinfo=UTC),
        retrying=False,
        status_code=429,
        data={"exitCode": 0, "num_turns": 4},
    )
    stored = event.to_dict()
    assert list(stored) == [
        "kind", "text", "toolId", "toolName", "toolInput", "isError", "sessionId", "usage",
        "files", "resetAt", "retrying", "statusCode", "data",
    ]  # fmt: skip
    assert stored["usage"] == {
        "inputTokens": 3,
        "outputTokens": 2,
        "cacheReadTokens": 1,
        "cacheWriteTokens": 0,
        "costUsd": 0.5,
    }
    assert stored["toolInput"] == TOOL_INPUT  # the agent's keys, nested ones too, untouched
    assert stored["data"] == {"exitCode": 0, "num_turns": 4}
    body = {k: v for k, v in stored.items() if k != "kind"}
    assert EventData.model_validate(body).model_dump(by_alias=True, exclude_none=True) == {
        **body,
        "resetAt": event.reset_at,
    }
    assert AgentEvent.from_dict(stored) == event


def test_empty_fields_are_left_out() -> None:
    assert AgentEvent(EventKind.TEXT, text="hi").to_dict() == {"kind": "text", "text": "hi"}
    assert AgentEvent(EventKind.LOG, data={}).to_dict() == {"kind": "log"}


def test_keys_copied_from_the_agent_keep_its_spelling() -> None:
    """claude's result: ``num_turns``, ``duration_ms`` are claude's names, kept as it wrote
    them; the tool call's input likewise."""
    adapter, state = ClaudeCode(), ParseState()
    (call,) = adapter.parse_line(
        {
            "type": "assistant",
            "message": {
                "content": [{"type": "tool_use", "id": "t", "name": "Edit", "input": TOOL_INPUT}]
            },
        },
        state,
    )
    assert call.to_dict()["toolInput"] == TOOL_INPUT
    _usage, result = adapter.parse_line(
        {"type": "result", "subtype": "success", "is_error": False, "result": "ok",
         "num_turns": 2, "duration_ms": 219, "session_id": "s"},
        state,
    )  # fmt: skip
    assert result.to_dict() == {
        "kind": "result",
        "text": "ok",
        "isError": False,
        "sessionId": "s",
        "data": {"subtype": "success", "num_turns": 2, "duration_ms": 219},
    }
