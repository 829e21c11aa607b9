"""The scripted model server, driven with stdlib HTTP clients, one wire API at a time."""

from __future__ import annotations

import json
import socket
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest

from ado.testing import (
    Hang,
    QuotaExceeded,
    RateLimit,
    ScriptedModelServer,
    ServerError,
    Text,
    WriteFile,
)

PATH = "/work/repo/hello.txt"


@pytest.fixture
def server() -> Iterator[ScriptedModelServer]:
    with ScriptedModelServer(default=WriteFile(PATH, "hi")) as running:
        yield running


def post(
    server: ScriptedModelServer,
    path: str,
    body: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(
        server.url + path,
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json", **(headers or {})},
        method="POST",
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, dict(response.headers.items()), response.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers.items()), error.read()


def sse_data(raw: bytes) -> list[Any]:
    events = []
    for line in raw.decode().splitlines():
        if line.startswith("data: ") and line != "data: [DONE]":
            events.append(json.loads(line[len("data: ") :]))
    return events


# --- Anthropic ---------------------------------------------------------------------------

CLAUDE_TOOLS = [
    {"name": "Bash", "input_schema": {"properties": {"command": {}}}},
    {"name": "Write", "input_schema": {"properties": {"file_path": {}, "content": {}}}},
]


def test_anthropic_stream_tool_call_then_final_text(server: ScriptedModelServer) -> None:
    body: dict[str, Any] = {
        "model": "claude-sonnet-4-5",
        "stream": True,
        "tools": CLAUDE_TOOLS,
        "messages": [{"role": "user", "content": "write it"}],
    }
    status, headers, raw = post(server, "/v1/messages?beta=true", body)
    assert status == 200
    assert headers["content-type"] == "text/event-stream"
    events = sse_data(raw)
    assert next(e["type"] for e in events) == "message_start"
    assert events[0]["message"]["usage"]["input_tokens"] == 123
    block = next(e for e in events if e["type"] == "content_block_start")["content_block"]
    assert block["type"] == "tool_use" and block["name"] == "Write"
    delta = next(e for e in events if e["type"] == "content_block_delta")["delta"]
    assert json.loads(delta["partial_json"]) == {"file_path": PATH, "content": "hi"}
    message_delta = next(e for e in events if e["type"] == "message_delta")
    assert message_delta["delta"]["stop_reason"] == "tool_use"
    assert message_delta["usage"]["output_tokens"] == 45

    body["messages"] += [
        {"role": "assistant", "content": [block]},
        {"role": "user", "content": [{"type": "tool_result", "tool_use_id": block["id"]}]},
    ]
    status, _, raw = post(server, "/v1/messages", body)
    text = next(e for e in sse_data(raw) if e["type"] == "content_block_delta")["delta"]["text"]
    assert text == "DONE: wrote hello.txt"
    assert [r.answered_by for r in server.model_requests] == ["WriteFile", "follow_up"]


def test_anthropic_non_stream_and_count_tokens(server: ScriptedModelServer) -> None:
    server.script(Text("hello"))
    body = {"model": "m", "tools": CLAUDE_TOOLS, "messages": [{"role": "user", "content": "x"}]}
    status, _, raw = post(server, "/v1/messages", body)
    message = json.loads(raw)
    assert status == 200
    assert message["content"] == [{"type": "text", "text": "hello"}]
    assert message["stop_reason"] == "end_turn"
    assert message["usage"]["input_tokens"] == 123 and message["usage"]["output_tokens"] == 45
    _, _, raw = post(server, "/v1/messages/count_tokens", body)
    assert json.loads(raw) == {"input_tokens": 123}
    assert len(server.model_requests) == 1


# --- OpenAI Responses --------------------------------------------------------------------


def test_responses_shell_tool_call_then_final_text(server: ScriptedModelServer) -> None:
    tools = [
        {"type": "function", "name": "exec_command", "parameters": {"properties": {"cmd": {}}}}
    ]
    user = {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "x"}]}
    body: dict[str, Any] = {"model": "gpt-5.5", "stream": True, "tools": tools, "input": [user]}
    status, _, raw = post(server, "/v1/responses", body)
    assert status == 200
    events = sse_data(raw)
    done = next(e for e in events if e["type"] == "response.output_item.done")["item"]
    assert done["type"] == "function_call" and done["name"] == "exec_command"
    assert json.loads(done["arguments"])["cmd"] == f"printf '%s' hi > {PATH}"
    completed = events[-1]
    assert completed["type"] == "response.completed"
    assert completed["response"]["usage"]["input_tokens"] == 123
    assert completed["response"]["usage"]["output_tokens"] == 45

    body["input"] += [done, {"type": "function_call_output", "call_id": done["call_id"]}]
    _, _, raw = post(server, "/v1/responses", body)
    item = next(e for e in sse_data(raw) if e["type"] == "response.output_item.done")["item"]
    assert item["content"][0]["text"] == "DONE: wrote hello.txt"


