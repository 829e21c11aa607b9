"""Schemathesis against the OpenAPI schema of a real ``ado serve``: every operation, the
coverage, fuzzing and stateful phases, a bounded number of examples (about two minutes).
It fails on any 5xx, a response that does not match its schema, an undocumented status or
content type, an ``Allow`` header that does not list the documented methods, or invalid
data accepted."""

from __future__ import annotations

import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.fixtures.ado import Project
from tests.server.conftest import Server

pytest.importorskip("schemathesis")

#: Every check runs (schemathesis' default), except, with the reason:
#: - positive_data_acceptance: the schema cannot say which provider names exist, that
#:   `provider` and `providers` exclude each other, or which settings keys are known, so
#:   some schema-valid bodies are refused (422) on purpose.
CONFIG = """\
[checks]
positive_data_acceptance.enabled = false
"""


def _schemathesis() -> list[str]:
    found = shutil.which("schemathesis", path=str(Path(sys.executable).parent))
    if found is None:
        pytest.skip("schemathesis is not installed (pip install -e '.[test]')")
    return [found]


def test_the_api_holds_to_its_schema_under_fuzzing(
    project: Project, serve: Callable[..., Server], tmp_path: Path
) -> None:
    project.write_config(
        {
            "claude-code": {
                "enabled": True,
                "command": "/nonexistent/claude",
                "accessModes": [
                    {"mode": "subscription", "priority": 1},
                    {"mode": "api", "priority": 5},
                ],
            },
            "codex": {
                "enabled": True,
                "command": "/nonexistent/codex",
                "accessModes": [{"mode": "subscription", "priority": 2}],
            },
        }
    )
    server = serve()
    config = tmp_path / "schemathesis.toml"
    config.write_text(CONFIG)
    proc = subprocess.run(
        [
            *_schemathesis(),
            "--no-color",
            "--config-file",
            str(config),
            "run",
            f"{server.url}/api/openapi.json",
            "--phases",
            "coverage,fuzzing,stateful",
            "--max-examples",
            "10",
            "--workers",
            "1",
            "--generation-database",
            "none",
            "--request-timeout",
            "30",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    report = proc.stdout + proc.stderr
    assert proc.returncode == 0, report
    summary = report.strip().splitlines()[-1]
    assert "failure" not in summary and "error" not in summary, report
    assert " passed" in report, report
    assert server.proc.poll() is None, server.output()
    assert "Traceback" not in server.output(), server.output()
