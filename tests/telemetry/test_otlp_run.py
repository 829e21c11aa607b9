"""``ado run`` with telemetry pointed at a real OTLP/HTTP receiver: spans and metrics."""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

from tests.fixtures.ado import Project
from tests.telemetry.conftest import OtlpReceiver, Point, Span

PROMPT = "Create notes.txt with a secret plan: " + "x" * 200


def _summary(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout.strip().splitlines()[-1])
    return summary


def _telemetry(receiver: OtlpReceiver, **extra: Any) -> dict[str, Any]:
    return {
        "telemetry": {
            "enabled": True,
            "endpoint": receiver.url,
            "serviceName": "ado-test",
            **extra,
        }
    }


def _one(spans: list[Span], name: str) -> Span:
    found = [s for s in spans if s.name == name]
    assert len(found) == 1, [s.name for s in spans]
    return found[0]


def _points(metrics: dict[str, list[Point]], name: str) -> list[Point]:
    assert name in metrics, sorted(metrics)
    return metrics[name]


def test_a_task_exports_its_span_tree_and_every_metric(
    project: Project, fake_cursor: Callable[..., dict[str, Any]], otlp_receiver: OtlpReceiver
) -> None:
    target = project.root / "notes.txt"
    project.write_config(
        {"cursor-agent": fake_cursor(FAKE_CURSOR_WRITE=f"{target}:hello")},
        observability=_telemetry(otlp_receiver, promptPrefix=12),
    )
    proc = project.run("run", "--json", PROMPT, check_code=0)
    task_id = _summary(proc.stdout)["taskId"]

    # Everything was flushed before `ado run` exited: no waiting here.
    spans = otlp_receiver.spans()
    task = _one(spans, "ado.task")
    route = _one(spans, "ado.route")
    attempt = _one(spans, "ado.attempt")
    tool = _one(spans, "execute_tool write")
    assert task.parent_id == ""
    assert {s.trace_id for s in spans} == {task.trace_id}
    assert route.parent_id == task.span_id and attempt.parent_id == task.span_id
    assert tool.parent_id == attempt.span_id
    assert task.start_ns <= route.start_ns <= route.end_ns <= attempt.start_ns
    assert attempt.start_ns <= tool.start_ns < tool.end_ns <= attempt.end_ns <= task.end_ns
    assert task.resource["service.name"] == "ado-test"

    assert task.attributes["ado.task.id"] == task_id
    assert task.attributes["ado.task.status"] == "succeeded"
    assert task.attributes["ado.task.exit_code"] == 0
    assert task.attributes["ado.prompt.length"] == len(PROMPT)
    assert task.attributes["ado.prompt.prefix"] == PROMPT[:12]
    assert task.status == 1  # OK
    assert route.attributes["ado.routing.provider"] == "cursor-agent"
    assert route.attributes["ado.routing.access_mode"] == "subscription"
    assert attempt.attributes["ado.provider"] == "cursor-agent"
    assert attempt.attributes["ado.access_mode"] == "subscription"
    assert attempt.attributes["ado.attempt.outcome"] == "success"
    assert attempt.attributes["gen_ai.system"] == "cursor"
    assert attempt.attributes["gen_ai.operation.name"] == "invoke_agent"
    assert attempt.attributes["gen_ai.usage.input_tokens"] == 123
    assert attempt.attributes["gen_ai.usage.output_tokens"] == 45
    assert attempt.attributes["gen_ai.conversation.id"]
    assert attempt.attributes["ado.cost_usd"] == 0.0
    assert attempt.attributes["ado.files_changed"] == 1
    assert tool.attributes["gen_ai.tool.name"] == "write"
    assert tool.attributes["gen_ai.tool.call.id"].startswith("toolu_")
    # The prompt is never exported in full, anywhere.
    exported = b"".join(r.SerializeToString() for r in otlp_receiver.trace_requests)
    assert PROMPT.encode() not in exported and b"secret plan" not in exported

    metrics = otlp_receiver.metrics()
    labels = {"status": "succeeded", "provider": "cursor-agent"}
    assert [(p.attributes, p.value) for p in _points(metrics, "ado.tasks.total")] == [(labels, 1)]
    (duration,) = _points(metrics, "ado.task.duration")
    assert duration.attributes == labels and duration.value == 1 and duration.sum > 0
    ok = {"provider": "cursor-agent", "success": "true"}
    assert [(p.attributes, p.value) for p in _points(metrics, "ado.provider.requests")] == [(ok, 1)]
    (latency,) = _points(metrics, "ado.provider.latency")
    assert latency.attributes == ok and latency.value == 1 and latency.sum > 0
    tokens = {p.attributes["token_type"]: p.value for p in _points(metrics, "ado.tokens.usage")}
    assert tokens == {"input": 123, "output": 45}
    assert all(p.attributes["provider"] == "cursor-agent" for p in metrics["ado.tokens.usage"])
    pair = {"provider": "cursor-agent", "access_mode": "subscription"}
    assert [(p.attributes, p.value) for p in _points(metrics, "ado.cost")] == [(pair, 0)]
    assert [p.value for p in _points(metrics, "ado.tasks.active")] == [0]
    # Nothing failed or was limited: those series exist once something happens (below).
    assert "ado.rate_limits.total" not in metrics and "ado.errors.total" not in metrics


