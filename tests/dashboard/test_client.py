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
