"""``ado run`` against a hostile agent (``tests/hostile_agent.py``): floods, huge lines,
text no encoder accepts, NUL, terminal control sequences, children that ignore signals.

Each test checks that ADO's memory stays bounded (the RSS of the ``ado run`` process,
sampled from outside through /proc), that the storage caps hold, that the status is right
(success stays success, tokens are counted) and that nothing is left running.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ado.store import Store
from ado.store.views import EventView, TaskView
from tests.fixtures.ado import Project
from tests.hostile_agent import flood_lines
from tests.support import group_gone, process_gone, wait_for

HOSTILE = Path(__file__).resolve().parents[1] / "hostile_agent.py"
RSS_LIMIT_MB = 150
REPLACEMENT = "\ufffd"


def hostile(
    project: Project, steps: str, storage: dict[str, Any] | None = None, **env: str
) -> None:
    provider = {
        "enabled": True,
        "command": str(HOSTILE),
        "timeout": 300,
        "env": {"HOSTILE_STEPS": steps, **env},
        "accessModes": [{"mode": "subscription", "priority": 1}],
    }
    project.write_config({"cursor-agent": provider}, **({"storage": storage} if storage else {}))


class Sampled:
    """An ``ado`` process whose peak RSS is sampled from /proc while it runs."""

    def __init__(self, project: Project, *args: str, env: dict[str, str] | None = None) -> None:
        self.proc = project.popen(*args, env=env)
        self.peak_kb = 0
        self._sampler = threading.Thread(target=self._sample, daemon=True)
        self._sampler.start()

    def _sample(self) -> None:
        status = Path(f"/proc/{self.proc.pid}/status")
        while self.proc.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmRSS:"):
                        self.peak_kb = max(self.peak_kb, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.01)

    def finish(self, timeout: float = 300) -> tuple[int, str, str]:
        out, err = self.proc.communicate(timeout=timeout)
        self._sampler.join()
        print(f"ado run peak RSS: {self.peak_mb:.1f} MB")  # shown with pytest -s
        return self.proc.returncode, out, err

    @property
    def peak_mb(self) -> float:
        return self.peak_kb / 1024


def summary_of(stdout: str) -> dict[str, Any]:
    summary: dict[str, Any] = json.loads(stdout.splitlines()[-1])
    assert summary["kind"] == "summary"
    return summary


def task_and_events(project: Project, task_id: int) -> tuple[TaskView, list[EventView]]:
    store = project.store()
    try:
        task = store.get_task(task_id)
        assert task is not None
        events: list[EventView] = []
        while True:
            page = store.list_events(task_id, after_id=events[-1].id if events else 0)
            events += page
            if len(page) < 1000:
                return task, events
    finally:
        store.close()


def assert_succeeded(task: TaskView, tokens: tuple[int, int] = (1000, 200)) -> None:
    assert task.status == "succeeded" and task.exit_code == 0, task.error
    assert [a.outcome for a in task.attempts] == ["success"]
    assert (task.input_tokens, task.output_tokens) == tokens


def extra(event: EventView) -> dict[str, Any]:
    """The event's own ``data`` (``AgentEvent.data``, stored under ``data``)."""
    inner: dict[str, Any] = event.data.get("data", {})
    return inner


@pytest.fixture
def pid_file(tmp_path: Path) -> Iterator[Path]:
    """Where the hostile agent writes its SIGTERM-ignoring child's pid; the child is
    killed after the test whatever happened."""
    path = tmp_path / "child.pid"
    yield path
    if path.exists():
        try:
            os.kill(int(path.read_text()), signal.SIGKILL)
        except (ProcessLookupError, ValueError):
            pass


# -- text no encoder accepts, NUL, invalid UTF-8 ----------------------------------------------


def test_surrogates_nul_and_invalid_utf8_are_replaced_and_success_stays_success(
    project: Project,
) -> None:
    hostile(project, "surrogate,nul,utf8,result")
    proc = project.run("run", "--json", "go", check_code=0)
    assert "Traceback" not in proc.stderr
    lines = [json.loads(line) for line in proc.stdout.splitlines()]
    summary = lines[-1]
    assert summary["status"] == "succeeded"
    texts = [line["data"].get("text", "") for line in lines if line["kind"] == "text"]
    assert "cut \ufffd here, pair \U0001f600, low \ufffd" in texts
    assert "nul \ufffd inside" in texts
    assert "bad \ufffd\ufffd" in texts and "cut \ufffd" in texts

    task, events = task_and_events(project, summary["taskId"])
    assert_succeeded(task)
    stored = json.dumps([e.data for e in events], ensure_ascii=False)
    stored.encode("utf-8")  # every stored string is encodable
    assert "\x00" not in stored and "cut \ufffd here" in stored
    files = [f for e in events for f in e.data.get("files", [])]
    assert files == ["file-\ufffd.txt", "a\ufffdb.txt"]
    assert task.attempts[0].files_changed == files

    shown = project.run("tasks", "show", str(task.id), check_code=0)
    assert "cut \ufffd here" in shown.stdout and "Traceback" not in shown.stderr
    as_json = project.run("tasks", "show", str(task.id), "--json", check_code=0)
    assert json.loads(as_json.stdout)["status"] == "succeeded"


