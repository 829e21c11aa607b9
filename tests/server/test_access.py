"""A real ``ado serve`` against what a hostile web page, a spoofing client or a flood sends:
foreign Host (DNS rebinding) and Origin on HTTP and WebSocket, X-Forwarded-For from an
untrusted client, WebSocket connection floods, the loopback exemption, /metrics with auth."""

from __future__ import annotations

import json
import socket
from collections.abc import Callable
from typing import Any

import httpx
import pytest
from websockets.exceptions import InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.fixtures.ado import Project
from tests.server.conftest import Server

Serve = Callable[..., Server]


def _config(project: Project, **server: Any) -> None:
    project.write_config({}, server=server)


def _get(server: Server, path: str, **headers: str) -> httpx.Response:
    with server.client() as client:
        return client.get(path, headers=headers)


def _ws(server: Server, uri: str | None = None, **kwargs: Any) -> ClientConnection:
    """A WebSocket to the server's socket, whatever name ``uri`` gives (as after DNS
    rebinding: the browser asked for evil.example, which resolved to loopback)."""
    sock = socket.create_connection((server.address.strip("[]"), server.port), timeout=10)
    ws: ClientConnection = connect(uri or server.ws_url, sock=sock, open_timeout=10, **kwargs)
    return ws


def _refused(server: Server, uri: str | None = None, **kwargs: Any) -> httpx.Response:
    """The HTTP answer to a WebSocket handshake the server refuses."""
    with pytest.raises(InvalidStatus) as refused, _ws(server, uri, **kwargs):
        pass
    response = refused.value.response
    return httpx.Response(response.status_code, headers=dict(response.headers.raw_items()))


def _hello(ws: ClientConnection) -> dict[str, Any]:
    message: dict[str, Any] = json.loads(ws.recv(timeout=10))
    assert message["type"] == "hello"
    return message


def _raw(server: Server, request: bytes) -> bytes:
    """``request`` as written, on a fresh connection; the server's whole answer."""
    with socket.create_connection((server.address.strip("[]"), server.port), timeout=10) as sock:
        sock.sendall(request)
        chunks = []
        while chunk := sock.recv(65536):
            chunks.append(chunk)
    return b"".join(chunks)


def test_loopback_answers_only_its_own_names(project: Project, serve: Serve) -> None:
    _config(project)
    server = serve()
    port = server.port
    assert _get(server, "/api/tasks").status_code == 200  # Host: 127.0.0.1:port
    for host in (f"localhost:{port}", f"LOCALHOST:{port}", f"[::1]:{port}", f"127.0.0.1:{port}"):
        assert _get(server, "/api/tasks", Host=host).status_code == 200, host
    for host in (
        f"evil.example:{port}",  # DNS rebinding
        "evil.example",
        f"localhost.:{port}",  # trailing dot
        "localhost",  # no port (the server is not on 80)
        f"localhost:{port + 1}",  # another port
        f"::1:{port}",  # IPv6 without brackets
        f"[::1]x:{port}",
        f"localhost:{port}@evil.example",
        f"127.0.0.1:{port}, evil.example",
        "",
    ):
        refused = _get(server, "/api/tasks", Host=host)
        assert refused.status_code == 400, host
        assert refused.json()["error"]["code"] == "host_not_allowed"
        assert "server.allowedHosts" in refused.json()["error"]["message"] or not host
    # a rebinding page cannot submit a task
    with server.client() as client:
        evil = {"Host": f"evil.example:{port}"}
        assert (
            client.post("/api/tasks", json={"prompt": "x", "yolo": True}, headers=evil).status_code
            == 400
        )
        assert client.get("/api/tasks").json()["items"] == []
    # liveness probes come by any address; the process details do not
    assert _get(server, "/health", Host="10.1.2.3:8080").status_code == 200
    assert _get(server, "/health/ready", Host="10.1.2.3:8080").status_code == 200
    assert _get(server, "/health/info", Host="evil.example").status_code == 400
    assert _get(server, "/", Host="evil.example").status_code == 400
    assert _get(server, "/metrics", Host="evil.example").status_code == 400


