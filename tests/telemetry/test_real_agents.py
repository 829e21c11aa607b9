"""Telemetry with a REAL agent: Claude Code gets a 429 from the scripted model server, ADO
fails over to the fake cursor-agent; the trace shows both attempts, the metrics the limit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ado.testing.behaviours import RateLimit
from ado.testing.model_server import ScriptedModelServer
from tests.agent_harness import PROVIDERS, cursor_agent_provider
from tests.fixtures.ado import Project
from tests.telemetry.conftest import OtlpReceiver

pytestmark = pytest.mark.agents


def test_claude_rate_limited_then_cursor(
    project: Project, tmp_path: Path, otlp_receiver: OtlpReceiver
) -> None:
    target = project.root / "after.txt"
    with ScriptedModelServer() as limited:
        limited.set_default(RateLimit(retry_after_s=30, message="Rate limit reached"))
        claude = PROVIDERS["claude-code"](limited.url, tmp_path / "c", retries=True)
        fallback = cursor_agent_provider("", tmp_path, write=f"{target}:hi")
        fallback["accessModes"][0]["priority"] = 2
        project.write_config(
            {"claude-code": claude, "cursor-agent": fallback},
            observability={"telemetry": {"enabled": True, "endpoint": otlp_receiver.url}},
        )
        proc = project.run("run", "--json", "write the file", timeout=240, check_code=0)
    summary = json.loads(proc.stdout.strip().splitlines()[-1])
    assert [a["provider"] for a in summary["attempts"]] == ["claude-code", "cursor-agent"]
    spans = [s for s in otlp_receiver.spans() if s.resource.get("service.name") == "ado"]
    (task,) = [s for s in spans if s.name == "ado.task"]
    attempts = sorted(
        (s for s in spans if s.name == "ado.attempt"),
        key=lambda s: s.attributes["ado.attempt.number"],
    )
    assert [
        (a.attributes["ado.provider"], a.attributes["ado.attempt.outcome"]) for a in attempts
    ] == [
        ("claude-code", "rate_limited"),
        ("cursor-agent", "success"),
    ]
    assert attempts[0].attributes["gen_ai.system"] == "anthropic"
    assert attempts[0].status == 2 and attempts[1].status == 1
    assert all(a.parent_id == task.span_id for a in attempts)
    limits = otlp_receiver.metrics()["ado.rate_limits.total"]
    assert [(p.attributes, p.value) for p in limits] == [
        ({"provider": "claude-code", "access_mode": "subscription"}, 1)
    ]
