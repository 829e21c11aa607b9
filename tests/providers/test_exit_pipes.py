"""An agent that exits while something it started still holds its output open: the run
ends (the group is killed once the output is quiet), yet nothing still being written is
lost. Real processes through ``AgentRun``."""

from __future__ import annotations

import asyncio
import json
import sys
import textwrap
import time
from pathlib import Path

import pytest

from ado.providers import process
from ado.providers.base import RunRequest
from ado.providers.cursor_agent import CursorAgent
from ado.providers.events import EventKind
from ado.providers.run import AgentRun
from ado.vocab import OutcomeKind
from tests.support import process_gone, wait_for_async


def agent(tmp_path: Path, child_code: str) -> Path:
    """A cursor-agent whose leader starts ``child_code`` (inheriting its pipes) and exits."""
    script = tmp_path / "agent.py"
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import subprocess, sys
        print('{{"type":"system","subtype":"init","session_id":"s"}}', flush=True)
        subprocess.Popen([sys.executable, "-c", {child_code!r}])
        """)
    )
    script.chmod(0o755)
    return script


def line(obj: dict[str, object]) -> str:
    return json.dumps(obj)


async def test_a_child_holding_the_pipes_does_not_keep_the_run_open(tmp_path: Path) -> None:
    pid_file = tmp_path / "child.pid"
    result = line({"type": "result", "subtype": "success", "is_error": False, "result": "ok"})
    child = (
        "import os, signal, time\n"
        "signal.signal(signal.SIGTERM, signal.SIG_IGN)\n"
        f"open({str(pid_file)!r}, 'w').write(str(os.getpid()))\n"
        f"print({result!r}, flush=True)\n"
        "time.sleep(600)\n"
    )
    run = AgentRun(
        CursorAgent(), RunRequest("p", str(tmp_path), command=str(agent(tmp_path, child)))
    )
    started = time.monotonic()
    events = [e async for e in run]
    assert time.monotonic() - started < 20  # not the 600 s the child sleeps
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.SUCCESS
    assert [e.kind for e in events][-1] is EventKind.RESULT
    pid = int(pid_file.read_text())
    # SIGKILL closes its pipes a moment before it is gone
    await wait_for_async(
        lambda: process_gone(pid), 10, what="the child to die of its group's SIGKILL"
    )


async def test_output_still_being_written_after_the_leader_exits_is_read(
    tmp_path: Path,
) -> None:
    texts = [f"part {i}" for i in range(8)]
    lines = [
        line({"type": "assistant", "message": {"content": [{"type": "text", "text": t}]}})
        for t in texts
    ] + [line({"type": "result", "subtype": "success", "is_error": False, "result": "ok"})]
    child = f"import time\nfor l in {lines!r}:\n    time.sleep(0.4)\n    print(l, flush=True)\n"
    run = AgentRun(
        CursorAgent(), RunRequest("p", str(tmp_path), command=str(agent(tmp_path, child)))
    )
    events = [e async for e in run]
    assert [e.text for e in events if e.kind is EventKind.TEXT] == texts
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.SUCCESS


async def test_output_held_back_while_ado_is_slow_is_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The reader holds all it may (``_QUEUE_CHARS``), the pipe the rest, the agent is gone,
    and ADO takes longer over what it holds than the exit grace: the output held back is
    not "quiet" (the group killed, the reading stopped), none of it is lost."""
    monkeypatch.setattr(process, "_EXIT_GRACE", 0.2)
    monkeypatch.setattr(process, "_EXIT_POLL", 0.02)

    def text(i: int) -> str:
        return f"{i:07d} " + "x" * 200

    size = len(
        line({"type": "assistant", "message": {"content": [{"type": "text", "text": text(0)}]}})
    )
    count = (process._QUEUE_CHARS + 32 * 1024) // (size + 1)  # the last 32 KiB fit the pipe
    script = tmp_path / "agent.py"
    script.write_text(
        textwrap.dedent(f"""\
        #!{sys.executable}
        import json, sys
        for i in range({count}):
            msg = {{"content": [{{"type": "text", "text": f"{{i:07d}} " + "x" * 200}}]}}
            sys.stdout.write(json.dumps({{"type": "assistant", "message": msg}}) + "\\n")
        sys.stdout.write('{{"type":"result","subtype":"success","is_error":false}}\\n')
        """)
    )
    script.chmod(0o755)
    run = AgentRun(CursorAgent(), RunRequest("p", str(tmp_path), command=str(script)))
    texts: list[str | None] = []
    async for event in run:
        if event.kind is EventKind.TEXT:
            if not texts:
                await asyncio.sleep(1.0)  # five graces: the agent has exited meanwhile
            texts.append(event.text)
    assert texts == [text(i) for i in range(count)]
    assert run.outcome is not None and run.outcome.kind is OutcomeKind.SUCCESS
