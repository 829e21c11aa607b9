"""The app as a whole: health, error shape, OpenAPI operation ids, docs/api.md, dashboard."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from starlette.testclient import TestClient

from ado.api.app import create_app, operations
from ado.api.schemas import InfoOut
from ado.errors import StoreError
from ado.store import Store

from .conftest import loaded_config

ROOT = Path(__file__).resolve().parents[2]
OPERATIONS = {
    "health", "ready", "info", "listTasks", "createTask", "getTask", "listTaskEvents",
    "cancelTask", "getDashboardStats", "getUsageHistory", "listProviders", "updateProvider",
    "getProviderUsage", "getSettings", "updateSettings", "listAlerts",
}  # fmt: skip


def test_health(client: TestClient, store: Store, monkeypatch: Any) -> None:
    assert client.get("/health").json() == {"status": "ok"}
    assert client.get("/health/ready").json() == {"status": "ready", "checks": {"store": "ok"}}
    info = InfoOut.model_validate(client.get("/health/info").json())
    assert info.memory_mb > 10 and info.store == store.url_redacted

    def down() -> None:
        raise StoreError("cannot connect to PostgreSQL")

    monkeypatch.setattr(store, "current_revision", down)
    response = client.get("/health/ready")
    assert response.status_code == 503
    assert response.json()["checks"]["store"] == "cannot connect to PostgreSQL"


def test_every_route_has_a_stable_operation_id_and_is_documented(client: TestClient) -> None:
    found = operations(client.app)  # type: ignore[arg-type]
    ids = {operation_id for _, _, operation_id in found}
    assert OPERATIONS <= ids and None not in ids
    schema = client.get("/api/openapi.json").json()
    in_schema = {op["operationId"] for path in schema["paths"].values() for op in path.values()}
    assert in_schema == ids
    doc = (ROOT / "docs" / "api.md").read_text(encoding="utf-8")
    for method, path, operation_id in found:
        assert f"`{method} {path}`" in doc, f"{method} {path} missing from docs/api.md"
        assert f"`{operation_id}`" in doc, operation_id
    assert client.get("/api/docs").status_code == 200


def test_one_error_shape(client: TestClient) -> None:
    for response in (
        client.get("/api/nothing-here"),
        client.delete("/api/tasks"),
        client.post(
            "/api/tasks", content=b"{not json", headers={"content-type": "application/json"}
        ),
        client.get("/api/tasks/abc"),
    ):
        assert response.status_code in (400, 404, 405, 422), response.text
        body = response.json()
        assert set(body["error"]) == {"code", "message", "details"}


def test_dashboard_fallback(store: Store, tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    app = create_app(loaded_config=loaded_config(tmp_path), store=store, dashboard_dir=dist)
    with TestClient(app) as client:
        assert "not built" in client.get("/").text
        dist.mkdir()
        (dist / "index.html").write_text("<html>SPA</html>")
        (dist / "app.js").write_text("console.log(1)")
        assert client.get("/tasks/7").text == "<html>SPA</html>"
        assert client.get("/app.js").text == "console.log(1)"
        assert client.get("/../secret").status_code in (200, 404)
        assert client.get("/api/unknown").status_code == 404


def test_alerts_are_listed(client: TestClient, store: Store) -> None:
    assert client.get("/api/alerts").json() == {"items": [], "nextCursor": None}
    if not hasattr(store, "record_alert"):
        return
    response = client.get("/api/alerts", params={"cursor": "bad"})
    assert response.status_code == 422
