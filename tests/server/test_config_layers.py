"""Settings and provider switches saved through a real ``ado serve`` are what every consumer
uses (its API, workers and notifier; ``ado status``, ``ado config show``, ``ado run``), until
``ado config reset``; ``ado serve`` follows an edited ``ado.config.yaml`` and keeps the last
good one when an edit is invalid."""

from __future__ import annotations

import json
import signal
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from ado.config.overrides import SETTINGS_KEY
from tests.fixtures.ado import FakeCursor, Project
from tests.notifications.conftest import Receiver
from tests.server.conftest import Server
from tests.support import wait_for

Serve = Callable[..., Server]


@pytest.fixture
def receiver() -> Iterator[Receiver]:
    with Receiver() as rec:
        yield rec


def _get(server: Server, path: str) -> Any:
    with server.client() as client:
        response = client.get(path)
    assert response.status_code == 200, response.text
    return response.json()


def _send(server: Server, method: str, path: str, body: Any = None) -> Any:
    with server.client() as client:
        response = client.request(method, path, json=body)
    assert response.status_code == 200, response.text
    return response.json()


def _provider(server: Server, pid: str) -> dict[str, Any]:
    found: dict[str, Any] = next(p for p in _get(server, "/api/providers") if p["id"] == pid)
    return found


def _run_task(server: Server) -> dict[str, Any]:
    """Submit a task and wait until it finished; the task."""
    with server.client() as client:
        response = client.post("/api/tasks", json={"prompt": "do it"})
    assert response.status_code == 201, response.text
    task_id = response.json()["id"]
    done: dict[str, Any] = wait_for(
        lambda: (
            (t := _get(server, f"/api/tasks/{task_id}"))["status"]
            in ("succeeded", "failed", "cancelled")
            and t
        ),
        what=f"task {task_id} to finish",
    )
    return done


def _status_json(project: Project) -> dict[str, Any]:
    out: dict[str, Any] = json.loads(project.run("status", "--json", check_code=0).stdout)
    return out


def _enabled_in_status(project: Project, pid: str) -> bool:
    rows = _status_json(project)["providers"]
    return bool(next(p for p in rows if p["id"] == pid)["enabled"])


def test_saved_switch_and_strategy_are_what_every_consumer_uses(
    project: Project, fake_cursor: FakeCursor, serve: Serve
) -> None:
    project.write_config({"cursor-agent": fake_cursor()})
    server = serve()
    assert "config reloads on change or SIGHUP" in wait_for(
        lambda: "ADO serving on" in server.output() and server.output(), what="start-up line"
    )
    # saved through the API, as the dashboard does
    _send(server, "PATCH", "/api/settings", {"routing": {"strategy": "round-robin"}})
    switched = _send(server, "PATCH", "/api/providers/cursor-agent", {"enabled": False})
    assert switched["enabled"] is False
    assert switched["origins"]["enabled"] == "saved"
    assert switched["fileValues"] == {"enabled": True}
    assert switched["origins"]["accessModes.subscription.priority"] == "file"

    # the API
    settings = _get(server, "/api/settings")
    assert settings["routing"]["strategy"] == "round-robin"
    assert settings["origins"]["routing.strategy"] == "saved"
    assert settings["origins"]["routing.failover.maxRetries"] == "default"
    assert settings["fileValues"] == {"routing.strategy": "subscription-first"}
    # the workers: nothing may take the task
    failed = _run_task(server)
    assert failed["status"] == "failed", failed
    # ado status, ado providers list
    assert _enabled_in_status(project, "cursor-agent") is False
    assert "(saved)" in project.run("status", check_code=0).stdout
    listed = json.loads(project.run("providers", "list", "--json", check_code=0).stdout)
    assert next(p for p in listed if p["id"] == "cursor-agent")["enabled"] is False
    # ado config show --origin and --json
    shown = project.run("config", "show", "--origin", check_code=0).stdout
    assert 'routing.strategy = "round-robin"  # saved (the file gives "subscription-first")' in (
        shown
    )
    assert "providers.cursor-agent.enabled = false  # saved (the file gives true)" in shown
    assert "providers.cursor-agent.timeout = 60.0  # file ado.config.yaml:" in shown
    data = json.loads(project.run("config", "show", "--json", check_code=0).stdout)
    assert data["config"]["routing"]["strategy"] == "round-robin"
    assert data["origins"]["providers.cursor-agent.enabled"] == "saved"
    assert data["origins"]["storage.driver"] == "default"
    # ado run: the provider is off
    refused = project.run("run", "do it", check_code=3)
    assert "provider disabled" in refused.stdout + refused.stderr

    # `ado config set` on the shadowed key says so, and names the fix
    set_out = project.run("config", "set", "providers.cursor-agent.enabled", "true", check_code=0)
    assert "overrides it (providers.cursor-agent.enabled = false)" in set_out.stdout
    assert "ado config reset providers.cursor-agent.enabled" in set_out.stdout
    assert _enabled_in_status(project, "cursor-agent") is False  # still shadowed

    # `ado config reset` restores the file's value for every consumer
    reset = project.run("config", "reset", "providers.cursor-agent", check_code=0)
    assert "removed" in reset.stdout and "providers.cursor-agent" in reset.stdout
    assert _enabled_in_status(project, "cursor-agent") is True
    run = project.run("run", "--json", "do it", check_code=0)
    assert "round-robin" in run.stdout  # the saved strategy still routes ado run
    wait_for(lambda: _provider(server, "cursor-agent")["enabled"], what="the API to follow")
    assert _provider(server, "cursor-agent")["origins"]["enabled"] == "file"
    succeeded = _run_task(server)
    assert succeeded["status"] == "succeeded", succeeded
    assert "round-robin" in succeeded["routingReason"]  # ... and the server's workers
    # resetting the strategy (the API's DELETE) makes the file's (here the default) apply
    after = _send(server, "DELETE", "/api/settings/routing.strategy")
    assert after["routing"]["strategy"] == "subscription-first"
    assert after["origins"]["routing.strategy"] == "default" and after["fileValues"] == {}
    assert "subscription-first" in _run_task(server)["routingReason"]
    shown = project.run("config", "show", "--origin", check_code=0).stdout
    assert 'routing.strategy = "subscription-first"  # default' in shown
    nothing = project.run("config", "reset", "routing.strategy", check_code=0)
    assert "Nothing saved" in nothing.stdout
    not_saveable = project.run("config", "reset", "storage.path", check_code=2)
    assert "not something the dashboard or the API saves" in not_saveable.stderr
    with server.client() as client:
        assert client.delete("/api/settings/storage.path").status_code == 404
        assert client.delete("/api/settings/routing.nope").status_code == 404


