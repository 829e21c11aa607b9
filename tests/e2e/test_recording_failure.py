"""Whatever goes wrong while a run is recorded, its attempt and task end in a truthful final
status, never ``running``, and the agent is stopped (in-process ``Runner``, a real agent
process, a real SQLite store whose event writes start failing mid-run)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ado.config.schema import AdoConfig
from ado.errors import StoreError
from ado.orchestrator import Runner, TaskSpec
from ado.providers.events import AgentEvent
from ado.store import Store

HOSTILE = Path(__file__).resolve().parents[1] / "hostile_agent.py"


class FailingStore(Store):
    """A real store whose event writes fail after ``ok`` batches, with ``error``."""

    def __init__(self, url: str, ok: int, error: Exception) -> None:
        super().__init__(url)
        self.ok = ok
        self.error = error

    def add_events(
        self,
        task_id: int,
        attempt_id: int | None,
        events: Sequence[AgentEvent],
        at: datetime | None = None,
    ) -> list[int]:
        if self.ok <= 0:
            raise self.error
        self.ok -= 1
        return super().add_events(task_id, attempt_id, events, at)


def config(steps: str, **env: str) -> AdoConfig:
    provider: dict[str, Any] = {
        "enabled": True,
        "command": str(HOSTILE),
        "timeout": 120,
        "env": {"HOSTILE_STEPS": steps, **env},
        "accessModes": [{"mode": "subscription", "priority": 1}],
    }
    return AdoConfig.model_validate({"version": "1.1", "providers": {"cursor-agent": provider}})


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.parametrize(
    "error",
    [
        StoreError("PostgreSQL error on db: the disk is full"),
        UnicodeEncodeError("utf-8", "\ud83d", 0, 1, "surrogates not allowed"),  # a bug
    ],
)
async def test_a_store_failure_mid_run_stops_the_agent_and_records_the_truth(
    tmp_path: Path, error: Exception
) -> None:
    pid_file = tmp_path / "child.pid"
    url = f"sqlite:///{tmp_path / 'state.db'}"
    store = FailingStore(url, ok=2, error=error)
    store.migrate()
    runner = Runner(config("child,flood:1,hang", HOSTILE_PID_FILE=str(pid_file)), store)
    spec = TaskSpec(prompt="go", cwd=tmp_path)
    try:
        with pytest.raises(type(error)):  # recorded, then raised (the CLI reports it)
            await runner.run(spec)
        reader = Store(url)
        try:
            (task,) = reader.list_tasks()
            task = reader.get_task(task.id)  # type: ignore[assignment]
            assert task is not None
            assert task.status == "failed" and task.finished_at is not None
            (attempt,) = task.attempts
            assert attempt.outcome == "failed" and attempt.finished_at is not None
            assert "ADO stopped the agent" in (attempt.outcome_message or "")
            assert attempt.agent_pid is not None and not alive(attempt.agent_pid)
        finally:
            reader.close()
        assert not alive(int(pid_file.read_text()))  # its SIGTERM-ignoring child too
    finally:
        store.close()
        if pid_file.exists() and alive(int(pid_file.read_text())):
            os.kill(int(pid_file.read_text()), 9)
