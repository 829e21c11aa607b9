"""Feeding captured agent output through an adapter, as the run loop would."""

from __future__ import annotations

from pathlib import Path

from ado.providers.base import (
    AgentAdapter,
    Outcome,
    ParseState,
    RunRequest,
)
from ado.providers.classify import RunSummary
from ado.providers.events import AgentEvent, EventKind
from ado.providers.process import OutputLine
from ado.providers.run import AgentRun, stops_run

SAMPLES = Path(__file__).resolve().parents[1] / "data" / "agent-samples"
DATA = Path(__file__).resolve().parent / "data"


def sample_path(name: str) -> Path:
    path = SAMPLES / name
    return path if path.exists() else DATA / name


def replay(
    adapter: AgentAdapter,
    stdout: str,
    *,
    stderr: str | None = None,
    exit_code: int = 0,
    lines: list[str] | None = None,
) -> tuple[list[AgentEvent], RunSummary, Outcome]:
    """Parse a sample (stdout then stderr) line by line; classify the run it describes."""
    run = AgentRun(adapter, RunRequest(prompt="p", cwd="."))
    state = ParseState()
    events: list[AgentEvent] = []
    out_lines = lines if lines is not None else sample_path(stdout).read_text().splitlines()
    err_lines = sample_path(stderr).read_text().splitlines() if stderr else []
    feed = [OutputLine("stdout", t) for t in out_lines] + [
        OutputLine("stderr", t) for t in err_lines
    ]
    for line in feed:
        if line.stream == "stderr":
            run.summary.stderr_tail = "\n".join([*run.summary.stderr_tail.splitlines(), line.text])
        for event in run._parse(line, state):
            run._absorb(event)
            events.append(event)
            if stops_run(event):  # the run loop would stop the agent here
                run.summary.stopped_for_rate_limit = True
    run.summary.exit_code = exit_code
    return events, run.summary, adapter.classify(run.summary)


def kinds(events: list[AgentEvent]) -> list[EventKind]:
    return [e.kind for e in events]


def of_kind(events: list[AgentEvent], kind: EventKind) -> list[AgentEvent]:
    return [e for e in events if e.kind is kind]