def test_the_live_view_survives_the_same_text(project: Project) -> None:
    hostile(project, "surrogate,nul,utf8,result")
    proc = project.run("run", "go", check_code=0)
    assert "cut \ufffd here" in proc.stdout and "succeeded" in proc.stdout
    assert "Traceback" not in proc.stderr


@pytest.mark.parametrize(
    "backend", ["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)]
)
def test_nul_in_agent_output_and_in_the_prompt_on_both_databases(
    project: Project, backend: str, request: pytest.FixtureRequest
) -> None:
    env: dict[str, str] = {}
    if backend == "postgresql":
        env["ADO_DATABASE_URL"] = request.getfixturevalue("postgres_url")
    hostile(project, "nul,result")
    proc = subprocess.run(
        project.ado_argv("run", "--json", "-"),
        cwd=project.root,
        input="fix \x00 this",
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **env},
    )
    assert proc.returncode == 0, proc.stderr
    summary = summary_of(proc.stdout)
    store = Store(env.get("ADO_DATABASE_URL") or f"sqlite:///{project.root / '.ado/state.db'}")
    try:
        task = store.get_task(summary["taskId"])
        assert task is not None
        assert_succeeded(task)
        assert task.prompt == "fix \ufffd this"
        texts = [e.data.get("text") for e in store.list_events(task.id)]
        assert "nul \ufffd inside" in texts
    finally:
        store.close()


# -- terminal control sequences -----------------------------------------------------------------

_RAW = ("\x1b[2J", "\x1b]0;pwned", "\x9b", "\u202e", "\x07", "\x08", "\r")


def test_control_sequences_are_escaped_on_the_terminal_and_exact_in_json(
    project: Project,
) -> None:
    hostile(project, "control,result")
    live = project.run("run", "go", check_code=0)
    task_id = int(live.stdout.rsplit("task ", 1)[1].split()[0])
    shown = project.run("tasks", "show", str(task_id), check_code=0)
    for out in (live.stdout, shown.stdout):
        for raw in _RAW:
            assert raw not in out, f"{raw!r} printed raw"
        assert "clear\\x1b[2J\\x1b[H home" in out
        assert "\\x1b]0;pwned\\x07" in out and "\\x9b31m" in out and "\\u202eevil" in out

    as_json = project.run("run", "--json", "go", check_code=0)
    lines = [json.loads(line) for line in as_json.stdout.splitlines()]
    texts = [line["data"].get("text") for line in lines if line["kind"] != "summary"]
    assert "clear\x1b[2J\x1b[H home, title \x1b]0;pwned\x07, csi \x9b31m, cr\roverwrite" in texts


# -- volume -------------------------------------------------------------------------------------


def test_a_200_mb_flood_is_capped_memory_bounded_and_still_succeeds(project: Project) -> None:
    megabytes = 200
    hostile(project, f"flood:{megabytes},result", storage={"maxEventsPerTask": 2000})
    run = Sampled(project, "run", "--json", "go")
    code, out, err = run.finish()
    assert code == 0, err[-3000:]
    assert run.peak_mb < RSS_LIMIT_MB, f"ado run peaked at {run.peak_mb:.0f} MB"

    task, events = task_and_events(project, summary_of(out)["taskId"])
    assert_succeeded(task)  # the result and its usage, after the flood, still counted
    stored_text = sum(1 for e in events if e.kind == "text")
    assert len(events) <= 2000 + 10  # storage.maxEventsPerTask, + ADO's own
    assert task.dropped_events == flood_lines(megabytes) - stored_text > 200_000
    assert task.attempts[0].dropped_events == task.dropped_events
    assert task.dropped_bytes > 170 * 1024 * 1024
    notices = [e for e in events if extra(e).get("outputTruncated")]
    assert len(notices) == 1 and "maxEventsPerTask" in notices[0].data["text"]
    kinds = [e.kind for e in events]
    assert kinds[-4:] == ["usage", "result", "attempt_finished", "task_finished"]
    db = project.root / ".ado" / "state.db"
    assert db.stat().st_size < 8 * 1024 * 1024

    shown = project.run("tasks", "show", str(task.id), check_code=0)
    assert "output truncated" in shown.stdout and f"{task.dropped_events:,} events" in shown.stdout


