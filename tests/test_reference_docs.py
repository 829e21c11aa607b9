"""docs/api-reference.md and docs/troubleshooting.md are generated and must not drift: every
operation, WebSocket message, error code, error class and exit code has its entry, and a new
one without an entry fails rendering rather than going undocumented."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

from ado.errors import AdoError

ROOT = Path(__file__).resolve().parent.parent
FIX = "run `python scripts/gen_docs.py` and commit the result"


def _load(name: str) -> ModuleType:
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


ref = _load("gen_reference")


@pytest.fixture(scope="module")
def openapi() -> dict[str, Any]:
    from ado.dashboard.openapi import openapi_schema

    return openapi_schema()


@pytest.fixture(scope="module")
def api_doc() -> str:
    return (ROOT / "docs" / "api-reference.md").read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def trouble_doc() -> str:
    return (ROOT / "docs" / "troubleshooting.md").read_text(encoding="utf-8")


def _section(text: str, heading: str) -> str:
    parts = text.split(f"\n{heading}\n", 1)
    assert len(parts) == 2, f"{heading!r} is not documented: {FIX}"
    return parts[1].split("\n### ", 1)[0].split("\n## ", 1)[0]


def test_committed_reference_docs_match_the_code(api_doc: str, trouble_doc: str) -> None:
    outputs = ref.outputs()
    assert outputs[ref.API_REFERENCE] == api_doc, f"docs/api-reference.md is stale: {FIX}"
    assert outputs[ref.TROUBLESHOOTING] == trouble_doc, f"docs/troubleshooting.md is stale: {FIX}"


def test_gen_docs_writes_and_checks_both() -> None:
    """``gen_docs.py`` (its ``--check`` is tests/test_docs.py's) writes this module's files."""
    gen_docs = _load("gen_docs")
    assert gen_docs._reference() is ref
    assert "**_reference().outputs()" in (ROOT / "scripts" / "gen_docs.py").read_text("utf-8")


def test_every_operation_is_documented_with_its_parameters_body_and_responses(
    openapi: dict[str, Any], api_doc: str
) -> None:
    seen = 0
    for path, item in openapi["paths"].items():
        for method, op in item.items():
            body = _section(api_doc, f"### `{method.upper()} {path}` — `{op['operationId']}`")
            for param in op.get("parameters", ()):
                assert f"| `{param['name']}` | {param['in']} |" in body, (path, param["name"])
            if request := op.get("requestBody"):
                schema = request["content"]["application/json"]["schema"]["$ref"]
                assert f"[`{schema.rsplit('/', 1)[-1]}`]" in body, (path, schema)
            for status in op["responses"]:
                assert f"\n| {status} |" in body, (method, path, status)
            seen += 1
    assert seen >= 20


def test_every_schema_and_field_is_documented(openapi: dict[str, Any], api_doc: str) -> None:
    for name, schema in openapi["components"]["schemas"].items():
        body = _section(api_doc, f"### {name}")
        for field in schema.get("properties", {}):
            assert f"| `{field}` |" in body, f"{name}.{field} is not documented: {FIX}"
        for value in schema.get("enum", ()):
            assert f"`{value}`" in body, (name, value)


def test_every_websocket_message_is_documented(openapi: dict[str, Any], api_doc: str) -> None:
    from ado.api.routes import ws

    live = openapi["components"]["schemas"]["LiveMessage"]
    section = api_doc.split("## WebSocket: `/api/ws`", 1)[1].split("\n## ", 1)[0]
    kinds = live["discriminator"]["mapping"]
    assert {"hello", "event", "events", "task", "provider", "resync", "ping", "pong"} <= set(kinds)
    for kind, target in kinds.items():
        name = target.rsplit("/", 1)[-1]
        assert f"| `{kind}` | [`{name}`](#{name.lower()}) |" in section, kind
    for close in (ws.UNAUTHORIZED, ws.GOING_AWAY, ws.UNAVAILABLE):
        assert str(close) in section


def test_the_error_shape_is_the_one_the_api_sends(api_doc: str, tmp_path: Path) -> None:
    """The documented example has the keys of a real answer, whose code is in the table."""
    import json
    import re

    from starlette.testclient import TestClient

    from ado.api.app import create_app
    from ado.config.loader import LoadedConfig
    from ado.config.schema import AdoConfig
    from ado.store import Store

    example = re.search(r"```json\n(.*?)\n```", api_doc, re.DOTALL)
    assert example is not None, "docs/api-reference.md lost its error example"
    documented = json.loads(example.group(1))
    store = Store(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        loaded = LoadedConfig(config=AdoConfig(), path=None, base_dir=tmp_path)
        with TestClient(create_app(loaded_config=loaded, store=store)) as client:
            invalid = client.get("/api/tasks", params={"limit": 0})
            missing = client.get("/api/no-such-thing")
    finally:
        store.close()
    assert invalid.status_code == 422 and missing.status_code == 404
    table = api_doc.split("### Error codes", 1)[1]
    for answer in (invalid.json(), missing.json()):
        assert answer.keys() == documented.keys() == {"error"}
        assert answer["error"].keys() == documented["error"].keys()
        assert f"| `{answer['error']['code']}` |" in table
    detail = invalid.json()["error"]["details"][0]
    assert detail.keys() == documented["error"]["details"][0].keys()
    assert detail["field"] == "limit"


def test_every_error_code_is_documented_with_its_status(api_doc: str) -> None:
    codes = ref.error_codes()
    # the codes of each source: the classes, ApiError.CODES and the guard's literals
    assert {"task_not_cancellable", "store_unavailable", "delivery_failed"} <= set(codes)
    assert {"method_not_allowed", "unsupported_media_type"} <= set(codes)
    assert {"host_not_allowed", "origin_not_allowed", "invalid_json"} <= set(codes)
    table = api_doc.split("### Error codes", 1)[1].split("\n## ", 1)[0]
    for code, statuses in codes.items():
        rows = [line for line in table.splitlines() if line.startswith(f"| `{code}` |")]
        assert len(rows) == 1, f"error code {code} is not documented: {FIX}"
        for status in statuses:
            assert f"| {status}" in rows[0], (code, status, rows[0])


def test_every_error_class_and_exit_code_is_in_troubleshooting(trouble_doc: str) -> None:
    classes = ref.error_classes()
    names = {c.__name__ for c in classes}
    assert {"AdoError", "ConfigError", "StoreUnavailable", "ApiError", "DeliveryError"} <= names
    for cls in classes:
        body = _section(trouble_doc, f"### {cls.__name__}")
        assert f"exit code {cls.exit_code}," in body
        assert "**Cause.**" in body and "**Fix.** " in body
    exits = trouble_doc.split("## Exit codes", 1)[1].split("\n## ", 1)[0]
    for code in {0, 1, 2, 130} | {c.exit_code for c in classes}:
        assert f"\n| {code} | " in exits, f"exit code {code} is not documented: {FIX}"


def test_the_cli_exit_codes_are_the_documented_ones() -> None:
    """docs/cli.md's summary line names the same exit codes as the troubleshooting table."""
    cli = (ROOT / "docs" / "cli.md").read_text(encoding="utf-8")
    for code in ref.EXIT_CODES:
        assert f" {code} " in cli.split("Exit codes:", 1)[1].split("\n", 1)[0], code


# -- the adversarial cases: what is new and undocumented fails ------------------------------


@pytest.fixture
def new_error() -> Iterator[type[AdoError]]:
    """An ``AdoError`` subclass as a new module of ``ado`` would define it; afterwards moved
    out of ``ado`` (``error_classes`` reads only ``ado``'s), so no other test sees it."""
    cls = type(
        "QuotaExhausted",
        (AdoError,),
        {"__module__": "ado.quota_new", "__doc__": "A new error.", "code": "quota_exhausted"},
    )
    yield cls
    cls.__module__ = "tests.gone"
    assert "QuotaExhausted" not in {c.__name__ for c in ref.error_classes()}


def test_a_new_error_class_without_a_fix_fails(new_error: type[AdoError]) -> None:
    with pytest.raises(SystemExit, match=r"without an entry in FIXES: \['QuotaExhausted'\]"):
        ref.render_troubleshooting()


def test_a_new_error_code_without_an_entry_fails(new_error: type[AdoError]) -> None:
    with pytest.raises(SystemExit, match=r"without an entry in ERROR_CODES: \['quota_exhausted'\]"):
        ref.render_api_reference()


def test_a_new_exit_code_without_an_entry_fails(
    new_error: type[AdoError], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ref.FIXES, "QuotaExhausted", "wait")
    monkeypatch.setattr(new_error, "exit_code", 5)
    with pytest.raises(SystemExit, match=r"without an entry in EXIT_CODES: \[5\]"):
        ref.render_troubleshooting()


def test_a_new_error_class_without_a_docstring_fails(
    new_error: type[AdoError], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(ref.FIXES, "QuotaExhausted", "wait")
    monkeypatch.setattr(new_error, "__doc__", None)
    with pytest.raises(SystemExit, match=r"without a docstring .*QuotaExhausted"):
        ref.render_troubleshooting()


def test_entries_for_what_no_longer_exists_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ref.FIXES, "RemovedError", "gone")
    with pytest.raises(SystemExit, match=r"no longer exist: \['RemovedError'\]"):
        ref.render_troubleshooting()
    monkeypatch.delitem(ref.FIXES, "RemovedError")
    monkeypatch.setitem(ref.ERROR_CODES, "removed_code", ("400", "gone"))
    with pytest.raises(SystemExit, match=r"no longer answered: \['removed_code'\]"):
        ref.render_api_reference()


def test_a_wrong_status_for_a_code_fails(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(ref.ERROR_CODES, "rate_limited", ("400", "wrong"))
    with pytest.raises(SystemExit, match=r"HTTP status is wrong: \['rate_limited \(\[429\]\)'\]"):
        ref.render_api_reference()


def test_a_literal_code_in_a_new_route_is_found(tmp_path: Path) -> None:
    route = tmp_path / "teapot.py"
    route.write_text(
        "from ado.errors import ApiError\n"
        "def brew():\n"
        "    raise ApiError(418, 'I am a teapot', code='teapot')\n"
        "def refuse(send):\n"
        "    return error_response(451, 'legal_hold', 'not here')\n"
        "def other():\n"
        "    print('not_a_code')\n",
        encoding="utf-8",
    )
    assert ref.literal_codes([route]) == {"teapot": {418}, "legal_hold": {451}}


def test_a_new_route_makes_the_committed_reference_stale(
    openapi: dict[str, Any], api_doc: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import copy

    import ado.dashboard.openapi

    changed = copy.deepcopy(openapi)
    changed["paths"]["/api/teapots"] = {
        "get": {
            "operationId": "listTeapots",
            "parameters": [{"name": "spout", "in": "query", "schema": {"type": "string"}}],
            "responses": {"200": {"description": "Teapots"}},
        }
    }
    monkeypatch.setattr(ado.dashboard.openapi, "openapi_schema", lambda: changed)
    rendered = ref.render_api_reference()
    assert rendered != api_doc
    section = _section(rendered, "### `GET /api/teapots` — `listTeapots`")
    assert "| `spout` | query | string | no |" in section
