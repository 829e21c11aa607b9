"""Bad input against a real ``ado serve``: every answer is a 4xx in the one JSON error shape
(never a 5xx), and what was refused is not stored (issue 10, "Bad input")."""

from __future__ import annotations

import base64
import json
import os
import time
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import connect

from ado.store.views import PROMPT_EXCERPT
from ado.text import MAX_ARG_BYTES
from tests.fixtures.ado import Project
from tests.server.conftest import Server

Serve = Callable[..., Server]
BIG = 2**63
PROVIDERS: dict[str, Any] = {
    "codex": {
        "enabled": True,
        "command": "/nonexistent/codex",
        "accessModes": [{"mode": "subscription", "priority": 1}],
    }
}


@pytest.fixture
def server(project: Project, serve: Serve) -> Iterator[Server]:
    project.write_config(PROVIDERS)
    yield serve()


def _refused(response: httpx.Response, *statuses: int) -> dict[str, Any]:
    """The error body of a 4xx in the one shape; its status one of ``statuses``."""
    assert response.status_code in statuses, (response.status_code, response.text)
    body: dict[str, Any] = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"code", "message", "details"}, body
    assert body["error"]["message"], body
    error: dict[str, Any] = body["error"]
    return error


def _cursor(*parts: Any) -> str:
    raw = json.dumps(list(parts)).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _nan_cursor() -> str:
    return base64.urlsafe_b64encode(b'["-costUsd", NaN, 5]').decode().rstrip("=")


def test_integers_beyond_64_bits_are_4xx_in_paths_queries_and_cursors(server: Server) -> None:
    digits = ["9223372036854775808", "-9223372036854775809", str(10**30), "1.5", "1e3"]
    digits += ["٣", "0", "-1", "", "true"]
    with server.client() as client:
        for value in digits:
            path = f"/api/tasks/{value}" if value else "/api/tasks/%20"
            _refused(client.get(path), 404, 405, 422)
            _refused(client.get(f"{path}/events"), 404, 422)
            _refused(client.post(f"{path}/cancel"), 404, 405, 422)
            _refused(client.get("/api/tasks/1/events", params={"after": value}), 404, 422)
            _refused(client.get("/api/alerts", params={"cursor": value or "x"}), 422)
        # The largest id there can be: just not found.
        _refused(client.get(f"/api/tasks/{BIG - 1}"), 404)
        _refused(client.get(f"/api/tasks/{BIG - 1}/events"), 404)
        _refused(client.post(f"/api/tasks/{BIG - 1}/cancel"), 404)
        _refused(client.get("/api/tasks/1/events", params={"after": BIG - 1}), 404)
        assert client.get("/api/alerts", params={"cursor": str(BIG - 1)}).status_code == 200
        created = "2026-01-01T00:00:00+00:00"
        for sort, cursor in (
            ("-createdAt", _cursor("-createdAt", created, BIG)),
            ("-createdAt", _cursor("-createdAt", created, -BIG - 1)),
            ("-createdAt", _cursor("-createdAt", created, True)),
            ("-createdAt", _cursor("-createdAt", "0.5", 5)),
            ("-costUsd", _cursor("-costUsd", 10**400, 5)),
            ("-costUsd", _cursor("-costUsd", "1", 5)),
            ("-costUsd", _nan_cursor()),
            ("-createdAt", "not base64!"),
        ):
            params = {"cursor": cursor, "sort": sort}
            error = _refused(client.get("/api/tasks", params=params), 422)
            assert error["details"][0]["field"] == "cursor"
        # A huge but finite cost key is a float comparison, not an overflow.
        page = client.get(
            "/api/tasks", params={"cursor": _cursor("-costUsd", 10**30, 5), "sort": "-costUsd"}
        )
        assert page.status_code == 200, page.text
        for when in (
            "0.5",
            "-1",
            "9999-12-31T23:59:59-14:00",
            "0001-01-01T00:00:00+14:00",
            "2026-02-30",
            "",
        ):
            for name in ("since", "until"):
                _refused(client.get("/api/tasks", params={name: when}), 422)
        ok = client.get("/api/tasks", params={"since": "9999-12-31", "until": "0001-01-01"})
        assert ok.status_code == 200, ok.text
    assert "Traceback" not in server.output()


