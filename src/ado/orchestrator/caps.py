"""How much of a task's output is kept: ``storage.maxEventsPerTask`` and
``storage.maxBytesPerTask`` (each event is already cut to ``storage.maxEventBytes`` where it
is parsed, ``ado.providers.sanitize.limit_event``).

Past a cap, the agent's events are counted, not stored nor shown, and one ``log`` event
with ``data.output_truncated`` says so. Kept whatever the caps:

- the orchestrator's own events (attempt started/finished, failover, task finished...):
  few, and the record of what happened;
- the agent's ``result``, ``usage``, ``rate_limit``, ``error`` and ``session_started``,
  for up to ``VITAL_RESERVE`` more events per task, so the stored log still shows how each
  attempt ended and what it used. (Classification and token totals never depend on what is
  stored: the run loop sees every event.)

What was dropped (events, and bytes: whole events plus what was cut from kept ones) is
counted per attempt and per task, and stored with them (``dropped_events``,
``dropped_bytes``).
"""

from __future__ import annotations

from ado.orchestrator.task import AttemptInfo
from ado.providers.events import AgentEvent, EventKind
from ado.providers.sanitize import TRUNCATED_KEY, event_size
from ado.records import Record

__all__ = ["VITAL_RESERVE", "EventCaps"]

_ORCHESTRATOR = frozenset(
    {
        EventKind.ROUTED,
        EventKind.ATTEMPT_STARTED,
        EventKind.ATTEMPT_FINISHED,
        EventKind.FAILOVER,
        EventKind.HANDOFF,
        EventKind.TASK_FINISHED,
    }
)
_VITAL = frozenset(
    {
        EventKind.RESULT,
        EventKind.USAGE,
        EventKind.RATE_LIMIT,
        EventKind.ERROR,
        EventKind.SESSION_STARTED,
    }
)
#: Vital agent events stored past the caps, at most, per task.
VITAL_RESERVE = 1000


class TaskBudget(Record):
    """What one task has stored, and dropped, so far."""

    __slots__ = ("events", "bytes", "vital_over", "dropped_events", "dropped_bytes", "noticed")

    def __init__(self) -> None:
        self.events = 0
        self.bytes = 0
        self.vital_over = 0
        self.dropped_events = 0
        self.dropped_bytes = 0
        self.noticed = False


class EventCaps:
    def __init__(self, max_events: int, max_bytes: int) -> None:
        self.max_events = max_events
        self.max_bytes = max_bytes
        self._tasks: dict[int, TaskBudget] = {}

    def admit(
        self, task_id: int, attempt: AttemptInfo | None, event: AgentEvent
    ) -> tuple[bool, AgentEvent | None]:
        """Whether to keep ``event``, and the "output truncated" notice to emit before it
        (the first time something is dropped)."""
        budget = self._tasks.get(task_id)
        if budget is None:
            budget = self._tasks[task_id] = TaskBudget()
        size = event_size(event)
        cut = event.data.get(TRUNCATED_KEY, 0) if event.data else 0
        over = budget.events >= self.max_events or budget.bytes + size > self.max_bytes
        keep = (
            not over
            or attempt is None
            or event.kind in _ORCHESTRATOR
            or (event.kind in _VITAL and budget.vital_over < VITAL_RESERVE)
        )
        if keep:
            budget.events += 1
            budget.bytes += size
            if over and attempt is not None and event.kind not in _ORCHESTRATOR:
                budget.vital_over += 1
            dropped_events, dropped_bytes = 0, int(cut) if isinstance(cut, int) else 0
        else:
            dropped_events, dropped_bytes = 1, size
        if not (dropped_events or dropped_bytes):
            return True, None
        budget.dropped_events += dropped_events
        budget.dropped_bytes += dropped_bytes
        if attempt is not None:
            attempt.dropped_events += dropped_events
            attempt.dropped_bytes += dropped_bytes
        if keep or budget.noticed:
            return keep, None
        budget.noticed = True
        return keep, self._notice(budget)

    def release(self, task_id: int) -> TaskBudget:
        """The task's counts, forgotten here (its run is over)."""
        return self._tasks.pop(task_id, None) or TaskBudget()

    def _notice(self, budget: TaskBudget) -> AgentEvent:
        which = (
            f"storage.maxEventsPerTask ({self.max_events} events)"
            if budget.events >= self.max_events
            else f"storage.maxBytesPerTask ({self.max_bytes} bytes)"
        )
        return AgentEvent(
            EventKind.LOG,
            text=f"output truncated: this task reached {which}; the agent's further output "
            "is counted, not stored (its result, usage and limits still are)",
            data={
                "outputTruncated": True,
                "maxEvents": self.max_events,
                "maxBytes": self.max_bytes,
            },
        )
