"""What a task is made of, for the runner and whoever watches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, NamedTuple

from ado.options import TaskOptions
from ado.providers.base import Outcome
from ado.providers.events import AgentEvent, Usage

if TYPE_CHECKING:
    from ado.routing.router import RouteFilters

__all__ = ["AttemptInfo", "TaskResult", "TaskSpec", "TaskUpdate"]


@dataclass(slots=True)
class TaskSpec:
    """A task to run: its prompt, directory and options (``ado.options.TaskOptions``)."""

    prompt: str
    cwd: Path
    options: TaskOptions = field(default_factory=TaskOptions)
    #: Nobody to ask before a costly API run (``-y``; the worker pool): the limits still apply.
    assume_yes: bool = False

    @property
    def filters(self) -> RouteFilters:
        return self.options.filters()


@dataclass(slots=True)
class AttemptInfo:
    id: int
    number: int
    provider: str
    access_mode: str
    model: str | None
    reason: str
    outcome: Outcome | None = None
    usage: Usage = field(default_factory=Usage)
    cost_usd: float = 0.0
    api_cost_usd: float = 0.0
    session_id: str | None = None
    files: list[str] = field(default_factory=list)
    #: Output not stored (``ado.orchestrator.caps``): whole events, and bytes.
    dropped_events: int = 0
    dropped_bytes: int = 0
    #: The usage row its request was reserved as (``ado.routing.reserve``).
    reservation: int | None = None


class TaskUpdate(NamedTuple):
    """What a live view receives: the task, the attempt (if any) and the event."""

    task_id: int
    attempt: AttemptInfo | None
    event: AgentEvent


class TaskResult(NamedTuple):
    task_id: int
    status: str  # succeeded, failed, cancelled
    attempts: list[AttemptInfo]
    usage: Usage
    cost_usd: float
    api_cost_usd: float
    result_text: str
    error: str | None
    exit_code: int
    duration_s: float