def test_the_websocket_refuses_an_after_beyond_64_bits(server: Server) -> None:
    with pytest.raises((InvalidStatus, Exception)) as refused:
        with connect(f"{server.ws_url}?after={BIG}", open_timeout=10) as ws:
            ws.recv(timeout=10)
    assert not isinstance(refused.value, TimeoutError)
    with connect(f"{server.ws_url}?after={BIG - 1}", open_timeout=10) as ws:
        assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    assert "Traceback" not in server.output()


def test_a_lone_surrogate_in_settings_is_refused_and_nothing_changes(server: Server) -> None:
    with server.client() as client:
        before = client.get("/api/settings").json()
        for patch in (
            '{"notifications": {"channels": {"webhook": {"url": "https://x.test/\\ud83d"}}}}',
            '{"notifications": {"\\udc00": 1}}',
            '{"hitl": {"escalationThresholds": {"\\ud83d\\ud83d": 1}}}',
        ):
            error = _refused(
                client.patch(
                    "/api/settings", content=patch, headers={"content-type": "application/json"}
                ),
                422,
            )
            assert "surrogate" in error["message"], error
        # A valid pair (an emoji written as its two escapes) is fine.
        ok = client.patch(
            "/api/settings",
            content='{"notifications": {"source": "ado \\ud83d\\ude00"}}',
            headers={"content-type": "application/json"},
        )
        assert ok.status_code == 200, ok.text
        assert ok.json()["notifications"]["source"] == "ado 😀"
        after = client.get("/api/settings").json()
        assert after["routing"] == before["routing"]
        # POST /api/tasks: the fast path's parser refuses them, the route names the field.
        for field, value in (
            ("cwd", '"\\ud83d"'),
            ("model", '"x\\udc00"'),
            ("providers", '["\\ud83d"]'),
            ("prompt", '"p \\ud83d"'),
        ):
            body = '{"prompt": "p", "' + field + '": ' + value + "}"
            error = _refused(
                client.post(
                    "/api/tasks", content=body, headers={"content-type": "application/json"}
                ),
                422,
            )
            assert error["details"][0]["field"].split(".")[0] == field, error
        assert client.get("/api/tasks").json()["items"] == []


def test_a_store_already_holding_a_lone_surrogate_stays_readable(
    project: Project, serve: Serve
) -> None:
    project.write_config(PROVIDERS)
    store = project.store()
    store.set_value(
        "settings.overrides",
        {"notifications": {"source": "cut \ud83d", "channels": {"webhook": {"url": None}}}},
    )
    store.close()
    server = serve()
    with server.client() as client:
        got = client.get("/api/settings")
        assert got.status_code == 200, got.text
        assert got.json()["notifications"]["source"] == "cut \ufffd"
        patched = client.patch("/api/settings", json={"routing": {"strategy": "round-robin"}})
        assert patched.status_code == 200, patched.text
        assert patched.json()["routing"]["strategy"] == "round-robin"
        assert client.get("/api/settings").status_code == 200
    assert "Traceback" not in server.output()


