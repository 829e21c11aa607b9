"""A real ``ado serve`` subprocess running tasks through scripted agents."""

from __future__ import annotations

import json
import signal
import time
from collections.abc import Callable
from datetime import datetime
from typing import Any

import pytest
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.fixtures.ado import Project
from tests.server.conftest import Gate, Server, start_server
from tests.support import group_gone, wait_for

Serve = Callable[..., Server]


def _configure(project: Project, gate: Gate, parallel: int = 4, **provider: Any) -> None:
    project.write_config(
        {"cursor-agent": gate.provider(**provider)},
        orchestration={"maxParallelAgents": parallel},
    )


def _post(server: Server, prompt: str = "do it", **body: Any) -> int:
    with server.client() as client:
        response = client.post("/api/tasks", json={"prompt": prompt, **body})
    assert response.status_code == 201, response.text
    task_id: int = response.json()["id"]
    return task_id


def _task(server: Server, task_id: int) -> dict[str, Any]:
    with server.client() as client:
        response = client.get(f"/api/tasks/{task_id}")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _status_is(server: Server, task_id: int, *statuses: str) -> Callable[[], bool]:
    return lambda: _task(server, task_id)["status"] in statuses


def _recv_until(
    ws: ClientConnection, predicate: Callable[[dict[str, Any]], bool], timeout: float = 30
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Messages until one matches; (that one, all of them)."""
    seen = []
    deadline = time.monotonic() + timeout
    while True:
        message = json.loads(ws.recv(timeout=max(0.01, deadline - time.monotonic())))
        seen.append(message)
        if predicate(message):
            return message, seen


def test_a_posted_task_runs_to_success_with_its_events(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, gated=False)
    server = serve()
    task_id = _post(server, "write notes", cwd=str(project.root))
    wait_for(_status_is(server, task_id, "succeeded", "failed"), what="the task to end")
    task = _task(server, task_id)
    assert task["status"] == "succeeded", task
    assert task["attempts"][0]["provider"] == "cursor-agent"
    assert task["inputTokens"] == 123 and task["outputTokens"] == 45
    with server.client() as client:
        events = client.get(f"/api/tasks/{task_id}/events").json()["items"]
    kinds = [e["kind"] for e in events]
    assert kinds[0] == "attempt_started" and kinds[-1] == "task_finished"
    assert "text" in kinds


def test_metrics_and_notifications_are_wired_into_the_pool(
    project: Project, gate: Gate, serve: Serve
) -> None:
    """Tasks run by the server's pool are counted on /metrics and recorded as alerts."""
    from prometheus_client.parser import text_string_to_metric_families

    project.write_config(
        {"cursor-agent": gate.provider(gated=False)},
        notifications={
            "channels": {"webhook": {"enabled": True, "url": "http://127.0.0.1:9/x"}},
            "delivery": {"retries": 0},
        },
    )
    server = serve()
    task_id = _post(server, "write notes", cwd=str(project.root))
    wait_for(_status_is(server, task_id, "succeeded", "failed"), what="the task to end")

    def counted() -> dict[str, float]:
        with server.client() as client:
            text = client.get("/metrics").text
        return {
            sample.name: sample.value
            for family in text_string_to_metric_families(text)
            for sample in family.samples
            if sample.labels.get("provider") == "cursor-agent"
        }

    samples = wait_for(lambda: counted().get("ado_tasks_total"), what="ado_tasks_total")
    assert samples == 1

    def alerts() -> list[dict[str, Any]]:
        with server.client() as client:
            items: list[dict[str, Any]] = client.get("/api/alerts").json()["items"]
        return items

    recorded = wait_for(alerts, what="an alert for the task")
    assert any(a["taskId"] == task_id for a in recorded), recorded


def test_max_parallel_agents_is_respected_and_the_rest_wait_queued(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, parallel=2)
    server = serve()
    ids = [_post(server, f"task {i}") for i in range(5)]
    wait_for(lambda: gate.starts() == 2, what="two agents to start")
    statuses = sorted(_task(server, i)["status"] for i in ids)
    assert statuses == ["queued", "queued", "queued", "running", "running"]
    gate.open()
    wait_for(lambda: all(_task(server, i)["status"] == "succeeded" for i in ids), what="all tasks")
    assert gate.starts() == 5 and gate.max_parallel() == 2


def test_a_cli_run_in_another_process_streams_over_the_websocket(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate)
    server = serve()
    with connect(server.ws_url, open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello"
        run = project.popen("run", "from the terminal")
        try:
            message, _ = _recv_until(ws, lambda m: m["type"] == "task")
            received = time.time()
            task = message["task"]
            assert task["prompt"] == "from the terminal" and task["status"] == "running"
            created = datetime.fromisoformat(task["createdAt"]).timestamp()
            assert received - created < 1.0, f"appeared {received - created:.3f} s after"
            started, _ = _recv_until(ws, lambda m: m["type"] == "event")
            assert started["event"]["kind"] == "attempt_started"
            assert started["event"]["taskId"] == task["id"]
            gate.open()
            _, seen = _recv_until(
                ws, lambda m: m["type"] == "task" and m["task"]["status"] == "succeeded"
            )
            kinds = [m["event"]["kind"] for m in seen if m["type"] == "event"]
            assert "task_finished" in kinds and "text" in kinds
            assert run.wait(timeout=60) == 0
        finally:
            if run.poll() is None:
                run.kill()
            run.communicate()


def test_the_websocket_resumes_after_an_event_id(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, gated=False)
    server = serve()
    task_id = _post(server)
    wait_for(_status_is(server, task_id, "succeeded"), what="the task")
    with server.client() as client:
        stored = [e["id"] for e in client.get(f"/api/tasks/{task_id}/events").json()["items"]]
    with connect(f"{server.ws_url}?after={stored[1]}", open_timeout=10) as ws:
        hello = json.loads(ws.recv(timeout=10))
        assert hello["type"] == "hello" and hello["lastEventId"] <= stored[-1]
        replayed = [json.loads(ws.recv(timeout=10))["event"]["id"] for _ in stored[2:]]
    assert replayed == stored[2:]


def test_cancel_through_the_api_queued_and_running(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, parallel=1)
    server = serve()
    running, queued = _post(server, "first"), _post(server, "second")
    wait_for(lambda: gate.starts() == 1, what="the first agent")
    agent_pid = wait_for(lambda: _agent_pid(server.project, running), what="its pid")
    with server.client() as client:
        response = client.post(f"/api/tasks/{queued}/cancel")
        assert response.status_code == 202 and response.json()["status"] == "cancelled"
        response = client.post(f"/api/tasks/{running}/cancel")
        assert response.status_code == 202 and response.json()["status"] == "cancelled"
        again = client.post(f"/api/tasks/{running}/cancel")
    assert again.status_code == 409 and again.json()["error"]["code"] == "task_not_cancellable"
    task = _task(server, running)
    assert task["status"] == "cancelled" and task["attempts"][0]["outcome"] == "cancelled"
    assert _task(server, queued)["status"] == "cancelled"
    wait_for(lambda: group_gone(agent_pid), what="the agent's process group to go")
    assert gate.starts() == 1


def _agent_pid(project: Project, task_id: int) -> int | None:
    store = project.store()
    try:
        task = store.get_task(task_id)
        return task.attempts[0].agent_pid if task and task.attempts else None
    finally:
        store.close()


def test_sigterm_lets_a_running_task_finish_within_the_grace(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, parallel=1)
    server = serve("--grace", "60")
    running, queued = _post(server, "finishes"), _post(server, "stays queued")
    wait_for(lambda: gate.starts() == 1, what="the agent")
    server.signal(signal.SIGTERM)
    wait_for(lambda: "stopping" in server.output(), what="the shutdown to begin")
    assert server.proc.poll() is None  # still waiting for the task
    gate.open()
    assert server.wait() == 0, server.output()
    store = project.store()
    tasks = {t.id: t.status for t in store.tasks_by_id([running, queued])}
    assert tasks == {running: "succeeded", queued: "queued"}


def test_sigterm_cancels_what_outlives_the_grace(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, parallel=1)
    server = serve("--grace", "0.5")
    task_id = _post(server, "never finishes")
    agent_pid = wait_for(lambda: _agent_pid(project, task_id), what="the agent")
    with connect(server.ws_url, open_timeout=10) as ws:
        json.loads(ws.recv(timeout=10))
        server.signal(signal.SIGTERM)
        with pytest.raises(ConnectionClosed) as closed:
            while True:
                ws.recv(timeout=30)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1001
    assert server.wait() == 0, server.output()
    task = project.store().get_task(task_id)
    assert task is not None and task.status == "cancelled"
    assert task.attempts[0].outcome == "cancelled"
    assert group_gone(agent_pid)


def test_a_second_sigint_cancels_at_once(project: Project, gate: Gate, serve: Serve) -> None:
    _configure(project, gate, parallel=1)
    server = serve("--grace", "600")
    task_id = _post(server)
    wait_for(lambda: _agent_pid(project, task_id), what="the agent")
    server.signal(signal.SIGINT)
    wait_for(lambda: "stopping" in server.output(), what="the first signal")
    server.signal(signal.SIGINT)
    assert server.wait(timeout=30) == 0, server.output()
    task = project.store().get_task(task_id)
    assert task is not None and task.status == "cancelled"


def test_restart_after_kill_9_interrupts_running_and_resumes_queued(
    project: Project, gate: Gate, serve: Serve
) -> None:
    _configure(project, gate, parallel=1)
    server = serve()
    running, queued = _post(server, "killed"), _post(server, "resumed")
    agent_pid = wait_for(lambda: _agent_pid(project, running), what="the agent")
    server.proc.kill()
    server.proc.wait()
    gate.open()
    restarted = serve(port=server.port)
    wait_for(_status_is(restarted, queued, "succeeded"), what="the queued task to run")
    task = _task(restarted, running)
    assert task["status"] == "interrupted" and "exited while the task was running" in task["error"]
    wait_for(lambda: group_gone(agent_pid), what="the orphaned agent to be stopped")


def test_bound_beyond_loopback_the_api_needs_a_token(project: Project, gate: Gate) -> None:
    _configure(project, gate, gated=False)
    refused = project.run("serve", "--host", "0.0.0.0", "--port", "1", "--no-open", timeout=60)
    assert refused.returncode == 2
    assert "ado tokens create NAME" in refused.stderr and "Traceback" not in refused.stderr
    store = project.store()
    _, token = store.create_token("ci")
    store.close()
    server = start_server(project, host="0.0.0.0")
    try:
        with server.client() as client:
            assert client.get("/api/tasks").status_code == 401
            ok = client.get("/api/tasks", headers={"Authorization": f"Bearer {token}"})
            assert ok.status_code == 200
        with connect(server.ws_url, open_timeout=10) as ws, pytest.raises(ConnectionClosed) as no:
            ws.recv(timeout=10)
        assert no.value.rcvd is not None and no.value.rcvd.code == 4401
        with connect(f"{server.ws_url}?token={token}", open_timeout=10) as ws:
            assert json.loads(ws.recv(timeout=10))["type"] == "hello"
    finally:
        server.stop()


def test_the_dashboard_alias_serves_too(project: Project, gate: Gate) -> None:
    _configure(project, gate, gated=False)
    help_text = project.run("dashboard", "--help", check_code=0).stdout
    assert "--grace" in help_text and "--no-open" in help_text