def _two_mode_cursor(tmp_path: Path) -> dict[str, Any]:
    """cursor-agent, rate limited on the subscription and working with an API key."""
    script = tmp_path / "bin2" / "cursor-agent"
    script.parent.mkdir()
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import os
        os.environ["FAKE_CURSOR_SCENARIO"] = (
            "success" if os.environ.get("CURSOR_API_KEY") else "rate_limit"
        )
        from ado.testing.fake_cursor_agent import main
        raise SystemExit(main())
    """)
    )
    script.chmod(0o755)
    return {
        "enabled": True,
        "command": str(script),
        "accessModes": [
            {"mode": "subscription", "priority": 1},
            {"mode": "api", "priority": 2, "api": {"apiKey": "test-key"}},
        ],
    }


def test_a_failover_shows_two_attempts_and_a_rate_limit(
    project: Project, tmp_path: Path, otlp_receiver: OtlpReceiver
) -> None:
    project.write_config(
        {"cursor-agent": _two_mode_cursor(tmp_path)},
        routing={"apiFallback": {"enabled": True}, "failover": {"retryDelay": 0}},
        observability=_telemetry(otlp_receiver),
    )
    proc = project.run("run", "--json", "-y", "do it", check_code=0)
    summary = _summary(proc.stdout)
    assert [a["outcome"] for a in summary["attempts"]] == ["quota_exhausted", "success"]

    spans = otlp_receiver.spans()
    task = _one(spans, "ado.task")
    attempts = sorted(
        (s for s in spans if s.name == "ado.attempt"),
        key=lambda s: s.attributes["ado.attempt.number"],
    )
    routes = sorted((s for s in spans if s.name == "ado.route"), key=lambda s: s.start_ns)
    assert [
        (a.attributes["ado.access_mode"], a.attributes["ado.attempt.outcome"]) for a in attempts
    ] == [
        ("subscription", "quota_exhausted"),
        ("api", "success"),
    ]
    assert all(s.parent_id == task.span_id for s in [*attempts, *routes])
    limited, ok = attempts
    assert limited.status == 2 and "usage limit" in limited.status_message
    assert (
        "exception",
        {"exception.type": "quota_exhausted", "exception.message": limited.status_message},
    ) in limited.events
    assert limited.attributes["ado.cooldown.until"]
    assert ok.status == 1
    assert (
        len(routes) == 2 and limited.end_ns <= routes[1].start_ns <= routes[1].end_ns <= ok.start_ns
    )
    assert any(name == "failover" for name, _ in task.events)

    metrics = otlp_receiver.metrics()
    assert [(p.attributes, p.value) for p in metrics["ado.rate_limits.total"]] == [
        ({"provider": "cursor-agent", "access_mode": "subscription"}, 1)
    ]
    assert [(p.attributes, p.value) for p in metrics["ado.errors.total"]] == [
        ({"provider": "cursor-agent", "error_type": "quota_exhausted"}, 1)
    ]
    requests = {p.attributes["success"]: p.value for p in metrics["ado.provider.requests"]}
    assert requests == {"true": 1, "false": 1}
    cooldown = {
        (p.attributes["provider"], p.attributes["access_mode"]): p.value
        for p in metrics["ado.providers.cooldown"]
    }
    assert cooldown == {("cursor-agent", "subscription"): 1}


def test_no_provider_is_a_failed_task_with_an_error_span(
    project: Project, otlp_receiver: OtlpReceiver
) -> None:
    project.write_config({}, observability=_telemetry(otlp_receiver))
    project.run("run", "--json", "anything", check_code=3)
    spans = otlp_receiver.spans()
    task, route = _one(spans, "ado.task"), _one(spans, "ado.route")
    assert task.status == 2 and task.attributes["ado.task.status"] == "failed"
    assert route.status == 2 and "No provider" in route.status_message
    assert route.events[0][1]["exception.type"] == "RoutingError"
    metrics = otlp_receiver.metrics()
    assert [(p.attributes, p.value) for p in metrics["ado.errors.total"]] == [
        ({"provider": "none", "error_type": "no_provider_available"}, 1)
    ]
    assert [(p.attributes, p.value) for p in metrics["ado.tasks.total"]] == [
        ({"status": "failed", "provider": "none"}, 1)
    ]