def test_huge_lines_are_cut_to_max_event_bytes(project: Project) -> None:
    hostile(project, "huge:20:7,toolong,result")
    run = Sampled(project, "run", "--json", "go")
    code, out, err = run.finish()
    assert code == 0, err[-3000:]
    assert run.peak_mb < RSS_LIMIT_MB, f"ado run peaked at {run.peak_mb:.0f} MB"
    printed = [len(line) for line in out.splitlines()]
    assert max(printed) < 70 * 1024  # what --json shows is what is stored

    task, events = task_and_events(project, summary_of(out)["taskId"])
    assert_succeeded(task)
    sizes = [len(json.dumps(e.data)) for e in events]
    assert max(sizes) < 66 * 1024
    cut = [e for e in events if extra(e).get("truncatedBytes")]
    assert len(cut) == 20
    assert all("output truncated]" in e.data["text"] for e in cut)
    assert task.dropped_events == 0
    assert task.dropped_bytes >= 20 * (7 * 1024 * 1024 - 64 * 1024)
    texts = [e.data.get("text") for e in events if e.kind in ("text", "log")]
    assert "after the long line" in texts
    assert any("over-long output line" in (t or "") for t in texts)


def test_small_caps_hold_and_vital_events_are_kept(project: Project) -> None:
    storage = {"maxEventsPerTask": 100, "maxEventBytes": 2048, "maxBytesPerTask": 65536}
    hostile(project, "flood:2,errors:50,result", storage=storage, HOSTILE_TOKENS="7/3")
    proc = project.run("run", "--json", "go", check_code=0)
    task, events = task_and_events(project, summary_of(proc.stdout)["taskId"])
    assert_succeeded(task, tokens=(7, 3))
    agent = [e for e in events if e.kind == "text"]
    assert len(agent) < 100
    assert sum(len(json.dumps(e.data)) for e in agent) < 65536
    assert all(len(json.dumps(e.data)) < 2300 for e in events)
    assert len([e for e in events if e.kind == "error"]) == 50  # vital: kept past the cap
    assert [e.kind for e in events][-3:] == ["result", "attempt_finished", "task_finished"]
    assert task.dropped_events == flood_lines(2) - len(agent)
    notices = [e for e in events if extra(e).get("outputTruncated")]
    assert len(notices) == 1


def test_an_error_flood_keeps_memory_bounded(project: Project) -> None:
    hostile(project, "errors:2500,result")
    run = Sampled(project, "run", "--json", "go")
    code, out, err = run.finish()
    assert run.peak_mb < RSS_LIMIT_MB, f"ado run peaked at {run.peak_mb:.0f} MB"
    assert "Traceback" not in err
    task, _ = task_and_events(project, summary_of(out)["taskId"])
    assert task.status == "succeeded" and code == 0


# -- children that ignore signals -----------------------------------------------------------------


def test_a_child_ignoring_sigterm_is_gone_when_the_run_ends(
    project: Project, pid_file: Path
) -> None:
    hostile(project, "child,result", HOSTILE_PID_FILE=str(pid_file))
    proc = project.run("run", "--json", "go", check_code=0)
    task, _ = task_and_events(project, summary_of(proc.stdout)["taskId"])
    assert_succeeded(task)
    child = int(pid_file.read_text())
    wait_for(lambda: process_gone(child), what="the SIGTERM-ignoring child to be killed")
    agent_pid = task.attempts[0].agent_pid
    assert agent_pid is not None and group_gone(agent_pid)


def test_an_orphaned_child_is_killed_at_the_next_start_when_its_agent_died(
    project: Project, pid_file: Path
) -> None:
    hostile(project, "child,hang", HOSTILE_PID_FILE=str(pid_file))
    run = project.popen("run", "go")
    try:
        wait_for(pid_file.exists, what="the agent's child")
        store = project.store()
        try:

            def started() -> TaskView | None:
                tasks = store.list_tasks()
                found = store.get_task(tasks[0].id) if tasks else None
                return found if found and found.attempts and found.attempts[0].agent_pid else None

            task = wait_for(started, what="the agent's pid")
            attempt = task.attempts[0]
        finally:
            store.close()
        agent_pid = attempt.agent_pid
        assert agent_pid is not None and attempt.agent_mark
        os.kill(run.pid, signal.SIGKILL)  # ADO dies (kill -9, power cut...)
        run.wait()
        os.kill(agent_pid, signal.SIGKILL)  # ...and so does the agent, its group's leader
        wait_for(lambda: process_gone(agent_pid), what="the agent to die")
        child = int(pid_file.read_text())
        assert not process_gone(child)  # the child survived both, ignoring SIGTERM

        status = project.run("status", check_code=0)  # the next start
        assert "Traceback" not in status.stderr
        wait_for(lambda: process_gone(child), what="the orphaned child to be killed")
        assert group_gone(agent_pid)
        task_view, _ = task_and_events(project, task.id)
        assert task_view.status == "interrupted"
        assert task_view.attempts[0].outcome == "interrupted"
    finally:
        if run.poll() is None:
            run.kill()
            run.wait()
        for pipe in (run.stdout, run.stderr):
            if pipe is not None:
                pipe.close()
