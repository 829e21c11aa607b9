"""What the OpenAPI schema promises about methods and bodies is what the server answers:
405 with the path's real ``Allow``, 400 for a body that is not JSON."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
NOT_JSON = (b"{bad", b'{"prompt": ', b"[1,", b"\xff\xfe", b"nul\x00l", b"{" * 10_000)


def _concrete(template: str) -> str:
    return re.sub(r"\{provider_id\}", "codex", re.sub(r"\{(?!provider_id)[^}]+\}", "1", template))


def _schema(client: TestClient) -> dict[str, Any]:
    schema: dict[str, Any] = client.get("/api/openapi.json").json()
    return schema


def test_405_allow_lists_exactly_the_documented_methods(client: TestClient) -> None:
    for template, item in _schema(client)["paths"].items():
        documented = sorted(m.upper() for m in item)
        path = _concrete(template)
        for method in METHODS:
            if method in documented:
                continue
            response = client.request(method, path)
            assert response.status_code == 405, (method, path, response.text)
            assert response.headers["allow"] == ", ".join(documented), (method, path)
            assert response.json()["error"]["code"] == "method_not_allowed"


def test_a_get_of_a_post_only_api_path_is_405_not_the_dashboard(client: TestClient) -> None:
    response = client.get("/api/tasks/1/cancel")
    assert response.status_code == 405 and response.headers["allow"] == "POST"
    assert client.get("/api/nothing/here").status_code == 404
    assert client.post("/api/nothing/here").status_code in (404, 405)
    assert client.post("/tasks/7").headers["allow"] == "GET"  # a dashboard page


@pytest.mark.parametrize("body", NOT_JSON, ids=range(len(NOT_JSON)))
def test_a_body_that_is_not_json_is_a_documented_400(client: TestClient, body: bytes) -> None:
    schema = _schema(client)
    with_body = [
        (method.upper(), _concrete(template), operation)
        for template, item in schema["paths"].items()
        for method, operation in item.items()
        if "requestBody" in operation
    ]
    assert {m for m, _, _ in with_body} >= {"POST", "PATCH"}
    for method, path, operation in with_body:
        assert "400" in operation["responses"], (method, path)
        response = client.request(
            method, path, content=body, headers={"content-type": "application/json"}
        )
        assert response.status_code == 400, (method, path, response.text)
        error = response.json()["error"]
        assert error["code"] == "invalid_json" and "not valid JSON" in error["message"]
    assert client.get("/api/tasks").json()["items"] == []  # nothing was stored
