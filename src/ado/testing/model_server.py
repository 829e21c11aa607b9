"""A scripted model server that the real agent CLIs can talk to, offline.

``ScriptedModelServer`` listens on 127.0.0.1 (a free port) in a background thread and
speaks the wire APIs the agent CLIs call:

- Anthropic Messages ``POST /v1/messages`` (+ ``/count_tokens``): claude
- OpenAI Responses ``POST /v1/responses``: codex
- OpenAI Chat Completions ``POST /v1/chat/completions``: opencode, copilot
- Gemini ``POST /v1beta/models/{model}:streamGenerateContent|generateContent|countTokens``
- ``GET .../models`` lists; any other request is recorded and answered ``404`` JSON.

What it answers is scripted with behaviours (``ado.testing.behaviours``)::

    with ScriptedModelServer(default=WriteFile("/tmp/x/hello.txt", "hi")) as server:
        run_agent(base_url=server.url)
        assert server.wait_for_requests(2)

Each model request takes the next behaviour queued with ``script(...)``, or ``default``
when the queue is empty. A request that carries the result of a tool call the server
asked for is answered by the behaviour that asked (``WriteFile`` -> "DONE: wrote x",
``WriteThenLimit`` -> a 429).
A request that offers no tools (titles, summaries) gets a short text without consuming
the queue, unless the behaviour due is a failure (``RateLimit``, ``ServerError``,
``Hang``), which then answers it too. Every request is recorded (secrets redacted).
``quota_headers`` go on every model answer: the usage-window headers subscription APIs
send (``ado.testing.quota_headers``), which the real CLIs report.
"""

from __future__ import annotations

import gzip
import json
import logging
import re
import socket
import threading
import time
import zlib
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

from ado.testing import wire_anthropic, wire_gemini, wire_openai
from ado.testing.behaviours import Behaviour, Failure, Reply, Text, Turn
from ado.testing.wire_common import Rendered, json_body, new_id

__all__ = ["RecordedRequest", "ScriptedModelServer"]

log = logging.getLogger(__name__)

_SECRET_HEADERS = frozenset(
    {"authorization", "x-api-key", "x-goog-api-key", "api-key", "cookie", "proxy-authorization"}
)
_SECRET_QUERY = frozenset({"key", "api_key", "access_token"})
_GEMINI = re.compile(r"/models/(?P<model>[^/:]+):(?P<method>\w+)$")
REDACTED = "<redacted>"


