"""The alert history tells the truth: a row from the moment a notification is queued, none
lost at shutdown, nothing left ``retrying`` by a process that is gone, SMTP 4xx retried."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from ado.api import create_app
from ado.config.loader import LoadedConfig
from ado.config.schema import AdoConfig
from ado.store import Store
from ado.store.alerts import AlertView
from tests.support import wait_for_async

from ..fixtures.ado import Project
from .conftest import Receiver, Reply, SmtpServer
from .helpers import manager, note


def _email(server: SmtpServer) -> dict[str, Any]:
    return {
        "enabled": True,
        "smtpHost": "127.0.0.1",
        "smtpPort": server.port,
        "security": "none",
        "from": "ado@example.com",
        "to": ["dev@example.com"],
    }


def _alerts(store: Store) -> list[AlertView]:
    return store.list_alerts(limit=100)[0]


async def test_a_row_from_queued_to_delivered(receiver: Receiver, store: Store) -> None:
    url = receiver.script("/hook", Reply(hang=True), Reply(200))
    mgr = manager(store, channels={"webhook": {"enabled": True, "url": url}})
    assert mgr.notify(note(title="watch me"))
    # the first attempt hangs: the notification is already in the history
    [queued] = await wait_for_async(lambda: _alerts(store), 20, what="the queued row")
    assert (queued.status, queued.channel, queued.attempts) == ("queued", "webhook", 0)
    assert queued.title == "watch me"
    receiver.release.set()  # the hanging attempt ends without an answer: retried
    await wait_for_async(lambda: _alerts(store)[0].status == "delivered", 20, what="the delivery")
    assert await mgr.aclose(grace=10)
    [row] = _alerts(store)
    assert row.id == queued.id and row.attempts == 2 and row.delivered_at is not None


async def test_what_is_pending_at_shutdown_is_abandoned(receiver: Receiver, store: Store) -> None:
    url = receiver.script("/hook", Reply(hang=True))
    mgr = manager(
        store,
        channels={"webhook": {"enabled": True, "url": url}},
        delivery={"timeout": 30, "retries": 5},
    )
    assert mgr.notify(note(title="in flight"))
    await wait_for_async(lambda: receiver.at("/hook"), 20, what="the first attempt")
    for i in range(3):  # behind it, in the channel's queue or not routed yet
        assert mgr.notify(note(title=f"waiting {i}"))
    assert not await mgr.aclose(grace=0.2)
    rows = {r.title: r for r in _alerts(store)}
    assert set(rows) == {"in flight", "waiting 0", "waiting 1", "waiting 2"}
    for row in rows.values():
        assert row.status == "abandoned", row
        assert row.error is not None and f"ADO process {os.getpid()} exited" in row.error
    receiver.release.set()


async def test_notifications_not_routed_yet_are_abandoned_once(
    receiver: Receiver, store: Store
) -> None:
    hook = receiver.script("/hook", Reply(hang=True))
    slack = receiver.script("/slack", Reply(hang=True))
    mgr = manager(
        store,
        channels={
            "webhook": {"enabled": True, "url": hook},
            "slack": {"enabled": True, "webhookUrl": slack},
        },
    )
    for i in range(5):
        assert mgr.notify(note(title=f"n{i}"))
    assert not await mgr.aclose(grace=0)  # cut short wherever each one was
    rows = _alerts(store)
    expected = sorted((f"n{i}", channel) for i in range(5) for channel in ("slack", "webhook"))
    assert sorted((r.title, r.channel) for r in rows) == expected  # one row each: none lost
    assert {r.status for r in rows} == {"abandoned"}
    receiver.release.set()


async def test_a_retrying_row_is_abandoned_at_close(receiver: Receiver, store: Store) -> None:
    url = receiver.script("/hook", Reply(503, "busy"))
    mgr = manager(
        store,
        channels={"webhook": {"enabled": True, "url": url}},
        delivery={"retries": 5, "backoff": 30, "maxBackoff": 60},
    )
    assert mgr.notify(note(title="busy"))
    await wait_for_async(
        lambda: [r for r in _alerts(store) if r.status == "retrying"], 20, what="a retry"
    )
    assert not await mgr.aclose(grace=0.1)
    [row] = _alerts(store)
    assert row.status == "abandoned" and row.attempts == 1


async def test_smtp_451_is_retried_then_delivered(smtp_server: SmtpServer, store: Store) -> None:
    inbox = smtp_server.inbox
    inbox.answer("DATA", "451 4.3.0 Mailbox temporarily unavailable", "451 4.3.0 Still busy")
    mgr = manager(store, channels={"email": _email(smtp_server)})
    assert mgr.notify(note(title="greylisted"))
    assert await mgr.aclose(grace=20)
    [message] = inbox.wait()
    assert message["Subject"] == "[INFO] greylisted"
    assert inbox.commands.count("DATA") == 3
    [row] = _alerts(store)
    assert (row.status, row.attempts) == ("delivered", 3)


async def test_smtp_451_on_the_recipient_is_retried(smtp_server: SmtpServer, store: Store) -> None:
    smtp_server.inbox.answer("RCPT", "451 4.7.1 Greylisted, try again later")
    mgr = manager(store, channels={"email": _email(smtp_server)})
    results = await mgr.deliver(note(title="greylisted rcpt"), ["email"])
    assert results["email"].delivered and results["email"].attempts == 2
    assert len(smtp_server.inbox.wait()) == 1
    [row] = _alerts(store)
    assert (row.status, row.attempts) == ("delivered", 2)


async def test_smtp_5xx_and_451_for_good_are_failed(smtp_server: SmtpServer, store: Store) -> None:
    inbox = smtp_server.inbox
    inbox.answer("DATA", "554 5.7.1 Rejected as spam")
    mgr = manager(store, channels={"email": _email(smtp_server)})
    results = await mgr.deliver(note(title="spam"), ["email"])
    assert not results["email"].delivered and results["email"].attempts == 1  # not retried
    inbox.answer("RCPT", *["450 4.2.0 Mailbox busy"] * 10)
    results = await mgr.deliver(note(title="always busy"), ["email"], retries=2)
    assert not results["email"].delivered and results["email"].attempts == 3
    rows = {r.title: r for r in _alerts(store)}
    assert rows["spam"].status == "failed" and "554" in (rows["spam"].error or "")
    assert rows["always busy"].status == "failed" and "450" in (rows["always busy"].error or "")
    assert inbox.messages == []


def test_rows_of_a_killed_process_are_abandoned_at_the_next_start(
    project: Project, receiver: Receiver
) -> None:
    url = receiver.script("/hook", Reply(hang=True))
    project.write_config({}, notifications={"channels": {"webhook": {"enabled": True, "url": url}}})
    store = project.store()
    try:
        sender = project.popen("notify", "send", "Deploy", "v1.2 is live", "--channel", "webhook")
        try:
            receiver.wait_for("/hook")  # the row exists and the attempt is in flight
            [row] = _alerts(store)
            assert row.status == "queued"
            os.kill(sender.pid, signal.SIGKILL)
        finally:
            sender.kill()
            sender.communicate(timeout=30)
        assert _alerts(store)[0].status == "queued"  # nobody knows yet
        # a row of a live process on this host, and one of another host, stay as they are
        live = store.record_alert(event="custom", channel="slack", status="retrying", title="live")
        other = store.record_alert(event="custom", channel="slack", status="retrying", title="x")
        with store._sql() as sql, sql.transaction(write=True):
            sql.execute("UPDATE alerts SET owner_host = 'elsewhere' WHERE id = :id", {"id": other})
        project.run("status", check_code=0)  # the next start
        rows = {r.title: r for r in _alerts(store)}
        assert rows["Deploy"].status == "abandoned"
        assert f"ADO process {sender.pid} exited" in (rows["Deploy"].error or "")
        assert rows["live"].status == "retrying" and rows["x"].status == "retrying"
        assert live != other
    finally:
        receiver.release.set()
        store.close()


def test_rows_without_an_owner_are_abandoned(store: Store) -> None:
    """Rows written before owners were recorded (or by a process whose pid is gone)."""
    ownerless = store.record_alert(event="custom", channel="email", status="retrying", title="a")
    dead = store.record_alert(event="custom", channel="email", status="queued", title="b")
    done = store.record_alert(event="custom", channel="email", status="delivered", title="c")
    pid = _dead_pid()
    with store._sql() as sql, sql.transaction(write=True):
        sql.execute("UPDATE alerts SET owner_pid = NULL WHERE id = :id", {"id": ownerless})
        sql.execute(
            "UPDATE alerts SET owner_pid = :pid, owner_host = :host WHERE id = :id",
            {"pid": pid, "host": socket.gethostname(), "id": dead},
        )
    assert store.abandon_orphaned_alerts() == 2
    assert store.abandon_orphaned_alerts() == 0  # doubled: nothing more
    rows = {r.id: r for r in _alerts(store)}
    assert rows[ownerless].status == rows[dead].status == "abandoned"
    assert rows[done].status == "delivered"


def test_the_api_lists_abandoned_rows(store: Store, tmp_path: Path) -> None:
    alert_id = store.record_alert(event="custom", channel="email", status="queued", title="q")
    assert store.abandon_alerts([alert_id]) == 1
    assert store.abandon_alerts([alert_id]) == 0  # doubled: abandoned once
    app = create_app(loaded_config=LoadedConfig(AdoConfig(), None, tmp_path), store=store)
    with TestClient(app) as client:
        [item] = client.get("/api/alerts").json()["items"]
    assert item["status"] == "abandoned" and item["id"] == alert_id


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid
