"""What a task is made of, for the runner and whoever watches it."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

from ado.options import TaskOptions
from ado.providers.base import Outcome
from ado.providers.events import AgentEvent, Usage
from ado.records import Record

if TYPE_CHECKING:
    from ado.config.loader import StrPath
    from ado.routing.router import RouteFilters

__all__ = ["AttemptInfo", "TaskResult", "TaskSpec", "TaskUpdate"]


class TaskSpec(Record):
    """A task to run: its prompt, directory and options (``ado.options.TaskOptions``)."""

    __slots__ = ("prompt", "cwd", "options", "assume_yes")

    def __init__(
        self,
        prompt: str,
        cwd: StrPath,
        options: TaskOptions | None = None,
        assume_yes: bool = False,
    ) -> None:
        self.prompt = prompt
        self.cwd = os.fspath(cwd)
        self.options = TaskOptions() if options is None else options
        #: Nobody to ask before a costly API run (``-y``; the worker pool): the limits still
        #: apply.
        self.assume_yes = assume_yes

    @property
    def filters(self) -> RouteFilters:
        return self.options.filters()


class AttemptInfo(Record):
    """One attempt of a task: where it runs, and what it has done so far."""

    __slots__ = (
        "id",
        "number",
        "provider",
        "access_mode",
        "model",
        "reason",
        "outcome",
        "usage",
        "cost_usd",
        "api_cost_usd",
        "session_id",
        "files",
        "dropped_events",
        "dropped_bytes",
        "reservation",
    )

    def __init__(
        self,
        id: int,
        number: int,
        provider: str,
        access_mode: str,
        model: str | None,
        reason: str,
        outcome: Outcome | None = None,
        usage: Usage | None = None,
        cost_usd: float = 0.0,
        api_cost_usd: float = 0.0,
        session_id: str | None = None,
        files: list[str] | None = None,
        dropped_events: int = 0,
        dropped_bytes: int = 0,
        reservation: int | None = None,
    ) -> None:
        self.id = id
        self.number = number
        self.provider = provider
        self.access_mode = access_mode
        self.model = model
        self.reason = reason
        self.outcome = outcome
        self.usage = Usage() if usage is None else usage
        self.cost_usd = cost_usd
        self.api_cost_usd = api_cost_usd
        self.session_id = session_id
        self.files: list[str] = [] if files is None else files
        #: Output not stored (``ado.orchestrator.caps``): whole events, and bytes.
        self.dropped_events = dropped_events
        self.dropped_bytes = dropped_bytes
        #: The usage row its request was reserved as (``ado.routing.reserve``).
        self.reservation = reservation


class TaskUpdate(Record):
    """What a live view receives: the task, the attempt (if any) and the event."""

    __slots__ = ("task_id", "attempt", "event")

    def __init__(self, task_id: int, attempt: AttemptInfo | None, event: AgentEvent) -> None:
        self.task_id = task_id
        self.attempt = attempt
        self.event = event


class TaskResult(Record):
    """How a task ended: its attempts, what they used and cost, and the process's exit code."""

    __slots__ = (
        "task_id",
        "status",
        "attempts",
        "usage",
        "cost_usd",
        "api_cost_usd",
        "result_text",
        "error",
        "exit_code",
        "duration_s",
    )

    def __init__(
        self,
        task_id: int,
        status: str,
        attempts: list[AttemptInfo],
        usage: Usage,
        cost_usd: float,
        api_cost_usd: float,
        result_text: str,
        error: str | None,
        exit_code: int,
        duration_s: float,
    ) -> None:
        self.task_id = task_id
        #: succeeded, failed, cancelled
        self.status = status
        self.attempts = attempts
        self.usage = usage
        self.cost_usd = cost_usd
        self.api_cost_usd = api_cost_usd
        self.result_text = result_text
        self.error = error
        self.exit_code = exit_code
        self.duration_s = duration_s