@dataclass(frozen=True)
class RecordedRequest:
    """One request the server received. ``api`` is None for non-model requests."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    api: str | None
    #: what answered: a behaviour's class name, "aux", "follow_up", "count_tokens",
    #: "models", "ping", or "unknown"
    answered_by: str
    status: int | None
    at: float

    @property
    def is_model_call(self) -> bool:
        return self.api is not None and self.answered_by != "count_tokens"


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False
    request_queue_size = 128  # socketserver's 5 resets bursts of parallel agents
    scripted: ScriptedModelServer


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server: _HTTPServer

    def setup(self) -> None:
        super().setup()
        self.server.scripted._track(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.server.scripted._track(self.connection, add=False)

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("model server: " + format, *args)

    def do_GET(self) -> None:
        self._handle()

    def do_POST(self) -> None:
        self._handle()

    def do_PUT(self) -> None:
        self._handle()

    def do_DELETE(self) -> None:
        self._handle()

    def do_HEAD(self) -> None:
        self._handle()

    def _read_body(self) -> bytes:
        if self.headers.get("transfer-encoding", "").lower() == "chunked":
            chunks = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    self.rfile.readline()
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
            raw = b"".join(chunks)
        else:
            raw = self.rfile.read(int(self.headers.get("content-length") or 0))
        encoding = self.headers.get("content-encoding", "").lower()
        try:
            if encoding == "gzip":
                return gzip.decompress(raw)
            if encoding == "deflate":
                return zlib.decompress(raw)
            if encoding == "zstd":
                from compression import zstd  # type: ignore[import-not-found]  # 3.14+

                return bytes(zstd.decompress(raw))
        except Exception:
            log.warning("model server: could not decode %s request body", encoding)
        return raw

    def _handle(self) -> None:
        split = urlsplit(self.path)
        raw = self._read_body()
        try:
            body: Any = json.loads(raw) if raw else None
        except ValueError:
            body = raw.decode(errors="replace")
        query = dict(parse_qsl(split.query))
        scripted = self.server.scripted
        api, answered_by, rendered = scripted._dispatch(self.command, split.path, query, body)
        scripted._record(
            RecordedRequest(
                method=self.command,
                path=split.path,
                query={k: REDACTED if k in _SECRET_QUERY else v for k, v in query.items()},
                headers={
                    k.lower(): REDACTED if k.lower() in _SECRET_HEADERS else v
                    for k, v in self.headers.items()
                },
                body=body,
                api=api,
                answered_by=answered_by,
                status=rendered.status if rendered else None,
                at=time.monotonic(),
            )
        )
        if rendered is None:  # Hang: answer nothing until the server stops
            scripted._stopping.wait()
            self.close_connection = True
            return
        try:
            self.send_response(rendered.status)
            self.send_header("content-type", rendered.content_type)
            self.send_header("content-length", str(len(rendered.body)))
            if rendered.content_type == "text/event-stream":
                self.send_header("cache-control", "no-cache")
            extra = scripted.quota_headers if api is not None else {}
            for name, value in {**extra, **rendered.headers}.items():
                self.send_header(name, value)
            self.end_headers()
            if self.command != "HEAD":
                self.wfile.write(rendered.body)
        except OSError:
            self.close_connection = True


class ScriptedModelServer:
    """Thread-safe scripted model server; see the module docstring."""

    def __init__(
        self,
        default: Behaviour | None = None,
        *,
        models: Iterable[str] = ("fake-model",),
        aux_text: str = "Fake title",
        quota_headers: dict[str, str] | None = None,
    ) -> None:
        self.default: Behaviour = default or Text("DONE")
        #: Sent on every model answer: usage-window headers (``ado.testing.quota_headers``).
        self.quota_headers: dict[str, str] = dict(quota_headers or {})
        self.models = list(models)
        self.aux_text = aux_text
        self._lock = threading.Condition()
        self._queue: deque[Behaviour] = deque()
        self._issued: dict[str, Behaviour] = {}
        self._requests: list[RecordedRequest] = []
        self._connections: set[socket.socket] = set()
        self._stopping = threading.Event()
        self._httpd: _HTTPServer | None = None
        self._thread: threading.Thread | None = None

    # --- lifecycle -------------------------------------------------------------------------

    def start(self) -> ScriptedModelServer:
        httpd = _HTTPServer(("127.0.0.1", 0), _Handler)
        httpd.scripted = self
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._httpd is None:
            return
        self._stopping.set()
        self._httpd.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        self._httpd.server_close()
        if self._thread:
            self._thread.join(timeout=5)
        self._httpd = None

    def __enter__(self) -> ScriptedModelServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("ScriptedModelServer is not started")
        return int(self._httpd.server_address[1])

    @property
    def url(self) -> str:
        """``http://127.0.0.1:PORT`` (no path; add ``/v1`` for OpenAI-style base URLs)."""
        return f"http://127.0.0.1:{self.port}"

    # --- scripting -------------------------------------------------------------------------

    def script(self, *behaviours: Behaviour) -> None:
        """Queue behaviours, one per model request, before falling back to ``default``."""
        with self._lock:
            self._queue.extend(behaviours)

    def set_quota_headers(self, headers: dict[str, str]) -> None:
        """Usage-window headers for every later model answer (``ado.testing.quota_headers``)."""
        with self._lock:
            self.quota_headers = dict(headers)

    def set_default(self, behaviour: Behaviour) -> None:
        with self._lock:
            self.default = behaviour

    # --- recorded requests -----------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._requests)

    @property
    def model_requests(self) -> list[RecordedRequest]:
        """Requests for a model answer (not token counts, model lists or telemetry)."""
        return [r for r in self.requests if r.is_model_call]

    def unknown_requests(self) -> list[RecordedRequest]:
        return [r for r in self.requests if r.answered_by == "unknown"]

    def wait_for(
        self, predicate: Callable[[list[RecordedRequest]], bool], timeout: float = 10
    ) -> bool:
        """Wait until ``predicate(requests)`` holds; False on timeout."""
        with self._lock:
            return self._lock.wait_for(lambda: predicate(self._requests), timeout)

    def wait_for_requests(self, count: int, timeout: float = 10) -> bool:
        """Wait until at least ``count`` model requests arrived."""
        return self.wait_for(lambda rs: sum(r.is_model_call for r in rs) >= count, timeout)

    def _record(self, request: RecordedRequest) -> None:
        with self._lock:
            self._requests.append(request)
            self._lock.notify_all()

    def _track(self, conn: socket.socket, *, add: bool) -> None:
        with self._lock:
            if add:
                self._connections.add(conn)
            else:
                self._connections.discard(conn)

    # --- answering -------------------------------------------------------------------------

    def _decide(self, turn: Turn) -> tuple[str, Reply | Failure | None]:
        with self._lock:
            for result_id in turn.tool_results:
                if result_id in self._issued:
                    return "follow_up", self._issued[result_id].follow_up(turn)
            if turn.tool_results:
                return "follow_up", Reply(text="DONE")
            due = self._queue[0] if self._queue else self.default
            if not turn.tools and not due.is_failure:
                return "aux", Reply(text=self.aux_text)
            behaviour = self._queue.popleft() if self._queue else self.default
            call_id = new_id("call_fake_")
            answer = behaviour.answer(turn, call_id)
            if isinstance(answer, Reply) and answer.tool_call:
                self._issued[call_id] = behaviour
                self._issued[answer.tool_call.name] = behaviour  # Gemini may drop our id
            return type(behaviour).__name__, answer

    def _dispatch(
        self, method: str, path: str, query: dict[str, str], body: Any
    ) -> tuple[str | None, str, Rendered | None]:
        """Return (api, answered_by, rendered answer or None to hang)."""
        data = body if isinstance(body, dict) else {}
        if method in ("GET", "HEAD") and path == "/":  # claude probes HEAD / at start
            return None, "ping", Rendered(200, b"", "text/plain")
        if method == "GET" and path.rstrip("/").endswith("/models"):
            if "v1beta" in path:
                return None, "models", wire_gemini.model_list(self.models)
            return None, "models", wire_openai.model_list(self.models)
        if method == "POST" and path.endswith("/messages/count_tokens"):
            return "anthropic", "count_tokens", wire_anthropic.count_tokens()
        gemini = _GEMINI.search(path)
        if method == "POST" and gemini and gemini["method"] == "countTokens":
            return "gemini", "count_tokens", wire_gemini.count_tokens()
        if method != "POST":
            return self._unknown(method, path)
        if path.endswith("/messages"):
            turn = wire_anthropic.parse_turn(data)
            return self._answer(
                "anthropic", turn, wire_anthropic.render_reply, wire_anthropic.render_failure
            )
        if path.endswith("/responses"):
            turn = wire_openai.parse_responses_turn(data)
            return self._answer(
                "responses", turn, wire_openai.render_responses_reply, wire_openai.render_failure
            )
        if path.endswith("/chat/completions"):
            turn = wire_openai.parse_chat_turn(data)
            return self._answer(
                "chat", turn, wire_openai.render_chat_reply, wire_openai.render_failure
            )
        if gemini:
            stream = gemini["method"] == "streamGenerateContent"
            turn = wire_gemini.parse_turn(data, gemini["model"], stream)
            sse_stream = query.get("alt") == "sse"

            def render(turn: Turn, reply: Reply) -> Rendered:
                return wire_gemini.render_reply(turn, reply, sse_stream=sse_stream)

            return self._answer("gemini", turn, render, wire_gemini.render_failure)
        return self._unknown(method, path)

    def _answer(
        self,
        api: str,
        turn: Turn,
        render: Callable[[Turn, Reply], Rendered],
        fail: Callable[[Failure, str], Rendered],
    ) -> tuple[str | None, str, Rendered | None]:
        answered_by, answer = self._decide(turn)
        if answer is None:
            return api, answered_by, None
        if isinstance(answer, Reply):
            return api, answered_by, render(turn, answer)
        return api, answered_by, fail(answer, new_id("req_fake_"))

    @staticmethod
    def _unknown(method: str, path: str) -> tuple[str | None, str, Rendered | None]:
        log.info("model server: unknown request %s %s", method, path)
        body = json_body({"error": {"message": f"FAKE: no route for {method} {path}"}})
        return None, "unknown", Rendered(404, body)