def test_a_doubled_or_missing_host_is_refused(project: Project, serve: Serve) -> None:
    _config(project)
    server = serve()
    own = f"127.0.0.1:{server.port}".encode()
    doubled = _raw(
        server,
        b"GET /api/tasks HTTP/1.1\r\nHost: " + own + b"\r\nHost: evil.example\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert doubled.startswith(b"HTTP/1.1 400"), doubled[:200]
    evil_first = _raw(
        server,
        b"GET /api/tasks HTTP/1.1\r\nHost: evil.example\r\nHost: " + own + b"\r\n"
        b"Connection: close\r\n\r\n",
    )
    assert evil_first.startswith(b"HTTP/1.1 400"), evil_first[:200]
    missing = _raw(server, b"GET /api/tasks HTTP/1.0\r\n\r\n")
    assert missing.startswith(b"HTTP/1.1 400"), missing[:200]
    fine = _raw(
        server, b"GET /api/tasks HTTP/1.1\r\nHost: " + own + b"\r\nConnection: close\r\n\r\n"
    )
    assert fine.startswith(b"HTTP/1.1 200"), fine[:200]


def test_the_websocket_refuses_foreign_hosts_and_origins(project: Project, serve: Serve) -> None:
    _config(project, allowedOrigins=["http://localhost:5173"])
    server = serve()
    port = server.port
    # DNS rebinding: the page's own name, the server's socket
    refused = _refused(server, f"ws://evil.example:{port}/api/ws?after=0")
    assert refused.status_code == 400
    assert _refused(server, f"ws://localhost.:{port}/api/ws").status_code == 400
    # a page of another site, even on this machine
    for origin in (
        "http://evil.example",
        f"http://evil.example:{port}",
        "http://localhost:3000",
        "null",
        "file://",
        f"http://127.0.0.1:{port}.evil.example",
        f"https://127.0.0.1:{port}@evil.example",
    ):
        refused = _refused(server, f"{server.ws_url}?after=0", origin=origin)
        assert refused.status_code == 403, origin
    # the server's own pages, the configured origin, and clients that are not browsers
    allowed: tuple[str | None, ...] = (
        f"http://127.0.0.1:{port}",
        "http://localhost:5173",
        "HTTP://LOCALHOST:5173",
        None,
    )
    for page in allowed:
        with _ws(server, f"{server.ws_url}?after=0", origin=page) as ws:
            _hello(ws)
    with _ws(server, f"ws://localhost:{port}/api/ws", origin=f"http://localhost:{port}") as ws:
        _hello(ws)
    with _ws(server, f"ws://[::1]:{port}/api/ws", origin=f"http://[::1]:{port}") as ws:
        _hello(ws)


def test_writes_from_foreign_origins_are_refused(project: Project, serve: Serve) -> None:
    _config(project)
    server = serve()
    with server.client() as client:
        for origin in ("http://evil.example", "null", f"http://localhost:{server.port + 1}"):
            refused = client.post("/api/tasks", json={"prompt": "x"}, headers={"Origin": origin})
            assert refused.status_code == 403, origin
            assert refused.json()["error"]["code"] == "origin_not_allowed"
            # a "simple" cross-site request, which a browser sends without asking first
            cancel = client.post("/api/tasks/1/cancel", headers={"Origin": origin})
            assert cancel.status_code == 403
        assert client.get("/api/tasks").json()["items"] == []
        # reads carry no Origin check (the browser keeps the answer from the page)
        assert (
            client.get("/api/tasks", headers={"Origin": "http://evil.example"}).status_code == 200
        )
        own = client.post(
            "/api/tasks",
            json={"prompt": "x"},
            headers={"Origin": f"http://127.0.0.1:{server.port}"},
        )
        assert own.status_code == 201


def test_x_forwarded_for_is_ignored_from_untrusted_clients(project: Project, serve: Serve) -> None:
    _config(project, rateLimit=3, exemptLoopback=False)
    server = serve()
    statuses = [
        _get(server, "/api/tasks", **{"X-Forwarded-For": f"10.0.0.{i}"}).status_code
        for i in range(5)
    ]
    assert statuses == [200, 200, 200, 429, 429]  # one bucket: the peer's


def test_x_forwarded_for_from_a_trusted_proxy(project: Project, serve: Serve) -> None:
    _config(project, rateLimit=2, trustedProxies=["127.0.0.0/8"])
    server = serve()

    def status(forwarded: str) -> int:
        return _get(server, "/api/tasks", **{"X-Forwarded-For": forwarded}).status_code

    assert [status("203.0.113.7") for _ in range(3)] == [200, 200, 429]
    assert status("198.51.100.1") == 200  # another client, its own bucket
    # what the client wrote itself is on the left: the proxy appended the real address
    assert status("1.2.3.4, 203.0.113.7") == 429
    assert status("garbage, 203.0.113.7") == 429
    # a chain of trusted proxies is skipped
    assert status("203.0.113.7, 127.0.0.5") == 429
    # loopback without a forwarded client: exempt (no token is needed on loopback)
    assert all(_get(server, "/api/tasks").status_code == 200 for _ in range(4))


def test_loopback_is_exempt_unless_configured(project: Project, serve: Serve) -> None:
    _config(project, rateLimit=2)
    server = serve()
    answers = [_get(server, "/api/tasks") for _ in range(6)]
    assert [a.status_code for a in answers] == [200] * 6
    assert "x-ratelimit-limit" not in answers[0].headers


def test_websocket_connection_floods_are_limited(project: Project, serve: Serve) -> None:
    _config(project, rateLimit=4, exemptLoopback=False)
    server = serve()
    for _ in range(4):
        with _ws(server) as ws:
            _hello(ws)
    refused = _refused(server)
    assert refused.status_code == 429
    assert int(refused.headers["retry-after"]) >= 1
    assert _get(server, "/api/tasks").status_code == 429  # the same client, the same bucket


def test_rate_limit_off(project: Project, serve: Serve) -> None:
    _config(project, rateLimit=0, exemptLoopback=False)
    server = serve()
    answers = [_get(server, "/api/tasks") for _ in range(5)]
    assert {a.status_code for a in answers} == {200}
    assert "x-ratelimit-limit" not in answers[0].headers


def _token(project: Project) -> str:
    store = project.store()
    try:
        _, token = store.create_token("ci")
    finally:
        store.close()
    return token


def test_metrics_and_info_need_the_token_when_auth_is_on(project: Project, serve: Serve) -> None:
    _config(project)
    token = _token(project)
    server = serve(host="0.0.0.0")
    bearer = {"Authorization": f"Bearer {token}"}
    for path in ("/metrics", "/health/info", "/api/tasks"):
        refused = _get(server, path)
        assert refused.status_code == 401, path
        assert refused.json()["error"]["code"] == "unauthorized"
        assert _get(server, path, Authorization="Bearer ado_wrong").status_code == 401
        assert _get(server, path, **bearer).status_code == 200, path
    assert _get(server, "/metrics", **bearer).headers["content-type"].startswith("text/plain")
    assert _get(server, "/health").status_code == 200
    assert _get(server, "/health/ready").status_code == 200
    # bound beyond loopback without server.allowedHosts: any name (the token protects)
    assert _get(server, "/api/tasks", Host="ado.lan:1234", **bearer).status_code == 200
    # auth on: loopback clients are rate limited like anyone
    assert "x-ratelimit-limit" in _get(server, "/api/tasks", **bearer).headers


def test_public_metrics_and_allowed_hosts_beyond_loopback(project: Project, serve: Serve) -> None:
    _config(project, publicMetrics=True, allowedHosts=["ado.lan", "ci.example:8443"])
    token = _token(project)
    server = serve(host="0.0.0.0")
    assert _get(server, "/metrics").status_code == 200
    assert _get(server, "/health/info").json()["pid"] == server.proc.pid
    assert _get(server, "/api/tasks").status_code == 401
    bearer = {"Authorization": f"Bearer {token}"}
    for host in (
        "ado.lan",
        "ado.lan:80",
        "ADO.LAN:9999",
        "ci.example:8443",
        f"localhost:{server.port}",
    ):
        assert _get(server, "/api/tasks", Host=host, **bearer).status_code == 200, host
    for host in ("evil.example", "ci.example:8444", "ci.example", "ado.lan.", "sub.ado.lan"):
        assert _get(server, "/api/tasks", Host=host, **bearer).status_code == 400, host
    # the WebSocket under a configured name, with its page's origin
    with _ws(
        server,
        f"ws://ado.lan:{server.port}/api/ws?token={token}",
        origin=f"http://ado.lan:{server.port}",
    ) as ws:
        _hello(ws)
    assert (
        _refused(server, f"ws://evil.example:{server.port}/api/ws?token={token}").status_code == 400
    )


def test_ipv6_loopback(project: Project, serve: Serve) -> None:
    _config(project)
    server = serve(host="::1")
    port = server.port
    assert _get(server, "/api/tasks").status_code == 200  # Host: [::1]:port
    assert _get(server, "/api/tasks", Host=f"localhost:{port}").status_code == 200
    assert _get(server, "/api/tasks", Host=f"[::2]:{port}").status_code == 400
    assert _get(server, "/api/tasks", Host=f"[::1]:{port + 1}").status_code == 400
    with _ws(server, origin=f"http://[::1]:{port}") as ws:
        _hello(ws)
    assert _refused(server, origin="http://[::2]:80").status_code == 403


def test_settings_validate_the_server_section(project: Project) -> None:
    for bad, named in (
        ({"allowedHosts": ["http://evil.example"]}, "server.allowedHosts"),
        ({"allowedOrigins": ["evil.example"]}, "server.allowedOrigins"),
        ({"trustedProxies": ["proxy.local"]}, "server.trustedProxies"),
        ({"rateLimit": -1}, "server.rateLimit"),
    ):
        _config(project, **bad)
        result = project.run("config", "validate")
        assert result.returncode != 0, bad
        assert named in result.stdout + result.stderr, (bad, result.stdout, result.stderr)
        assert "Traceback" not in result.stderr
