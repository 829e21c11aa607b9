"""What a task is made of, for the runner and whoever watches it."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ado.providers.base import Outcome
from ado.providers.events import AgentEvent, Usage

if TYPE_CHECKING:
    from ado.routing.router import RouteFilters

__all__ = ["AttemptInfo", "TaskResult", "TaskSpec", "TaskUpdate", "task_options"]


@dataclass(slots=True)
class TaskSpec:
    prompt: str
    cwd: Path
    filters: RouteFilters
    hitl_policy: str | None = None
    yolo: bool = False
    model: str | None = None
    max_turns: int | None = None
    resume: str | None = None
    max_cost: float | None = None
    wait: bool = False
    assume_yes: bool = False


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


@dataclass(slots=True)
class TaskUpdate:
    """What a live view receives: the task, the attempt (if any) and the event."""

    task_id: int
    attempt: AttemptInfo | None
    event: AgentEvent


@dataclass(slots=True)
class TaskResult:
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


def task_options(spec: TaskSpec, policy: str) -> dict[str, Any]:
    """The run's options as stored on the task (never secrets)."""
    f = spec.filters
    raw = {
        "provider": f.provider,
        "providers": list(f.providers) if f.providers else None,
        "exclude": list(f.exclude) or None,
        "access_mode": f.access_mode,
        "capabilities": list(f.capabilities) or None,
        "allow_api": f.allow_api,
        "model": spec.model,
        "max_turns": spec.max_turns,
        "max_cost": spec.max_cost,
        "resume": spec.resume,
        "yolo": spec.yolo or None,
        "wait": spec.wait or None,
        "hitl_policy": policy,
    }
    return {k: v for k, v in raw.items() if v is not None}
