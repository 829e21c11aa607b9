"""What the store hands out: frozen snapshots of rows, never live ORM objects.

A view can cross threads, be cached, or be serialised by the API without touching the
database again. Times are timezone-aware UTC.
"""

# No ``from __future__ import annotations`` here: ``NamedTuple`` compiles each field's
# annotation when it is a string, which made this module cost ``ado run`` (it loads it before
# its agent spawns) ~2.5 times as much; every name the fields use is imported at run time.
from datetime import datetime
from typing import Any, NamedTuple

from ado.providers.events import AgentEvent
from ado.store.limit_views import CooldownView, QuotaWindowView, UsageTotals

__all__ = [
    "PROMPT_EXCERPT",
    "AttemptView",
    "CooldownView",
    "EventText",
    "EventView",
    "QuotaWindowView",
    "ReportRow",
    "TaskSummaryView",
    "TaskView",
    "UsageTotals",
    "WorkerView",
    "duration_s",
    "prompt_excerpt",
]


class AttemptView(NamedTuple):
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    #: Money really spent (API-key access modes; 0 on subscriptions).
    cost_usd: float
    #: What the same tokens cost at API prices.
    api_cost_usd: float
    id: int
    task_id: int
    number: int
    provider: str
    access_mode: str
    model: str | None
    reason: str | None
    session_id: str | None
    #: ``running``, or an OutcomeKind value.
    outcome: str
    outcome_message: str | None
    exit_code: int | None
    reset_at: datetime | None
    files_changed: list[str]
    started_at: datetime
    finished_at: datetime | None
    agent_pid: int | None = None
    agent_mark: str | None = None
    #: Output not stored (storage caps): whole events, and bytes.
    dropped_events: int = 0
    dropped_bytes: int = 0
    #: What the agent itself reported the attempt cost (None: it reports no figure).
    agent_cost_usd: float | None = None


class TaskView(NamedTuple):
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    #: Money really spent (API-key access modes; 0 on subscriptions).
    cost_usd: float
    #: What the same tokens cost at API prices.
    api_cost_usd: float
    id: int
    prompt: str
    cwd: str
    status: str
    hitl_policy: str
    options: dict[str, Any]
    routing_reason: str | None
    provider: str | None
    access_mode: str | None
    session_id: str | None
    error: str | None
    result_text: str | None
    exit_code: int | None
    attempt_count: int
    owner_host: str | None
    owner_pid: int | None
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    updated_at: datetime
    #: Filled by ``Store.get_task``; listings leave it empty.
    attempts: tuple[AttemptView, ...] = ()
    #: Output not stored (storage caps): whole events, and bytes.
    dropped_events: int = 0
    dropped_bytes: int = 0
    #: Parked: when it is looked at again, what it waits for; times parked so far.
    parked_until: datetime | None = None
    park_reason: str | None = None
    parks: int = 0


class TaskSummaryView(NamedTuple):
    """A task as listings show it (``GET /api/tasks``): ``TaskView``'s fields without the
    options, the result text and the process details. A named tuple, not a frozen
    dataclass: a page of 50 is built from rows in C, which took a fifth of the endpoint's
    CPU as dataclasses (docs/performance.md). Every view is a named tuple: defining a
    frozen dataclass costs ~1.3 ms at import, a named tuple ~0.2 ms, and ``ado run`` loads
    this module before it spawns its agent."""

    id: int
    prompt: str
    cwd: str
    status: str
    hitl_policy: str
    provider: str | None
    access_mode: str | None
    error: str | None
    attempt_count: int
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    api_cost_usd: float
    parked_until: datetime | None = None
    park_reason: str | None = None
    parks: int = 0


class EventText(NamedTuple):
    """An event as the live bus reads it: ``data`` still the JSON text stored (cleaned where
    it held a lone surrogate or a NUL), sent on as it is rather than decoded and written
    again (``ado.api.wire.event_message_text``)."""

    id: int
    task_id: int
    attempt_id: int | None
    kind: str
    data_json: str
    created_at: datetime


class EventView(NamedTuple):
    id: int
    task_id: int
    attempt_id: int | None
    kind: str
    #: ``AgentEvent.to_dict()`` without its ``kind``: the wire form (``EventData``).
    data: dict[str, Any]
    created_at: datetime

    def to_agent_event(self) -> AgentEvent:
        return AgentEvent.from_dict({**self.data, "kind": self.kind})


class WorkerView(NamedTuple):
    """A registered worker pool (``ado.store.registry``) and the tasks it runs."""

    hostname: str
    pid: int
    name: str | None
    #: a WorkerKind value
    kind: str
    concurrency: int
    queues: tuple[str, ...]
    #: a WorkerLostPolicy value
    on_lost: str
    tasks_done: int
    started_at: datetime
    heartbeat_at: datetime
    expires_at: datetime
    #: Ids of the tasks it runs now.
    running: tuple[int, ...] = ()


class ReportRow(NamedTuple):
    """Usage of one (provider, access mode) over a period."""

    provider: str
    access_mode: str
    tasks: int
    attempts: int
    requests: int
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    api_cost_usd: float


#: Listings (``GET /api/tasks``, ``ado tasks list``, the live task messages) carry at most
#: this many characters of a prompt; a task's detail carries it whole.
PROMPT_EXCERPT = 1000


def duration_s(task: Any) -> float | None:
    """Seconds from a task's (or attempt's) start to its end, to the millisecond; None
    while it has not finished."""
    if task.started_at is None or task.finished_at is None:
        return None
    seconds: float = (task.finished_at - task.started_at).total_seconds()
    return round(seconds, 3)


def prompt_excerpt(prompt: str) -> tuple[str, bool]:
    """(at most ``PROMPT_EXCERPT`` characters of ``prompt``, whether it was cut)."""
    if len(prompt) <= PROMPT_EXCERPT:
        return prompt, False
    return prompt[:PROMPT_EXCERPT], True
