"""/api/providers: the overview, switches persisted and used by the router, usage per day."""

from __future__ import annotations

from pathlib import Path

from pydantic import TypeAdapter
from starlette.testclient import TestClient

from ado.api.schemas import ProviderOut, ProviderUsage
from ado.orchestrator.compose import effective_config
from ado.routing.router import Router, RoutingPlan
from ado.store import Store

from .conftest import add_finished_task, loaded_config


def test_list(client: TestClient, store: Store) -> None:
    add_finished_task(store)
    store.set_cooldown(
        "codex",
        "subscription",
        until=__import__("datetime").datetime(2999, 1, 1, tzinfo=__import__("datetime").UTC),
        kind="rate_limited",
        reason="limit reached",
        reset_known=True,
    )
    providers = TypeAdapter(list[ProviderOut]).validate_python(client.get("/api/providers").json())
    by = {p.id: p for p in providers}
    assert {"claude-code", "codex", "gemini-cli", "cursor-agent"} <= set(by)
    claude = by["claude-code"]
    assert claude.enabled and not claude.installed and claude.name == "Claude Code"
    assert [(m.mode, m.priority, m.enabled) for m in claude.access_modes] == [
        ("subscription", 1, True),
        ("api", 5, True),
    ]
    assert claude.capabilities["languages"] == ["python"] and claude.capabilities["codeReview"]
    assert claude.usage_today.tasks == 1 and claude.usage_today.input_tokens == 1000
    assert by["codex"].access_modes[0].cooldown_reason == "limit reached"
    assert not by["gemini-cli"].enabled and by["gemini-cli"].access_modes == []


def test_patch_is_persisted_and_changes_the_next_plan(
    client: TestClient, store: Store, tmp_path: Path
) -> None:
    file_config = loaded_config(tmp_path).config

    def plan() -> RoutingPlan:  # what the next task is routed by: the resolved configuration
        return Router(effective_config(file_config, store), store).plan()

    assert plan().candidates[0].key == "claude-code/subscription"
    response = client.patch(
        "/api/providers/claude-code",
        json={"accessModes": [{"mode": "subscription", "priority": 9, "enabled": True}]},
    )
    assert response.status_code == 200, response.text
    body = ProviderOut.model_validate(response.json())
    assert body.access_modes[0].priority == 9
    assert plan().candidates[0].key == "codex/subscription"
    client.patch("/api/providers/codex", json={"enabled": False})
    assert [c.key for c in plan().candidates] == [
        "claude-code/api",
        "claude-code/subscription",
    ]
    client.patch(
        "/api/providers/claude-code", json={"accessModes": [{"mode": "api", "enabled": False}]}
    )
    assert [c.key for c in plan().candidates] == ["claude-code/subscription"]
    # persisted: a new app over the same store shows it
    listed = {p["id"]: p for p in client.get("/api/providers").json()}
    assert listed["codex"]["enabled"] is False
    assert listed["claude-code"]["accessModes"][0]["priority"] == 9


def test_patch_errors(client: TestClient) -> None:
    unknown = client.patch("/api/providers/nope", json={"enabled": True})
    assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
    bad_mode = client.patch(
        "/api/providers/codex", json={"accessModes": [{"mode": "api", "enabled": True}]}
    )
    assert bad_mode.status_code == 422
    assert bad_mode.json()["error"]["details"][0]["field"] == "accessModes.0.mode"
    bad_type = client.patch("/api/providers/codex", json={"enabled": "sometimes"})
    assert bad_type.status_code == 422
    assert bad_type.json()["error"]["details"][0]["field"] == "enabled"


def test_usage_per_day(client: TestClient, store: Store) -> None:
    add_finished_task(store, provider="codex", cost=0.5)
    body = ProviderUsage.model_validate(
        client.get("/api/providers/codex/usage", params={"days": 3}).json()
    )
    assert body.provider == "codex" and len(body.days) == 3
    assert (body.days[-1].tasks, body.days[-1].requests, body.days[-1].cost_usd) == (1, 1, 0.5)
    assert body.days[0].tasks == 0
    assert client.get("/api/providers/nope/usage").status_code == 404
    assert client.get("/api/providers/codex/usage", params={"days": 0}).status_code == 422


def test_clear_cooldown(client: TestClient, store: Store, tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    until = datetime.now(UTC) + timedelta(hours=1)
    for provider, mode in (
        ("codex", "subscription"),
        ("claude-code", "subscription"),
        ("claude-code", "api"),
    ):
        store.set_cooldown(
            provider,
            mode,
            until=until,
            kind="rate_limited",
            reason="429 Too Many Requests",
            reset_known=True,
        )
    router = Router(loaded_config(tmp_path).config, store)
    assert router.plan().candidates == []

    one = client.delete("/api/providers/claude-code/cooldown", params={"accessMode": "api"})
    assert one.status_code == 204 and one.content == b""
    active = {(c.provider, c.access_mode) for c in store.cooldowns(datetime.now(UTC))}
    assert active == {("codex", "subscription"), ("claude-code", "subscription")}
    assert [c.key for c in router.plan().candidates] == ["claude-code/api"]

    assert client.delete("/api/providers/codex/cooldown").status_code == 204
    assert client.delete("/api/providers/codex/cooldown").status_code == 204  # none left
    listed = {p["id"]: p for p in client.get("/api/providers").json()}
    assert listed["codex"]["accessModes"][0]["cooldownUntil"] is None
    assert listed["claude-code"]["accessModes"][0]["cooldownReason"] == "429 Too Many Requests"

    unknown = client.delete("/api/providers/cladue-code/cooldown")
    assert unknown.status_code == 404 and "claude-code" in unknown.json()["error"]["message"]
    bad_mode = client.delete("/api/providers/codex/cooldown", params={"accessMode": "paid"})
    assert bad_mode.status_code == 422
    assert {(c.provider, c.access_mode) for c in store.cooldowns(datetime.now(UTC))} == {
        ("claude-code", "subscription")
    }
