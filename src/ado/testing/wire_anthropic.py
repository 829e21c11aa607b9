"""Anthropic Messages API (``POST /v1/messages``), streaming (SSE) and not, as claude calls it."""

from __future__ import annotations

import json
from typing import Any

from ado.testing.behaviours import USAGE, Failure, Reply, Turn
from ado.testing.wire_common import Rendered, failure_headers, json_body, new_id, sse


def parse_turn(body: dict[str, Any]) -> Turn:
    tools = {
        t["name"]: frozenset((t.get("input_schema") or {}).get("properties") or {})
        for t in body.get("tools") or []
        if isinstance(t, dict) and "name" in t
    }
    results: tuple[str, ...] = ()
    messages = body.get("messages") or []
    if messages and messages[-1].get("role") == "user":
        content = messages[-1].get("content")
        if isinstance(content, list):
            results = tuple(
                str(b.get("tool_use_id"))
                for b in content
                if isinstance(b, dict) and b.get("type") == "tool_result"
            )
    return Turn(
        model=str(body.get("model") or "claude-sonnet-4-5"),
        stream=bool(body.get("stream")),
        tools=tools,
        tool_results=results,
    )


def _usage(output_tokens: int) -> dict[str, int]:
    return {
        "input_tokens": USAGE.input_tokens,
        "output_tokens": output_tokens,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 0,
    }


def _block(reply: Reply) -> dict[str, Any]:
    if reply.tool_call:
        call = reply.tool_call
        return {"type": "tool_use", "id": call.call_id, "name": call.name, "input": call.arguments}
    return {"type": "text", "text": reply.text}


def render_reply(turn: Turn, reply: Reply) -> Rendered:
    stop_reason = "tool_use" if reply.tool_call else "end_turn"
    message: dict[str, Any] = {
        "id": new_id("msg_fake_"),
        "type": "message",
        "role": "assistant",
        "model": turn.model,
        "content": [_block(reply)],
        "stop_reason": stop_reason,
        "stop_sequence": None,
        "usage": _usage(USAGE.output_tokens),
    }
    if not turn.stream:
        return Rendered(200, json_body(message))
    block = _block(reply)
    if reply.tool_call:
        start = {**block, "input": {}}
        delta = {"type": "input_json_delta", "partial_json": json.dumps(block["input"])}
    else:
        start = {"type": "text", "text": ""}
        delta = {"type": "text_delta", "text": reply.text}
    events: list[tuple[str | None, Any]] = [
        (
            "message_start",
            {
                "type": "message_start",
                "message": {
                    **message,
                    "content": [],
                    "stop_reason": None,
                    "usage": _usage(1),
                },
            },
        ),
        (
            "content_block_start",
            {"type": "content_block_start", "index": 0, "content_block": start},
        ),
        ("ping", {"type": "ping"}),
        ("content_block_delta", {"type": "content_block_delta", "index": 0, "delta": delta}),
        ("content_block_stop", {"type": "content_block_stop", "index": 0}),
        (
            "message_delta",
            {
                "type": "message_delta",
                "delta": {"stop_reason": stop_reason, "stop_sequence": None},
                "usage": {"output_tokens": USAGE.output_tokens},
            },
        ),
        ("message_stop", {"type": "message_stop"}),
    ]
    return Rendered(200, sse(events), "text/event-stream")


_ERROR_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "not_found_error",
    429: "rate_limit_error",
    529: "overloaded_error",
}


def render_failure(failure: Failure, request_id: str) -> Rendered:
    default = (
        "FAKE: This request would exceed the rate limit for your organization."
        if failure.status == 429
        else "FAKE: Internal server error"
    )
    body = {
        "type": "error",
        "error": {
            "type": _ERROR_TYPES.get(failure.status, "api_error"),
            "message": failure.message or default,
        },
        "request_id": request_id,
    }
    return Rendered(failure.status, json_body(body), headers=failure_headers(failure, request_id))


def count_tokens() -> Rendered:
    return Rendered(200, json_body({"input_tokens": USAGE.input_tokens}))
