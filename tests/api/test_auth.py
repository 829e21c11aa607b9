"""API tokens: required off loopback, stored hashed, revocable; the CLI that manages them."""

from __future__ import annotations

import hashlib
import json
from typing import Any

from starlette.testclient import TestClient

from ado.api import verify_token
from ado.store import Store

from ..fixtures.ado import Project


def test_without_auth_no_token_is_needed(client: TestClient) -> None:
    assert client.get("/api/tasks").status_code == 200


def test_auth_refuses_missing_and_bad_tokens(make_client: Any, store: Store) -> None:
    client = make_client(require_auth=True)
    _, token = store.create_token("ci")
    assert token.startswith("ado_") and len(token) > 40
    for headers in ({}, {"Authorization": "Bearer ado_wrong"}, {"Authorization": token}):
        response = client.get("/api/tasks", headers=headers)
        assert response.status_code == 401
        assert response.json()["error"]["code"] == "unauthorized"
        assert "x-ratelimit-limit" in response.headers
    good = {"Authorization": f"Bearer {token}"}
    assert client.get("/api/tasks", headers=good).status_code == 200
    assert client.post("/api/tasks", json={"prompt": "x"}, headers=good).status_code == 201
    # health and the dashboard stay open
    assert client.get("/health").status_code == 200
    assert client.get("/health/ready").status_code == 200
    assert client.get("/").status_code == 200
    (listed,) = store.list_tokens()
    assert listed.last_used_at is not None
    store.revoke_token("ci")
    assert client.get("/api/tasks", headers=good).status_code == 401


def test_tokens_are_stored_hashed(store: Store) -> None:
    _, token = store.create_token("one")
    assert verify_token(store, token) and not verify_token(store, token + "x")
    assert not verify_token(store, None)
    assert store.token_id(token) is not None
    store.revoke_token(str(store.list_tokens()[0].id))
    assert not verify_token(store, token)
    assert hashlib.sha256(token.encode()).hexdigest() != token


def test_tokens_cli(project: Project) -> None:
    created = project.run("tokens", "create", "laptop", check_code=0)
    token = created.stdout.strip()
    assert token.startswith("ado_") and "shown only now" in created.stderr
    listed = project.run("tokens", "list", "--json", check_code=0)
    assert token not in listed.stdout and '"laptop"' in listed.stdout
    (row,) = json.loads(listed.stdout)
    assert list(row) == ["id", "name", "createdAt", "lastUsedAt", "revokedAt"]
    assert row["revokedAt"] is None
    assert project.run("tokens", "create", "laptop").returncode == 2
    project.run("tokens", "revoke", "laptop", check_code=0)
    (row,) = json.loads(project.run("tokens", "list", "--json").stdout)
    assert row["revokedAt"] is not None
    assert project.run("tokens", "revoke", "nope").returncode == 2
    store = project.store()
    try:
        assert not verify_token(store, token)
    finally:
        store.close()
