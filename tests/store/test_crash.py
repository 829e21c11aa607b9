"""A writer killed with SIGKILL mid-write leaves a sound database and an interrupted task."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

from sqlalchemy import func, select, text

from ado.store import Store
from ado.store.models import Event, Task

WRITER = """
import os, sys
from ado.providers.events import AgentEvent, EventKind, Usage
from ado.store import Store

store = Store(os.environ["URL"])
store.migrate()
task_id = store.create_task(prompt="long job", cwd="/", hitl_policy="autonomous", options={})
attempt_id = store.start_attempt(
    task_id, number=1, provider="claude-code", access_mode="subscription", model=None, reason="r"
)
print(task_id, flush=True)
batch = [AgentEvent(EventKind.TEXT, text="x" * 300) for _ in range(100)]
n = 0
while True:
    store.add_events(task_id, attempt_id, batch)
    store.create_task(
        prompt="queued", cwd="/", hitl_policy="autonomous", options={}, status="queued"
    )
    store.record_usage(provider="claude-code", access_mode="subscription", task_id=task_id,
                       attempt_id=attempt_id, model=None, usage=Usage(1, 1), cost_usd=0.0,
                       api_cost_usd=0.01)
    n += 1
    print(n, flush=True)
"""


def test_sigkill_mid_write_keeps_the_database_consistent(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'state.db'}"
    writer = subprocess.Popen(
        [sys.executable, "-c", WRITER],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "URL": url},
    )
    assert writer.stdout is not None
    task_id = int(writer.stdout.readline())
    for line in writer.stdout:  # let it write a while, then kill it wherever it is
        if int(line) >= 30:
            break
    os.kill(writer.pid, signal.SIGKILL)
    writer.wait(timeout=30)
    writer.stdout.close()
    assert writer.stderr is not None
    writer.stderr.close()

    store = Store(url)
    try:
        store.migrate()
        with store.session() as session:
            assert session.execute(text("PRAGMA integrity_check")).scalar() == "ok"
            assert session.execute(text("PRAGMA foreign_key_check")).all() == []
            events = session.scalar(select(func.count(Event.id)).where(Event.task_id == task_id))
            queued = session.scalar(select(func.count(Task.id)).where(Task.status == "queued"))
        assert events is not None and events >= 3000
        assert events % 100 == 0, "a batch of events was stored in part"
        assert queued is not None and queued >= 30

        assert store.mark_orphans_interrupted() == 1
        task = store.get_task(task_id)
        assert task is not None
        assert task.status == "interrupted"
        assert task.error == f"ADO process {writer.pid} exited while the task was running"
        assert [a.outcome for a in task.attempts] == ["interrupted"]
        store.create_task(prompt="after", cwd="/", hitl_policy="autonomous", options={})
    finally:
        store.close()