# --- OpenAI Chat Completions -------------------------------------------------------------


def chat_tools(name: str, *params: str) -> list[dict[str, Any]]:
    schema: dict[str, Any] = {"properties": {p: {} for p in params}}
    return [{"type": "function", "function": {"name": name, "parameters": schema}}]


def test_chat_stream_tool_call_then_final_text(server: ScriptedModelServer) -> None:
    body: dict[str, Any] = {
        "model": "fake-model",
        "stream": True,
        "tools": chat_tools("write", "filePath", "content"),
        "messages": [{"role": "user", "content": "x"}],
    }
    _, _, raw = post(server, "/v1/chat/completions", body)
    chunks = sse_data(raw)
    assert raw.decode().rstrip().endswith("data: [DONE]")
    call = next(c for c in chunks if c["choices"][0]["delta"].get("tool_calls"))
    call = call["choices"][0]["delta"]["tool_calls"][0]
    assert json.loads(call["function"]["arguments"]) == {"filePath": PATH, "content": "hi"}
    assert chunks[-1]["choices"][0]["finish_reason"] == "tool_calls"
    assert chunks[-1]["usage"]["prompt_tokens"] == 123
    assert chunks[-1]["usage"]["completion_tokens"] == 45

    body["messages"] += [
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "tool_call_id": call["id"], "content": "ok"},
    ]
    _, _, raw = post(server, "/v1/chat/completions", body)
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in sse_data(raw))
    assert text == "DONE: wrote hello.txt"


def test_chat_non_stream_copilot_create_tool(server: ScriptedModelServer) -> None:
    body = {"model": "gpt-4.1", "tools": chat_tools("create", "path", "file_text"), "messages": []}
    _, _, raw = post(server, "/v1/chat/completions", body)
    choice = json.loads(raw)["choices"][0]
    assert choice["finish_reason"] == "tool_calls"
    arguments = json.loads(choice["message"]["tool_calls"][0]["function"]["arguments"])
    assert arguments == {"path": PATH, "file_text": "hi"}
    assert json.loads(raw)["usage"]["total_tokens"] == 168


def test_request_without_tools_is_auxiliary_and_keeps_the_queue(
    server: ScriptedModelServer,
) -> None:
    server.script(Text("first"))
    _, _, raw = post(server, "/v1/chat/completions", {"model": "m", "messages": []})
    assert json.loads(raw)["choices"][0]["message"]["content"] == "Fake title"
    body = {"model": "m", "tools": chat_tools("bash", "command"), "messages": []}
    _, _, raw = post(server, "/v1/chat/completions", body)
    assert json.loads(raw)["choices"][0]["message"]["content"] == "first"
    assert [r.answered_by for r in server.model_requests] == ["aux", "Text"]


# --- Gemini ------------------------------------------------------------------------------

GEMINI_TOOLS = [
    {
        "functionDeclarations": [
            {"name": "write_file", "parametersJsonSchema": {"properties": {"file_path": {}}}}
        ]
    }
]


