"""OpenAI wire APIs: Responses (``POST /v1/responses``, codex) and Chat Completions
(``POST /v1/chat/completions``, opencode and copilot), streaming and not."""

from __future__ import annotations

import json
import time
from typing import Any

from ado.testing.behaviours import USAGE, Failure, Reply, Turn
from ado.testing.wire_common import Rendered, failure_headers, json_body, new_id, sse


def _params(schema: Any) -> frozenset[str]:
    if isinstance(schema, dict):
        return frozenset(schema.get("properties") or {})
    return frozenset()


# --- Responses ---------------------------------------------------------------------------


def parse_responses_turn(body: dict[str, Any]) -> Turn:
    tools: dict[str, frozenset[str]] = {}
    for tool in body.get("tools") or []:
        if isinstance(tool, dict) and tool.get("name"):
            tools[str(tool["name"])] = _params(tool.get("parameters"))
    items = body.get("input")
    results: list[str] = []
    if isinstance(items, list):
        # the tool outputs that follow the last user message
        for item in reversed(items):
            if not isinstance(item, dict):
                continue
            if item.get("type") in ("function_call_output", "custom_tool_call_output"):
                results.append(str(item.get("call_id")))
            elif item.get("role") == "user":
                break
    return Turn(
        model=str(body.get("model") or "gpt-5"),
        stream=bool(body.get("stream")),
        tools=tools,
        tool_results=tuple(results),
    )


def _responses_usage() -> dict[str, Any]:
    return {
        "input_tokens": USAGE.input_tokens,
        "input_tokens_details": {"cached_tokens": 0},
        "output_tokens": USAGE.output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": USAGE.total_tokens,
    }


def render_responses_reply(turn: Turn, reply: Reply) -> Rendered:
    if reply.tool_call:
        call = reply.tool_call
        item: dict[str, Any] = {
            "type": "function_call",
            "id": new_id("fc_"),
            "call_id": call.call_id,
            "name": call.name,
            "arguments": json.dumps(call.arguments),
            "status": "completed",
        }
    else:
        item = {
            "type": "message",
            "id": new_id("msg_"),
            "status": "completed",
            "role": "assistant",
            "content": [{"type": "output_text", "text": reply.text, "annotations": []}],
        }
    response: dict[str, Any] = {
        "id": new_id("resp_"),
        "object": "response",
        "created_at": int(time.time()),
        "status": "completed",
        "model": turn.model,
        "output": [item],
        "usage": _responses_usage(),
    }
    if not turn.stream:
        return Rendered(200, json_body(response))
    pending = {**response, "status": "in_progress", "output": [], "usage": None}
    events: list[tuple[str | None, Any]] = [
        ("response.created", {"type": "response.created", "response": pending}),
        ("response.in_progress", {"type": "response.in_progress", "response": pending}),
        (
            "response.output_item.added",
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**item, "status": "in_progress"},
            },
        ),
    ]
    if not reply.tool_call:
        events.append(
            (
                "response.output_text.delta",
                {
                    "type": "response.output_text.delta",
                    "item_id": item["id"],
                    "output_index": 0,
                    "content_index": 0,
                    "delta": reply.text,
                },
            )
        )
    events += [
        (
            "response.output_item.done",
            {"type": "response.output_item.done", "output_index": 0, "item": item},
        ),
        ("response.completed", {"type": "response.completed", "response": response}),
    ]
    for number, (_, data) in enumerate(events):
        data["sequence_number"] = number
    return Rendered(200, sse(events), "text/event-stream")


# --- Chat Completions --------------------------------------------------------------------


def parse_chat_turn(body: dict[str, Any]) -> Turn:
    tools: dict[str, frozenset[str]] = {}
    for tool in body.get("tools") or []:
        function = tool.get("function") if isinstance(tool, dict) else None
        if isinstance(function, dict) and function.get("name"):
            tools[str(function["name"])] = _params(function.get("parameters"))
    results: list[str] = []
    for message in reversed(body.get("messages") or []):
        if not isinstance(message, dict) or message.get("role") != "tool":
            break
        results.append(str(message.get("tool_call_id")))
    return Turn(
        model=str(body.get("model") or "gpt-4.1"),
        stream=bool(body.get("stream")),
        tools=tools,
        tool_results=tuple(results),
    )


def _chat_usage() -> dict[str, Any]:
    return {
        "prompt_tokens": USAGE.input_tokens,
        "completion_tokens": USAGE.output_tokens,
        "total_tokens": USAGE.total_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def render_chat_reply(turn: Turn, reply: Reply) -> Rendered:
    base = {
        "id": new_id("chatcmpl-"),
        "created": int(time.time()),
        "model": turn.model,
        "system_fingerprint": "fp_fake",
    }
    finish = "tool_calls" if reply.tool_call else "stop"
    tool_calls = None
    if reply.tool_call:
        call = reply.tool_call
        tool_calls = [
            {
                "index": 0,
                "id": call.call_id,
                "type": "function",
                "function": {"name": call.name, "arguments": json.dumps(call.arguments)},
            }
        ]
    if not turn.stream:
        message: dict[str, Any] = {"role": "assistant", "content": reply.text or None}
        if tool_calls:
            message["tool_calls"] = [
                {k: v for k, v in c.items() if k != "index"} for c in tool_calls
            ]
        return Rendered(
            200,
            json_body(
                {
                    **base,
                    "object": "chat.completion",
                    "choices": [{"index": 0, "message": message, "finish_reason": finish}],
                    "usage": _chat_usage(),
                }
            ),
        )
    chunk = {**base, "object": "chat.completion.chunk"}

    def choice(delta: dict[str, Any], finish_reason: str | None = None) -> dict[str, Any]:
        return {
            **chunk,
            "choices": [{"index": 0, "delta": delta, "finish_reason": finish_reason}],
        }

    delta: dict[str, Any] = {"tool_calls": tool_calls} if tool_calls else {"content": reply.text}
    events: list[tuple[str | None, Any]] = [
        (None, choice({"role": "assistant", "content": ""})),
        (None, choice(delta)),
        (None, {**choice({}, finish), "usage": _chat_usage()}),
        (None, "[DONE]"),
    ]
    return Rendered(200, sse(events), "text/event-stream")


def render_failure(failure: Failure, request_id: str) -> Rendered:
    if failure.code:
        error = {
            "message": failure.message or "FAKE: You have exceeded your premium request allowance.",
            "type": "insufficient_quota",
            "param": None,
            "code": failure.code,
        }
    elif failure.status == 429:
        error = {
            "message": failure.message
            or "FAKE: Rate limit reached for requests. Please try again in 60s.",
            "type": "requests",
            "param": None,
            "code": "rate_limit_exceeded",
        }
    else:
        error = {
            "message": failure.message or "FAKE: The server had an error processing your request.",
            "type": "server_error",
            "param": None,
            "code": None,
        }
    return Rendered(
        failure.status, json_body({"error": error}), headers=failure_headers(failure, request_id)
    )


def model_list(models: list[str]) -> Rendered:
    """Answers both OpenAI's and Anthropic's ``GET /v1/models`` shapes."""
    data = [
        {
            "id": m,
            "object": "model",
            "type": "model",
            "created": 0,
            "owned_by": "fake",
            "display_name": m,
        }
        for m in models
    ]
    return Rendered(200, json_body({"object": "list", "data": data, "has_more": False}))
