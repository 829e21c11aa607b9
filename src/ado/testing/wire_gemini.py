"""Gemini API (``POST /v1beta/models/{model}:streamGenerateContent|generateContent``), as
gemini-cli calls it: SSE with ``alt=sse``, else a JSON array; plus ``:countTokens``."""

from __future__ import annotations

from typing import Any

from ado.testing.behaviours import USAGE, Failure, Reply, Turn
from ado.testing.wire_common import Rendered, failure_headers, json_body, new_id, sse


def parse_turn(body: dict[str, Any], model: str, stream: bool) -> Turn:
    tools: dict[str, frozenset[str]] = {}
    for tool in body.get("tools") or []:
        for declaration in (tool or {}).get("functionDeclarations") or []:
            schema = declaration.get("parametersJsonSchema") or declaration.get("parameters") or {}
            tools[str(declaration.get("name"))] = frozenset(schema.get("properties") or {})
    results: tuple[str, ...] = ()
    contents = body.get("contents") or []
    if contents and contents[-1].get("role") == "user":
        results = tuple(
            str(p["functionResponse"].get("id") or p["functionResponse"].get("name"))
            for p in contents[-1].get("parts") or []
            if isinstance(p, dict) and "functionResponse" in p
        )
    return Turn(model=model, stream=stream, tools=tools, tool_results=results)


def _response(turn: Turn, reply: Reply) -> dict[str, Any]:
    if reply.tool_call:
        call = reply.tool_call
        part: dict[str, Any] = {
            "functionCall": {"id": call.call_id, "name": call.name, "args": call.arguments}
        }
    else:
        part = {"text": reply.text}
    return {
        "candidates": [
            {"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}
        ],
        "usageMetadata": {
            "promptTokenCount": USAGE.input_tokens,
            "candidatesTokenCount": USAGE.output_tokens,
            "totalTokenCount": USAGE.total_tokens,
        },
        "modelVersion": turn.model,
        "responseId": new_id("resp_"),
    }


def render_reply(turn: Turn, reply: Reply, *, sse_stream: bool) -> Rendered:
    response = _response(turn, reply)
    if not turn.stream:
        return Rendered(200, json_body(response))
    if sse_stream:
        return Rendered(200, sse([(None, response)]), "text/event-stream")
    return Rendered(200, json_body([response]))


_STATUS = {
    400: "INVALID_ARGUMENT",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}


#: The Gemini API's own text for a quota it names (``QuotaFailure``), as it sends it.
_QUOTA_TEXT = (
    "FAKE: You exceeded your current quota, please check your plan and billing details.\n"
    "* Quota exceeded for quota metric '{metric}' and limit '{quota_id}'"
)


def render_failure(failure: Failure, request_id: str) -> Rendered:
    default = (
        "FAKE: Resource has been exhausted (e.g. check quota)."
        if failure.status == 429
        else "FAKE: An internal error has occurred."
    )
    metric = "generativelanguage.googleapis.com/generate_content_free_tier_requests"
    if failure.quota_id:
        default = _QUOTA_TEXT.format(metric=metric, quota_id=failure.quota_id)
    error: dict[str, Any] = {
        "code": failure.status,
        "message": failure.message or default,
        "status": _STATUS.get(failure.status, "UNKNOWN"),
    }
    details: list[dict[str, Any]] = []
    if failure.quota_id:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.QuotaFailure",
                "violations": [
                    {"quotaMetric": metric, "quotaId": failure.quota_id, "quotaValue": "50"}
                ],
            }
        )
    if failure.retry_after_s is not None:
        details.append(
            {
                "@type": "type.googleapis.com/google.rpc.RetryInfo",
                "retryDelay": f"{failure.retry_after_s:g}s",
            }
        )
    if details:
        error["details"] = details
    return Rendered(
        failure.status, json_body({"error": error}), headers=failure_headers(failure, request_id)
    )


def count_tokens() -> Rendered:
    return Rendered(200, json_body({"totalTokens": USAGE.input_tokens}))


def model_list(models: list[str]) -> Rendered:
    return Rendered(
        200,
        json_body(
            {
                "models": [
                    {
                        "name": f"models/{m}",
                        "displayName": m,
                        "supportedGenerationMethods": ["generateContent"],
                    }
                    for m in models
                ]
            }
        ),
    )