def test_gemini_sse_tool_call_then_final_text(server: ScriptedModelServer) -> None:
    path = "/v1beta/models/gemini-2.5-pro:streamGenerateContent?alt=sse"
    body: dict[str, Any] = {
        "contents": [{"role": "user", "parts": [{"text": "x"}]}],
        "tools": GEMINI_TOOLS,
    }
    _, headers, raw = post(server, path, body, {"x-goog-api-key": "secret"})
    assert headers["content-type"] == "text/event-stream"
    (chunk,) = sse_data(raw)
    call = chunk["candidates"][0]["content"]["parts"][0]["functionCall"]
    assert call["name"] == "write_file"
    assert call["args"] == {"file_path": PATH, "content": "hi"}
    assert chunk["usageMetadata"] == {
        "promptTokenCount": 123,
        "candidatesTokenCount": 45,
        "totalTokenCount": 168,
    }
    response = {"functionResponse": {"id": call["id"], "name": "write_file", "response": {}}}
    body["contents"] += [
        {"role": "model", "parts": [{"functionCall": call}]},
        {"role": "user", "parts": [response]},
    ]
    _, _, raw = post(server, path, body)
    (chunk,) = sse_data(raw)
    assert chunk["candidates"][0]["content"]["parts"][0]["text"] == "DONE: wrote hello.txt"
    assert server.requests[0].headers["x-goog-api-key"] == "<redacted>"


def test_gemini_json_array_generate_content_and_count_tokens(
    server: ScriptedModelServer,
) -> None:
    server.set_default(Text("hi there"))
    body = {"contents": [], "tools": GEMINI_TOOLS}
    _, _, raw = post(server, "/v1beta/models/m:streamGenerateContent", body)
    (chunk,) = json.loads(raw)
    assert chunk["candidates"][0]["content"]["parts"][0]["text"] == "hi there"
    _, _, raw = post(server, "/v1beta/models/m:generateContent", body)
    assert json.loads(raw)["usageMetadata"]["totalTokenCount"] == 168
    _, _, raw = post(server, "/v1beta/models/m:countTokens", body)
    assert json.loads(raw) == {"totalTokens": 123}


# --- failures ----------------------------------------------------------------------------

FAILURE_CASES = [
    ("/v1/messages", {"tools": CLAUDE_TOOLS, "messages": []}, "rate_limit_error"),
    ("/v1/responses", {"tools": [{"type": "function", "name": "x"}], "input": []}, "requests"),
    ("/v1/chat/completions", {"tools": chat_tools("x"), "messages": []}, "requests"),
    ("/v1beta/models/m:streamGenerateContent?alt=sse", {"tools": GEMINI_TOOLS}, None),
]


@pytest.mark.parametrize(("path", "body", "error_type"), FAILURE_CASES)
def test_rate_limit_answers_429_with_headers(
    server: ScriptedModelServer, path: str, body: dict[str, Any], error_type: str | None
) -> None:
    server.set_default(RateLimit(retry_after_s=7, message="slow down"))
    status, headers, raw = post(server, path, body)
    assert status == 429
    assert headers["retry-after"] == "7"
    assert headers["x-ratelimit-remaining-requests"] == "0"
    assert headers["x-ratelimit-reset-requests"] == "7s"
    error = json.loads(raw)["error"]
    assert error["message"] == "slow down"
    if error_type is None:  # Gemini
        assert error["status"] == "RESOURCE_EXHAUSTED"
        assert error["details"][0]["retryDelay"] == "7s"
    else:
        assert error["type"] == error_type
    assert [r.status for r in server.model_requests] == [429]


def test_quota_exceeded_names_the_quota_the_way_each_api_does(
    server: ScriptedModelServer,
) -> None:
    quota = "GenerateRequestsPerDayPerProjectPerModel-FreeTier"
    server.set_default(QuotaExceeded(quota_id=quota, retry_after_s=3))
    gemini = "/v1beta/models/m:streamGenerateContent?alt=sse"
    status, _, raw = post(server, gemini, {"tools": GEMINI_TOOLS})
    error = json.loads(raw)["error"]
    assert status == 429 and error["status"] == "RESOURCE_EXHAUSTED"
    assert quota in error["message"]
    failure, retry = error["details"]
    assert failure["@type"] == "type.googleapis.com/google.rpc.QuotaFailure"
    assert failure["violations"][0]["quotaId"] == quota
    assert retry["retryDelay"] == "3s"
    # copilot's premium requests used up: an OpenAI-shaped 402 with its code
    server.set_default(QuotaExceeded(status=402, code="quota_exceeded"))
    chat = {"tools": chat_tools("x"), "messages": []}
    status, headers, raw = post(server, "/v1/chat/completions", chat)
    assert status == 402 and "x-ratelimit-remaining-requests" not in headers
    assert json.loads(raw)["error"]["code"] == "quota_exceeded"


