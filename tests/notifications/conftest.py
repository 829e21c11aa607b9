"""Real receivers on 127.0.0.1: an HTTP server (Slack, webhooks) and SMTP servers (aiosmtpd)."""

from __future__ import annotations

import ssl
import subprocess
import threading
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.support import free_port

# -- HTTP -------------------------------------------------------------------------------------


@dataclass
class Received:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes
    at: float


@dataclass
class Reply:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)
    hang: bool = False


class Receiver:
    """Records every request; answers each path from its script (the last reply repeats)."""

    def __init__(self) -> None:
        self.requests: list[Received] = []
        self.scripts: dict[str, list[Reply]] = {}
        self.release = threading.Event()
        self.changed = threading.Condition()
        handler = self._handler()
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self.thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, path: str, *replies: Reply) -> str:
        self.scripts[path] = list(replies)
        return self.url(path)

    def at(self, path: str) -> list[Received]:
        return [r for r in self.requests if r.path == path]

    def wait_for(self, path: str, count: int = 1, timeout: float = 20) -> list[Received]:
        """The requests to ``path`` once there are ``count`` of them (woken by each one)."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.at(path)) >= count, timeout):
                raise AssertionError(f"{path}: {len(self.at(path))} of {count} requests")
        return self.at(path)

    def _reply_for(self, path: str) -> Reply:
        script = self.scripts.get(path)
        if not script:
            return Reply()
        return script.pop(0) if len(script) > 1 else script[0]

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _serve(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length)
                with receiver.changed:
                    receiver.requests.append(
                        Received(
                            self.command, self.path, dict(self.headers), body, time.monotonic()
                        )
                    )
                    receiver.changed.notify_all()
                reply = receiver._reply_for(self.path)
                if reply.hang:
                    receiver.release.wait(60)
                    return
                data = reply.body.encode()
                self.send_response(reply.status)
                for key, value in reply.headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            do_POST = do_PUT = _serve

            def log_message(self, format: str, *args: Any) -> None:
                pass

        return Handler


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rec:
        yield rec


@pytest.fixture
def closed_port() -> int:
    """A port nothing listens on: connections are refused."""
    return free_port()


# -- SMTP -------------------------------------------------------------------------------------

SMTP_USER, SMTP_PASSWORD = "ado", "smtp-s3cret-pw"


class Inbox:
    """The messages accepted; ``answer`` scripts refusals (``451 4.3.0 try again later``)."""

    def __init__(self) -> None:
        self.messages: list[Any] = []
        self.changed = threading.Condition()
        self.replies: dict[str, list[str]] = {}
        #: Every MAIL, RCPT and DATA command received, in order.
        self.commands: list[str] = []

    def answer(self, command: str, *replies: str) -> None:
        """Answer the next ``command``s (``MAIL``, ``RCPT``, ``DATA``) with ``replies``, one
        each, then as usual."""
        self.replies[command] = list(replies)

    def _scripted(self, command: str) -> str | None:
        with self.changed:
            self.commands.append(command)
            self.changed.notify_all()
        script = self.replies.get(command)
        return script.pop(0) if script else None

    async def handle_MAIL(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self._scripted("MAIL")
        if reply is None:
            envelope.mail_from = address
            envelope.mail_options.extend(options)
        return reply or "250 OK"

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: Any
    ) -> str:
        reply = self._scripted("RCPT")
        if reply is None:
            envelope.rcpt_tos.append(address)
            envelope.rcpt_options.extend(options)
        return reply or "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        from email import message_from_bytes, policy

        reply = self._scripted("DATA")
        if reply is not None:
            return reply
        with self.changed:
            self.messages.append(
                (envelope, message_from_bytes(envelope.original_content, policy=policy.default))
            )
            self.changed.notify_all()
        return "250 Message accepted for delivery"

    def wait(self, count: int = 1, timeout: float = 20) -> list[Any]:
        """The messages once ``count`` have arrived (woken by each one)."""
        with self.changed:
            if not self.changed.wait_for(lambda: len(self.messages) >= count, timeout):
                raise AssertionError(f"{len(self.messages)} of {count} emails arrived")
        return [m for _, m in self.messages]


@dataclass
class SmtpServer:
    port: int
    inbox: Inbox
    cert: Path | None = None


@pytest.fixture(scope="session")
def tls_cert(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 / localhost (openssl CLI)."""
    root = tmp_path_factory.mktemp("tls")
    cert, key = root / "cert.pem", root / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2",
            "-keyout", str(key), "-out", str(cert), "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key


def _authenticator(server: Any, session: Any, envelope: Any, mechanism: str, auth: Any) -> Any:
    from aiosmtpd.smtp import AuthResult

    ok = auth.login == SMTP_USER.encode() and auth.password == SMTP_PASSWORD.encode()
    return AuthResult(success=ok, handled=False)


@pytest.fixture
def smtp_factory(tls_cert: tuple[Path, Path]) -> Iterator[Callable[..., SmtpServer]]:
    from aiosmtpd.controller import Controller

    controllers: list[Any] = []

    def start(*, starttls: bool = False, auth: bool = False) -> SmtpServer:
        inbox = Inbox()
        port = free_port()
        kwargs: dict[str, Any] = {}
        if starttls:
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(*map(str, tls_cert))
            kwargs.update(tls_context=context, require_starttls=True)
        if auth:
            kwargs.update(authenticator=_authenticator, auth_require_tls=starttls)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # "AUTH without TLS" warning: a test server
            controller = Controller(inbox, hostname="127.0.0.1", port=port, **kwargs)
            controller.start()
        controllers.append(controller)
        return SmtpServer(port, inbox, tls_cert[0] if starttls else None)

    yield start
    for controller in controllers:
        controller.stop()


@pytest.fixture
def smtp_server(smtp_factory: Callable[..., SmtpServer]) -> SmtpServer:
    return smtp_factory()
