"""/api/settings: validated, persisted, applied by effective_config; secrets write-only."""

from __future__ import annotations

import json
from pathlib import Path

from starlette.testclient import TestClient

from ado.api.schemas import Settings
from ado.config.overrides import SETTINGS_KEY
from ado.orchestrator.compose import effective_config
from ado.store import Store

from .conftest import loaded_config

SECRET = "https://hooks.slack.com/services/T0/B0/very-secret-value"
PASSWORD = "smtp-pa55word-never-shown"


def test_get(client: TestClient) -> None:
    body = Settings.model_validate(client.get("/api/settings").json())
    assert body.routing.strategy == "subscription-first"
    assert body.routing.api_fallback.enabled is True
    assert body.hitl.default_policy == "autonomous"


def test_patch_persists_and_applies(client: TestClient, store: Store, tmp_path: Path) -> None:
    response = client.patch(
        "/api/settings",
        json={
            "routing": {"strategy": "round-robin", "apiFallback": {"maxCostPerTask": None}},
            "hitl": {"escalationThresholds": {"maxIterations": 7}},
        },
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["routing"]["strategy"] == "round-robin"
    assert body["routing"]["apiFallback"]["maxCostPerTask"] is None
    assert body["routing"]["apiFallback"]["enabled"] is True  # untouched keys stay
    config = effective_config(loaded_config(tmp_path).config, store)
    assert config.routing.strategy == "round-robin"
    assert config.routing.api_fallback.max_cost_per_task is None
    assert config.hitl.escalation_thresholds.max_iterations == 7
    # a second patch merges with the first
    client.patch("/api/settings", json={"hitl": {"defaultPolicy": "review-edits"}})
    config = effective_config(loaded_config(tmp_path).config, store)
    assert config.hitl.default_policy == "review-edits" and config.routing.strategy == "round-robin"
    # the API's new tasks take the new default policy
    task = client.post("/api/tasks", json={"prompt": "x"}).json()
    assert task["hitlPolicy"] == "review-edits"


def test_patch_refuses_invalid_settings_naming_the_field(client: TestClient, store: Store) -> None:
    for body, field in (
        ({"routing": {"strategy": "fastest"}}, "routing.strategy"),
        ({"routing": {"failover": {"maxRetries": -1}}}, "routing.failover.maxRetries"),
        ({"hitl": {"defaultPolicy": "yolo"}}, "hitl.defaultPolicy"),
        ({"routing": {"colour": "red"}}, "routing.colour"),
        ({"storage": {"path": "/x"}}, "storage"),
    ):
        response = client.patch("/api/settings", json=body)
        assert response.status_code == 422, body
        error = response.json()["error"]
        assert error["code"] == "validation_error"
        assert field in [d["field"] for d in error["details"]], error
    assert store.get_value(SETTINGS_KEY) is None


def test_secrets_are_write_only(client: TestClient, store: Store, tmp_path: Path) -> None:
    response = client.patch(
        "/api/settings",
        json={
            "notifications": {
                "channels": {
                    "slack": {"enabled": True, "webhookUrl": SECRET},
                    "email": {"password": PASSWORD},
                }
            }
        },
    )
    assert response.status_code == 200, response.text
    channels = response.json()["notifications"]["channels"]
    assert channels["slack"]["webhookUrl"] == {"set": True}
    assert channels["email"]["password"] == {"set": True}
    assert channels["webhook"]["secret"] == {"set": False}
    config = effective_config(loaded_config(tmp_path).config, store)
    slack_url = config.notifications.channels.slack.webhook_url
    assert slack_url is not None and slack_url.get_secret_value() == SECRET
    # sending the masked value back keeps the secret
    client.patch(
        "/api/settings",
        json={"notifications": {"channels": {"slack": {"webhookUrl": {"set": True}}}}},
    )
    config = effective_config(loaded_config(tmp_path).config, store)
    slack_url = config.notifications.channels.slack.webhook_url
    assert slack_url is not None and slack_url.get_secret_value() == SECRET
    for path in (
        "/api/settings",
        "/api/providers",
        "/api/tasks",
        "/api/dashboard/stats",
        "/api/alerts",
        "/health/info",
        "/api/openapi.json",
    ):
        text = client.get(path).text
        assert SECRET not in text and PASSWORD not in text, path


def test_origins_file_values_and_resets(client: TestClient, store: Store) -> None:
    """The settings-origins contract the dashboard uses."""
    body = client.get("/api/settings").json()
    assert body["origins"]["routing.apiFallback.enabled"] == "file"  # the file sets it
    assert body["origins"]["routing.strategy"] == "default"
    assert body["origins"]["notifications.channels.slack.webhookUrl"] == "default"
    assert body["fileValues"] == {}
    client.patch(
        "/api/settings",
        json={
            "routing": {"strategy": "round-robin", "apiFallback": {"enabled": False}},
            "notifications": {"channels": {"slack": {"webhookUrl": SECRET}}},
        },
    )
    body = client.get("/api/settings").json()
    assert body["origins"]["routing.strategy"] == "saved"
    assert body["fileValues"] == {
        "routing.strategy": "subscription-first",
        "routing.apiFallback.enabled": True,
        "notifications.channels.slack.webhookUrl": {"set": False},
    }
    assert SECRET not in json.dumps(store.get_value(SETTINGS_KEY))  # encrypted at rest
    # one key, then a section, then everything
    one = client.delete("/api/settings/routing.strategy").json()
    assert one["routing"]["strategy"] == "subscription-first"
    assert one["origins"]["routing.apiFallback.enabled"] == "saved"
    section = client.delete("/api/settings/routing").json()
    assert section["routing"]["apiFallback"]["enabled"] is True
    client.patch("/api/providers/codex", json={"enabled": False})
    everything = client.delete("/api/settings").json()
    assert "saved" not in everything["origins"].values()
    assert store.get_value(SETTINGS_KEY) is None
    providers = {p["id"]: p for p in client.get("/api/providers").json()}
    assert providers["codex"]["enabled"] is True
    assert providers["codex"]["origins"]["enabled"] == "file"
    unknown = client.delete("/api/settings/storage.path")
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    operations = {
        op["operationId"]
        for item in client.get("/api/openapi.json").json()["paths"].values()
        for op in item.values()
    }
    assert {"resetSetting", "resetSettings"} <= operations