@pytest.mark.parametrize(("path", "body", "_"), FAILURE_CASES)
def test_server_error(
    server: ScriptedModelServer, path: str, body: dict[str, Any], _: object
) -> None:
    server.script(ServerError(status=500))
    status, headers, raw = post(server, path, body)
    assert status == 500
    assert "retry-after" not in headers
    assert json.loads(raw)["error"]["message"]
    assert server.model_requests[0].answered_by == "ServerError"
    # the queue is spent: the next request gets the default behaviour
    status, _, _ = post(server, path, body)
    assert status == 200


def test_hang_answers_nothing_and_stop_releases_it() -> None:
    server = ScriptedModelServer(default=Hang()).start()
    outcome: list[BaseException | None] = []

    def call() -> None:
        try:
            post(server, "/v1/chat/completions", {"tools": chat_tools("x"), "messages": []})
            outcome.append(None)
        except (OSError, urllib.error.URLError) as error:
            outcome.append(error)

    client = threading.Thread(target=call)
    client.start()
    assert server.wait_for_requests(1, timeout=5)
    assert client.is_alive()  # recorded, yet not answered
    started = time.monotonic()
    server.stop()
    client.join(timeout=5)
    assert not client.is_alive()
    assert time.monotonic() - started < 5
    assert isinstance(outcome[0], OSError | urllib.error.URLError)


def test_requests_are_recorded_with_secrets_redacted(server: ScriptedModelServer) -> None:
    post(
        server,
        "/v1/messages",
        {"tools": CLAUDE_TOOLS, "messages": []},
        {"x-api-key": "sk-secret", "authorization": "Bearer sk-secret", "x-trace": "t1"},
    )
    (request,) = server.requests
    assert request.method == "POST" and request.path == "/v1/messages"
    assert request.api == "anthropic"
    assert request.headers["x-api-key"] == "<redacted>"
    assert request.headers["authorization"] == "<redacted>"
    assert request.headers["x-trace"] == "t1"
    assert request.body["tools"] == CLAUDE_TOOLS
    assert "sk-secret" not in repr(server.requests)


def test_unknown_and_auxiliary_endpoints(server: ScriptedModelServer) -> None:
    status, _, _raw = post(server, "/api/event_logging/batch", {"events": []})
    assert status == 404
    with urllib.request.urlopen(server.url + "/v1/models", timeout=5) as response:
        assert json.loads(response.read())["data"][0]["id"] == "fake-model"
    with urllib.request.urlopen(server.url + "/v1beta/models", timeout=5) as response:
        assert json.loads(response.read())["models"][0]["name"] == "models/fake-model"
    request = urllib.request.Request(server.url + "/", method="HEAD")
    with urllib.request.urlopen(request, timeout=5) as response:
        assert response.status == 200
    assert [r.answered_by for r in server.unknown_requests()] == ["unknown"]
    assert server.model_requests == []


def test_concurrent_requests_are_all_recorded(server: ScriptedModelServer) -> None:
    server.set_default(Text("ok"))
    body = {"tools": chat_tools("x"), "messages": []}
    threads = [
        threading.Thread(target=post, args=(server, "/v1/chat/completions", body))
        for _ in range(20)
    ]
    for thread in threads:
        thread.start()
    assert server.wait_for_requests(20, timeout=10)
    for thread in threads:
        thread.join()
    assert {r.status for r in server.model_requests} == {200}


def test_port_is_free_after_stop() -> None:
    with ScriptedModelServer() as server:
        port = server.port
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", port))
