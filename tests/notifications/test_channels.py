"""Each channel against a real receiver: Slack's format, the webhook's signed JSON, SMTP."""

from __future__ import annotations

import hashlib
import hmac
import json
from typing import Any

import pytest

from ado.notifications import Level, Notification
from ado.notifications.channels.email import EmailChannel
from ado.notifications.channels.slack import COLORS, EMOJI, SlackChannel
from ado.notifications.channels.webhook import WebhookChannel
from ado.notifications.config import EmailConfig, SlackConfig, WebhookConfig

from .conftest import SMTP_PASSWORD, SMTP_USER, Receiver, SmtpServer

NOTE = Notification(
    event="task.completed",
    title="Task 17 succeeded on codex/subscription",
    message="DONE: wrote signup.py",
    level=Level.SUCCESS,
    metadata={"task_id": 17, "provider": "codex/subscription", "cost_usd": 0.0712,
              "duration_s": 41.2},
    url="https://ado.example.com/tasks/17",
)  # fmt: skip


@pytest.mark.parametrize("level", list(Level))
async def test_slack_message_has_colour_emoji_fields_and_link(
    receiver: Receiver, level: Level
) -> None:
    url = receiver.url("/services/T000/B000/XXXX")
    config = SlackConfig(
        enabled=True, webhook_url=url, channel="#ops", username="ADO", icon_emoji=":robot_face:"
    )
    note = Notification(**{**_fields(NOTE), "level": level})
    await SlackChannel(config).send(note)

    [request] = receiver.at("/services/T000/B000/XXXX")
    body = json.loads(request.body)
    assert request.headers["Content-Type"] == "application/json"
    assert body["channel"] == "#ops" and body["username"] == "ADO"
    assert body["icon_emoji"] == ":robot_face:"
    assert EMOJI[level] in body["text"]
    [attachment] = body["attachments"]
    assert attachment["color"] == COLORS[level]
    assert attachment["title"] == f"{EMOJI[level]} Task 17 succeeded on codex/subscription"
    assert attachment["title_link"] == "https://ado.example.com/tasks/17"
    assert attachment["text"] == "DONE: wrote signup.py"
    fields = {f["title"]: f["value"] for f in attachment["fields"]}
    assert fields == {
        "Task": "17",
        "Provider": "codex/subscription",
        "Cost": "$0.07",
        "Duration": "41.2s",
    }


def test_slack_colours_follow_severity() -> None:
    assert COLORS[Level.INFO].lower() == "#1e88e5"  # blue
    assert COLORS[Level.SUCCESS].lower() == "#2eb67d"  # green
    assert COLORS[Level.WARNING].lower() == "#ecb22e"  # amber
    assert COLORS[Level.ERROR].lower() == "#e01e5a"  # red


async def test_webhook_posts_the_documented_json_with_a_verifiable_signature(
    receiver: Receiver,
) -> None:
    secret = "whsec-test-0123"
    config = WebhookConfig(
        enabled=True,
        url=receiver.url("/hook"),
        headers={"Authorization": "Bearer abc"},
        secret=secret,
    )
    await WebhookChannel(config, source="ado@test").send(NOTE)

    [request] = receiver.at("/hook")
    assert request.method == "POST"
    assert request.headers["Authorization"] == "Bearer abc"
    assert request.headers["X-ADO-Event"] == "task.completed"
    # verified as a receiver would: HMAC-SHA256 of the raw body, constant-time compare
    expected = "sha256=" + hmac.new(secret.encode(), request.body, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(request.headers["X-ADO-Signature"], expected)
    payload = json.loads(request.body)
    assert set(payload) == {"event", "title", "message", "level", "metadata", "timestamp",
                            "source"}  # fmt: skip
    assert payload["event"] == "task.completed"
    assert payload["level"] == "success"
    assert payload["source"] == "ado@test"
    assert payload["metadata"]["task_id"] == 17
    assert payload["metadata"]["url"] == "https://ado.example.com/tasks/17"
    assert payload["timestamp"].endswith("+00:00")


async def test_webhook_put_without_secret_has_no_signature(receiver: Receiver) -> None:
    config = WebhookConfig(enabled=True, url=receiver.url("/put"), method="PUT")
    await WebhookChannel(config).send(NOTE)
    [request] = receiver.at("/put")
    assert request.method == "PUT"
    assert "X-ADO-Signature" not in request.headers


def _email_config(server: SmtpServer, **extra: Any) -> EmailConfig:
    return EmailConfig(
        enabled=True,
        smtp_host="127.0.0.1",
        smtp_port=server.port,
        security="none",
        from_address="ado@example.com",
        to=["dev@example.com", "ops@example.com"],
        **extra,
    )


def _check_mime(message: Any) -> None:
    assert message["Subject"] == "[SUCCESS] Task 17 succeeded on codex/subscription"
    assert message["From"] == "ado@example.com"
    assert message["To"] == "dev@example.com, ops@example.com"
    assert message.get_content_type() == "multipart/alternative"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "DONE: wrote signup.py" in text and "Task: 17" in text
    assert "https://ado.example.com/tasks/17" in text
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert 'href="https://ado.example.com/tasks/17"' in html
    assert "max-width:560px" in html  # one narrow column: readable on a phone
    assert "$0.07" in html and "41.2s" in html


async def test_email_is_multipart_text_and_html(smtp_server: SmtpServer) -> None:
    await EmailChannel(_email_config(smtp_server)).send(NOTE)
    [message] = smtp_server.inbox.wait()
    envelope = smtp_server.inbox.messages[0][0]
    assert envelope.rcpt_tos == ["dev@example.com", "ops@example.com"]
    _check_mime(message)


async def test_email_html_escapes_the_message(smtp_server: SmtpServer) -> None:
    note = Notification(event="custom", title="<b>x</b>", message="<script>alert(1)</script>")
    await EmailChannel(_email_config(smtp_server)).send(note)
    [message] = smtp_server.inbox.wait()
    html = message.get_body(("html",)).get_content()
    assert "<script>" not in html and "&lt;script&gt;" in html


async def test_email_over_starttls_with_login(smtp_factory: Any) -> None:
    server = smtp_factory(starttls=True, auth=True)
    config = _email_config(
        server,
        username=SMTP_USER,
        password=SMTP_PASSWORD,
        ca_file=str(server.cert),
    ).model_copy(update={"security": "starttls"})
    await EmailChannel(config).send(NOTE)
    [message] = server.inbox.wait()
    _check_mime(message)


def _fields(note: Notification) -> dict[str, Any]:
    return {f: getattr(note, f) for f in note.__slots__}
