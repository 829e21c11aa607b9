"""``ado notify test|send``: delivered, or the precise reason per channel."""

from __future__ import annotations

import json
from typing import Any

from tests.fixtures.ado import Project

from .conftest import SMTP_USER, Receiver, Reply, SmtpServer


def configure(project: Project, **channels: Any) -> None:
    project.write_config(
        {},
        notifications={
            "publicUrl": "https://ado.example.com",
            "channels": channels,
            "delivery": {"timeout": 1.5, "retries": 0, "backoff": 0.05},
        },
    )


def test_delivered_and_recorded(project: Project, receiver: Receiver) -> None:
    configure(project, webhook={"enabled": True, "url": receiver.url("/hook")})
    proc = project.run("notify", "test", "--channel", "webhook", check_code=0)
    assert "✔ webhook: delivered" in proc.stdout
    [request] = receiver.at("/hook")
    assert json.loads(request.body)["event"] == "test"
    alerts, _ = project.store().list_alerts()
    assert [(a.event, a.channel, a.status) for a in alerts] == [("test", "webhook", "delivered")]


def test_not_configured(project: Project) -> None:
    configure(project, slack={"enabled": False})
    proc = project.run("notify", "test", check_code=1)
    assert "✘ slack: not configured" in proc.stdout
    assert "notifications.channels.slack.webhookUrl" in proc.stdout
    assert "✘ email: not configured" in proc.stdout
    assert "notifications.channels.email.smtpHost" in proc.stdout
    assert "✘ webhook: not configured" in proc.stdout


def test_dns_failure(project: Project) -> None:
    configure(project, slack={"enabled": True, "webhookUrl": "http://hooks.ado-test.invalid/x"})
    proc = project.run("notify", "test", "--channel", "slack", check_code=1)
    assert "✘ slack: DNS lookup failed" in proc.stdout


def test_connection_refused(project: Project, closed_port: int) -> None:
    configure(project, webhook={"enabled": True, "url": f"http://127.0.0.1:{closed_port}/h"})
    proc = project.run("notify", "test", "--channel", "webhook", check_code=1)
    assert "✘ webhook: connection refused" in proc.stdout


def test_http_status_with_the_body(project: Project, receiver: Receiver) -> None:
    url = receiver.script("/services/x", Reply(403, "invalid_token"))
    configure(project, slack={"enabled": True, "webhookUrl": url})
    proc = project.run("notify", "test", "--channel", "slack", check_code=1)
    assert "✘ slack: HTTP 403 — Slack answered HTTP 403: invalid_token" in proc.stdout
    assert "/services/x" not in proc.stdout + proc.stderr  # the webhook URL is a secret


def test_timeout(project: Project, receiver: Receiver) -> None:
    configure(project, webhook={"enabled": True, "url": receiver.script("/h", Reply(hang=True))})
    proc = project.run("notify", "test", "--channel", "webhook", check_code=1)
    assert "✘ webhook: timed out" in proc.stdout


def email(server: SmtpServer, **extra: Any) -> dict[str, Any]:
    return {
        "enabled": True,
        "smtpHost": "127.0.0.1",
        "smtpPort": server.port,
        "security": "none",
        "from": "ado@example.com",
        "to": ["dev@example.com"],
        **extra,
    }


def test_email_delivered(project: Project, smtp_server: SmtpServer) -> None:
    configure(project, email=email(smtp_server))
    proc = project.run("notify", "test", "--channel", "email", check_code=0)
    assert "✔ email: delivered" in proc.stdout
    [message] = smtp_server.inbox.wait()
    assert message["Subject"] == "[INFO] ADO test notification"


def test_tls_error(project: Project, smtp_server: SmtpServer) -> None:
    configure(project, email=email(smtp_server, security="tls"))  # implicit TLS, plain server
    proc = project.run("notify", "test", "--channel", "email", check_code=1)
    assert "✘ email: TLS error" in proc.stdout


def test_auth_error(project: Project, smtp_factory: Any) -> None:
    server = smtp_factory(auth=True)
    configure(project, email=email(server, username=SMTP_USER, password="wrong-password"))
    proc = project.run("notify", "test", "--channel", "email", check_code=1)
    assert "✘ email: authentication failed" in proc.stdout
    assert "wrong-password" not in proc.stdout + proc.stderr


def test_send_a_custom_message(project: Project, receiver: Receiver) -> None:
    configure(
        project,
        webhook={"enabled": True, "url": receiver.url("/hook")},
        slack={"enabled": True, "webhookUrl": receiver.url("/slack")},
    )
    proc = project.run(
        "notify", "send", "Deploy done", "v1.2 is live", "--level", "success",
        "--channel", "webhook", check_code=0,
    )  # fmt: skip
    assert "✔ webhook: delivered" in proc.stdout
    payload = json.loads(receiver.at("/hook")[0].body)
    assert (payload["event"], payload["title"], payload["message"], payload["level"]) == (
        "custom", "Deploy done", "v1.2 is live", "success",
    )  # fmt: skip
    assert not receiver.at("/slack")
    project.run("notify", "send", "All", "to every channel", check_code=0)
    assert len(receiver.at("/slack")) == 1 and len(receiver.at("/hook")) == 2


def test_send_with_nothing_enabled_says_how_to_fix_it(project: Project) -> None:
    configure(project)
    proc = project.run("notify", "send", "t", "m", check_code=1)
    assert "no notification channel is enabled" in proc.stderr


def test_config_show_masks_notification_secrets(project: Project) -> None:
    configure(
        project,
        slack={"enabled": True, "webhookUrl": "https://hooks.slack.com/services/T/B/SECRET1"},
        email={"enabled": True, "smtpHost": "h", "password": "SECRET2", "from": "a@b", "to": "c@d"},
        webhook={"enabled": True, "url": "https://x", "secret": "SECRET3"},
    )
    proc = project.run("config", "show", "--json", check_code=0)
    for secret in ("SECRET1", "SECRET2", "SECRET3"):
        assert secret not in proc.stdout
    shown = json.loads(proc.stdout)["config"]["notifications"]["channels"]
    assert shown["slack"]["webhookUrl"] == "**********"
    assert shown["email"]["to"] == ["c@d"]


def test_legacy_hitl_notifications_still_send(project: Project, receiver: Receiver) -> None:
    project.write_config(
        {},
        hitl={"notifications": {"slack": {"enabled": True, "webhookUrl": receiver.url("/s")}}},
    )
    proc = project.run("notify", "test", "--channel", "slack", check_code=0)
    assert "✔ slack: delivered" in proc.stdout