def test_prompt_size_is_bounded_and_listings_carry_an_excerpt(
    server: Server, project: Project
) -> None:
    # Subscribed first: the pool may finish the task before a later subscriber connects,
    # and the stream does not replay a finished task's messages.
    stack = ExitStack()
    ws = stack.enter_context(connect(server.ws_url, open_timeout=10))
    json.loads(ws.recv(timeout=10))  # hello
    with server.client() as client:
        # 50 MB: refused before it is read (413), with a Content-Length or chunked.
        huge = b'{"prompt": "' + b"x" * (50 * 2**20) + b'"}'
        _refused(
            client.post("/api/tasks", content=huge, headers={"content-type": "application/json"}),
            413,
        )

        def chunks() -> Iterator[bytes]:
            yield b'{"prompt": "'
            for _ in range(50):
                yield b"x" * 2**20
            yield b'"}'

        _refused(
            client.post(
                "/api/tasks", content=chunks(), headers={"content-type": "application/json"}
            ),
            413,
        )
        # Over the argv limit by one byte (é is two bytes of UTF-8): 422 naming the prompt.
        for prompt in ("x" * (MAX_ARG_BYTES + 1), "é" * ((MAX_ARG_BYTES + 1) // 2)):
            error = _refused(client.post("/api/tasks", json={"prompt": prompt}), 422)
            assert error["details"][0]["field"] == "prompt"
            assert "131,071" in error["message"]
        assert client.get("/api/tasks").json()["items"] == []  # nothing stored
        # At the limit exactly: accepted.
        longest = "é" * ((MAX_ARG_BYTES - 1) // 2) + "x"
        assert len(longest.encode()) == MAX_ARG_BYTES
        created = client.post("/api/tasks", json={"prompt": longest})
        assert created.status_code == 201, created.text[:300]
        assert created.json()["promptTruncated"] is True
        task_id = created.json()["id"]
        short = client.post("/api/tasks", json={"prompt": "short"}).json()["id"]
        items = {t["id"]: t for t in client.get("/api/tasks").json()["items"]}
        assert items[task_id]["prompt"] == longest[:PROMPT_EXCERPT]
        assert items[task_id]["promptTruncated"] is True
        assert items[short]["prompt"] == "short" and items[short]["promptTruncated"] is False
        detail = client.get(f"/api/tasks/{task_id}").json()
        assert detail["prompt"] == longest and detail["promptTruncated"] is False
    # The live messages are listings too.
    with stack:
        seen: dict[int, dict[str, Any]] = {}
        deadline = time.monotonic() + 60
        while task_id not in seen:
            assert time.monotonic() < deadline, f"no task message for task {task_id}"
            message = json.loads(ws.recv(timeout=30))
            if message["type"] == "task":
                seen[message["task"]["id"]] = message["task"]
        assert len(seen[task_id]["prompt"]) == PROMPT_EXCERPT
    # ado tasks list --json, from the same store.
    rows = json.loads(project.run("tasks", "list", "--json", check_code=0).stdout)
    row = next(r for r in rows if r["id"] == task_id)
    assert len(row["prompt"]) == PROMPT_EXCERPT and row["promptTruncated"] is True


def test_a_configured_prompt_limit_is_applied(project: Project, serve: Serve) -> None:
    project.write_config(PROVIDERS, orchestration={"maxPromptBytes": 10})
    server = serve()
    with server.client() as client:
        assert client.post("/api/tasks", json={"prompt": "x" * 10}).status_code == 201
        _refused(client.post("/api/tasks", json={"prompt": "x" * 11}), 422)
        _refused(client.post("/api/tasks", json={"prompt": "ééééé" + "x"}), 422)
    refused = project.run("run", "x" * 11, check_code=2)
    assert "11 bytes" in refused.stderr and "Traceback" not in refused.stderr
    for limit in (0, MAX_ARG_BYTES + 1, "lots"):
        project.write_config(PROVIDERS, orchestration={"maxPromptBytes": limit})
        bad = project.run("config", "validate", check_code=2)
        assert "maxPromptBytes" in bad.stderr


def test_notification_urls_must_be_http(server: Server) -> None:
    bad = ["ftp://hooks.test/x", "file:///etc/passwd", "javascript:alert(1)", "http://", "hooks"]
    with server.client() as client:
        for url in bad:
            for patch in (
                {"notifications": {"channels": {"webhook": {"url": url}}}},
                {"notifications": {"channels": {"slack": {"webhookUrl": url}}}},
            ):
                error = _refused(client.patch("/api/settings", json=patch), 422)
                assert "http:// or https://" in error["message"], error
                assert url not in json.dumps(error) or url in ("http://", "hooks")
        for url in ("https://hooks.test/a?b=c", "HTTP://127.0.0.1:9/x"):
            ok = client.patch(
                "/api/settings", json={"notifications": {"channels": {"webhook": {"url": url}}}}
            )
            assert ok.status_code == 200, ok.text


def test_a_task_cwd_must_stay_inside_the_allowed_roots(
    project: Project, serve: Serve, tmp_path: Any
) -> None:
    inside = project.root / "sub" / "dir"
    inside.mkdir(parents=True)
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    (project.root / "link-out").symlink_to(outside)
    (project.root / "link-in").symlink_to(inside)
    sibling = tmp_path / (project.root.name + "-evil")  # a prefix of the root's name
    sibling.mkdir()
    project.write_config(PROVIDERS)
    server = serve()
    with server.client() as client:
        for cwd in (
            "/",
            str(outside),
            "link-out",
            "../elsewhere",
            "sub/../../elsewhere",
            str(sibling),
            "sub/\0x",
        ):
            error = _refused(client.post("/api/tasks", json={"prompt": "p", "cwd": cwd}), 422)
            assert error["details"][0]["field"] == "cwd", error
        for cwd, real in (
            ("sub/dir", inside),
            (str(inside), inside),
            ("link-in", inside),
            (".", project.root),
            (str(project.root), project.root),
        ):
            created = client.post("/api/tasks", json={"prompt": "p", "cwd": cwd})
            assert created.status_code == 201, created.text
            assert created.json()["cwd"] == os.path.realpath(real)
    server.stop()
    project.write_config(PROVIDERS, server={"allowedRoots": [str(outside), "sub"]})
    server = serve()
    with server.client() as client:
        assert (
            client.post("/api/tasks", json={"prompt": "p", "cwd": str(outside)}).status_code == 201
        )
        assert client.post("/api/tasks", json={"prompt": "p", "cwd": "sub/dir"}).status_code == 201
        _refused(client.post("/api/tasks", json={"prompt": "p", "cwd": "."}), 422)


def test_unparseable_bodies_are_400_and_405_lists_every_method(server: Server) -> None:
    with server.client() as client:
        for path, method in (
            ("/api/tasks", "POST"),
            ("/api/settings", "PATCH"),
            ("/api/providers/codex", "PATCH"),
        ):
            for body in (b'{"prompt": ', b"\xff\xfe", b"{'a': 1}"):
                error = _refused(
                    client.request(
                        method, path, content=body, headers={"content-type": "application/json"}
                    ),
                    400,
                )
                assert error["code"] == "invalid_json"
        for method, path, allow in (
            ("OPTIONS", "/api/settings", "DELETE, GET, PATCH"),
            ("PUT", "/api/tasks", "GET, POST"),
            ("DELETE", "/api/tasks/1/cancel", "POST"),
        ):
            response = client.request(method, path)
            _refused(response, 405)
            assert response.headers["allow"] == allow
        schema = client.get("/api/openapi.json").json()
        for path, method in (("/api/tasks", "post"), ("/api/settings", "patch")):
            assert {"400", "413", "422"} <= set(schema["paths"][path][method]["responses"])


@pytest.mark.postgres
def test_the_same_input_on_postgresql(
    project: Project, serve: Serve, postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """PostgreSQL refuses NUL in text and integers beyond BIGINT: both are refused first."""
    monkeypatch.setenv("ADO_DATABASE_URL", postgres_url)
    project.write_config(PROVIDERS)
    server = serve()
    with server.client() as client:
        for params in ({"q": "a\0b"}, {"provider": "\0"}):
            error = _refused(client.get("/api/tasks", params=params), 422)
            assert error["details"][0]["field"] in params
        _refused(client.post("/api/tasks", json={"prompt": "p", "cwd": "a\0"}), 422)
        _refused(client.get(f"/api/tasks/{BIG}"), 422)
        _refused(client.get(f"/api/tasks/{BIG - 1}"), 404)
        _refused(client.get("/api/tasks/1/events", params={"after": BIG}), 422)
        page = client.get(
            "/api/tasks",
            params={"cursor": _cursor("-costUsd", 10**30, BIG - 1), "sort": "-costUsd"},
        )
        assert page.status_code == 200, page.text
        _refused(
            client.patch(
                "/api/settings",
                content='{"notifications": {"source": "\\ud83d"}}',
                headers={"content-type": "application/json"},
            ),
            422,
        )
        saved = client.patch("/api/settings", json={"notifications": {"source": "a\0b"}})
        assert saved.status_code < 500, saved.text
        assert client.get("/api/settings").status_code == 200
    assert "Traceback" not in server.output()