def test_saving_one_field_keeps_the_files_webhook_and_the_notifier_follows(
    project: Project, fake_cursor: FakeCursor, serve: Serve, receiver: Receiver
) -> None:
    project.write_config(
        {"cursor-agent": fake_cursor()},
        notifications={
            "channels": {"webhook": {"enabled": True, "url": receiver.url("/file-hook")}},
            "delivery": {"timeout": 2, "retries": 1, "backoff": 0.05},
        },
    )
    server = serve()
    # the Settings page sends the whole form with one field changed
    form = _get(server, "/api/settings")
    form.pop("origins")
    form.pop("fileValues")
    form["routing"]["strategy"] = "cost-optimized"
    saved = _send(server, "PATCH", "/api/settings", form)
    assert saved["notifications"]["channels"]["webhook"]["enabled"] is True
    assert saved["origins"]["notifications.channels.webhook.enabled"] == "file"
    assert saved["origins"]["routing.strategy"] == "saved"
    store = project.store()
    try:
        assert store.get_value(SETTINGS_KEY) == {"routing": {"strategy": "cost-optimized"}}
    finally:
        store.close()
    # the server's notifier and ado run both still deliver to the file's webhook
    assert _run_task(server)["status"] == "succeeded"
    receiver.wait_for("/file-hook", count=1)
    before = len(receiver.at("/file-hook"))
    project.run("run", "do it", check_code=0)
    receiver.wait_for("/file-hook", count=before + 1)

    # a webhook saved through the API (with a secret header) is what the server's notifier uses
    token = "Bearer saved-secret-token-123"
    _send(
        server,
        "PATCH",
        "/api/settings",
        {
            "notifications": {
                "channels": {
                    "webhook": {
                        "url": receiver.url("/saved-hook"),
                        "headers": {"Authorization": token},
                    }
                }
            }
        },
    )
    assert _run_task(server)["status"] == "succeeded"
    got = receiver.wait_for("/saved-hook", count=1)
    assert got[0].headers.get("Authorization") == token
    # never shown, never stored in clear
    shown = project.run("config", "show", check_code=0).stdout
    shown_json = project.run("config", "show", "--json", check_code=0).stdout
    api = json.dumps(_get(server, "/api/settings"))
    for text in (shown, shown_json, api):
        assert "saved-secret-token-123" not in text
    store = project.store()
    try:
        assert "saved-secret-token-123" not in json.dumps(store.get_value(SETTINGS_KEY))
    finally:
        store.close()


def _write(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".new")
    tmp.write_text(text)
    tmp.replace(path)


def test_serve_follows_the_edited_file_and_keeps_the_last_good_one(
    project: Project, fake_cursor: FakeCursor, serve: Serve
) -> None:
    project.write_config({"cursor-agent": fake_cursor("crash")})
    server = serve()
    assert _run_task(server)["status"] == "failed"
    # a good edit: the agent's env and the strategy change; no restart
    project.write_config(
        {"cursor-agent": fake_cursor("success")}, routing={"strategy": "round-robin"}
    )
    wait_for(
        lambda: _get(server, "/api/settings")["routing"]["strategy"] == "round-robin",
        what="the edited file to be picked up",
    )
    assert "configuration reloaded from" in server.output()
    done = _run_task(server)
    assert done["status"] == "succeeded" and "round-robin" in done["routingReason"]

    # an invalid edit is refused with file:line, and the last good configuration stays
    good = project.config_path.read_text()
    _write(project.config_path, 'version: "1.1"\nrouting:\n  strategy: fastest\n')
    log = wait_for(
        lambda: "configuration not reloaded" in server.output() and server.output(),
        what="the invalid edit to be refused",
    )
    assert f"{project.config_path}:3: routing.strategy" in log
    assert _get(server, "/api/settings")["routing"]["strategy"] == "round-robin"
    assert _run_task(server)["status"] == "succeeded"  # the provider is still configured
    _write(project.config_path, "providers: [unclosed\n")
    wait_for(lambda: "not valid YAML" in server.output(), what="the broken YAML to be refused")
    assert _get(server, "/api/settings")["routing"]["strategy"] == "round-robin"

    # SIGHUP reloads too
    _write(project.config_path, good.replace("round-robin", "cost-optimized"))
    server.signal(signal.SIGHUP)
    wait_for(lambda: "(SIGHUP)" in server.output(), what="the SIGHUP reload")
    wait_for(
        lambda: _get(server, "/api/settings")["routing"]["strategy"] == "cost-optimized",
        what="the SIGHUP-reloaded file",
    )
    assert server.proc.poll() is None
