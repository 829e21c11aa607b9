"""The dashboard's TypeScript client is generated from the API's current OpenAPI schema."""

from __future__ import annotations

import hashlib
import json
import re

from ado.dashboard import DIST
from ado.dashboard.openapi import openapi_json
from tests.dashboard.conftest import ROOT

DASHBOARD = ROOT / "dashboard"
FIX = "run scripts/build_dashboard and commit what it changes"


def test_the_committed_schema_matches_the_app() -> None:
    committed = (DASHBOARD / "openapi.json").read_text()
    assert json.loads(committed) == json.loads(openapi_json()), f"the API changed: {FIX}"


def test_the_typescript_client_was_generated_from_that_schema() -> None:
    first = (DASHBOARD / "src" / "api" / "schema.ts").read_text().splitlines()[0]
    match = re.search(r"sha256 ([0-9a-f]{64})", first)
    assert match, f"schema.ts was not written by scripts/build_dashboard: {FIX}"
    digest = hashlib.sha256((DASHBOARD / "openapi.json").read_bytes()).hexdigest()
    assert match.group(1) == digest, f"schema.ts is older than openapi.json: {FIX}"


def test_the_built_dashboard_ships_in_the_package() -> None:
    index = (DIST / "index.html").read_text()
    scripts = re.findall(r'src="/(assets/[^"]+\.js)"', index)
    assert scripts, "index.html loads the bundle"
    for script in scripts:
        assert (DIST / script).is_file()


def _enums(node: object) -> list[list[str]]:
    """Every ``enum`` of strings in a JSON schema."""
    found: list[list[str]] = []
    if isinstance(node, dict):
        values = node.get("enum")
        if isinstance(values, list) and all(isinstance(v, str) for v in values):
            found.append(values)
        for child in node.values():
            found += _enums(child)
    elif isinstance(node, list):
        for child in node:
            found += _enums(child)
    return found


def test_no_enum_of_the_api_is_typed_again_in_the_dashboard() -> None:
    """The choices come from schema.ts (generated with each enum's values): a list literal
    holding every value of an enum is a hand-made copy that would drift."""
    enums = [set(e) for e in _enums(json.loads((DASHBOARD / "openapi.json").read_text()))]
    enums = [e for e in enums if len(e) >= 2]
    assert any("succeeded" in e for e in enums), "the task statuses are an enum in the schema"
    sources = [
        p for p in (DASHBOARD / "src").rglob("*.ts*") if p.name not in ("schema.ts", "schema.d.ts")
    ]
    assert sources
    for path in sources:
        for span in re.findall(r"\[[^\[\]]*\]", path.read_text()):
            quoted = set(re.findall(r"""["']([^"'\n]+)["']""", span))
            for values in enums:
                assert not values <= quoted, (
                    f"{path.relative_to(ROOT)} types the enum {sorted(values)} by hand: "
                    "import its values from src/api/types.ts (generated from the schema)"
                )
