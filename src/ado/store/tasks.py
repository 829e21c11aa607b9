"""Tasks, their attempts and their events; finding the tasks a crashed ADO left running."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session, selectinload

from ado.providers.events import AgentEvent, Usage
from ado.store import reader
from ado.store.models import Attempt, Event, Task, utcnow
from ado.store.reader import SqlConnection
from ado.store.views import AttemptView, EventView, TaskView, view_values

__all__ = ["TaskMethods"]

#: Columns ``update_task`` may change; the rest are written by dedicated methods.
_UPDATABLE = frozenset(c.key for c in Task.__table__.columns) - {"id", "created_at"}


class TaskMethods:
    """The task half of ``Store``; it provides the sessions."""

    _read: Callable[[], AbstractContextManager[Session]]
    _write: Callable[[], AbstractContextManager[Session]]
    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    def create_task(
        self,
        *,
        prompt: str,
        cwd: str,
        hitl_policy: str,
        options: dict[str, Any],
        status: str = "running",
    ) -> int:
        """A new task owned by this process; ``started_at`` is now when it starts running."""
        now = utcnow()
        task = Task(
            prompt=prompt,
            cwd=cwd,
            hitl_policy=hitl_policy,
            options=options,
            status=status,
            owner_host=socket.gethostname(),
            owner_pid=os.getpid(),
            created_at=now,
            updated_at=now,
            started_at=now if status == "running" else None,
        )
        with self._write() as session:
            session.add(task)
            session.flush()
            return task.id

    def update_task(self, task_id: int, **fields: Any) -> None:
        unknown = set(fields) - _UPDATABLE
        if unknown:
            raise TypeError(f"update_task() got unknown task fields: {', '.join(sorted(unknown))}")
        with self._write() as session:
            session.execute(
                update(Task).where(Task.id == task_id).values(**fields, updated_at=utcnow())
            )

    def set_agent_pid(self, attempt_id: int, pid: int, mark: str | None = None) -> None:
        """The running agent's pid (its process group) and ``ADO_AGENT_GROUP`` mark."""
        with self._write() as session:
            session.execute(
                update(Attempt)
                .where(Attempt.id == attempt_id)
                .values(agent_pid=pid, agent_mark=mark)
            )

    def start_attempt(
        self,
        task_id: int,
        *,
        number: int,
        provider: str,
        access_mode: str,
        model: str | None,
        reason: str,
    ) -> int:
        """A running attempt; the task now shows this provider, access mode and count."""
        attempt = Attempt(
            task_id=task_id,
            number=number,
            provider=provider,
            access_mode=access_mode,
            model=model,
            reason=reason,
            outcome="running",
            started_at=utcnow(),
        )
        with self._write() as session:
            session.add(attempt)
            session.flush()
            session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    provider=provider,
                    access_mode=access_mode,
                    attempt_count=number,
                    routing_reason=reason,
                    updated_at=utcnow(),
                )
            )
            return attempt.id

    def finish_attempt(
        self,
        attempt_id: int,
        *,
        outcome: str,
        message: str,
        exit_code: int | None,
        session_id: str | None,
        reset_at: datetime | None,
        usage: Usage,
        cost_usd: float,
        api_cost_usd: float,
        files: list[str],
        dropped_events: int = 0,
        dropped_bytes: int = 0,
    ) -> None:
        """Close the attempt with its totals, and add those totals to its task's (what
        was dropped is counted on the task by ``finish_task``)."""
        totals = {
            "input_tokens": usage.input_tokens,
            "output_tokens": usage.output_tokens,
            "cache_read_tokens": usage.cache_read_tokens,
            "cache_write_tokens": usage.cache_write_tokens,
            "cost_usd": cost_usd,
            "api_cost_usd": api_cost_usd,
        }
        with self._write() as session:
            attempt = session.get_one(Attempt, attempt_id)
            attempt.outcome = outcome
            attempt.outcome_message = message
            attempt.exit_code = exit_code
            attempt.session_id = session_id
            attempt.reset_at = reset_at
            attempt.files_changed = list(files)
            attempt.finished_at = utcnow()
            attempt.dropped_events = dropped_events
            attempt.dropped_bytes = dropped_bytes
            for name, value in totals.items():
                setattr(attempt, name, value)
            task_values: dict[str, Any] = {
                name: getattr(Task, name) + value for name, value in totals.items()
            }
            if session_id is not None:
                task_values["session_id"] = session_id
            session.execute(
                update(Task)
                .where(Task.id == attempt.task_id)
                .values(**task_values, updated_at=utcnow())
            )

    def finish_task(
        self,
        task_id: int,
        *,
        status: str,
        error: str | None = None,
        result_text: str | None = None,
        exit_code: int | None = None,
        dropped_events: int = 0,
        dropped_bytes: int = 0,
    ) -> None:
        """The task's final status; ``dropped_*``: its output not stored (storage caps)."""
        now = utcnow()
        with self._write() as session:
            session.execute(
                update(Task)
                .where(Task.id == task_id)
                .values(
                    status=status,
                    error=error,
                    result_text=result_text,
                    exit_code=exit_code,
                    dropped_events=dropped_events,
                    dropped_bytes=dropped_bytes,
                    finished_at=now,
                    updated_at=now,
                )
            )

    def add_events(
        self, task_id: int, attempt_id: int | None, events: Sequence[AgentEvent]
    ) -> list[int]:
        """Store ``events`` in one transaction; their new ids, in the same order."""
        if not events:
            return []
        now = utcnow()
        rows = []
        for agent_event in events:
            data = agent_event.to_dict()
            kind = data.pop("kind")
            rows.append(
                {
                    "task_id": task_id,
                    "attempt_id": attempt_id,
                    "kind": kind,
                    "data": data,
                    "created_at": now,
                }
            )
        statement = insert(Event).returning(Event.id, sort_by_parameter_order=True)
        with self._write() as session:
            return list(session.scalars(statement, rows))

    def get_task(self, task_id: int) -> TaskView | None:
        with self._read() as session:
            task = session.scalars(
                select(Task).where(Task.id == task_id).options(selectinload(Task.attempts))
            ).one_or_none()
            if task is None:
                return None
            return _task_view(task, [_attempt_view(a) for a in task.attempts])

    def list_tasks(
        self,
        *,
        limit: int = 20,
        status: str | None = None,
        provider: str | None = None,
        since: datetime | None = None,
        before_id: int | None = None,
    ) -> list[TaskView]:
        """Newest first, without attempts; page on with ``before_id=<last id>``."""
        with self._sql() as sql:
            return reader.list_tasks(
                sql, limit=limit, status=status, provider=provider, since=since, before_id=before_id
            )

    def list_events(self, task_id: int, *, after_id: int = 0, limit: int = 1000) -> list[EventView]:
        with self._sql() as sql:
            return reader.events(sql, after_id=after_id, limit=limit, task_id=task_id)

    def events_since(self, after_id: int, *, limit: int = 1000) -> list[EventView]:
        """Events of every task after ``after_id``, oldest first: what live views poll."""
        with self._sql() as sql:
            return reader.events(sql, after_id=after_id, limit=limit)

    def last_event_id(self) -> int:
        """Where a live view that only wants new events starts."""
        with self._read() as session:
            return session.scalar(select(func.max(Event.id))) or 0

    def find_session(self, session_id: str) -> str | None:
        """The provider whose agent issued ``session_id`` (latest attempt), None if unknown."""
        query = (
            select(Attempt.provider)
            .where(Attempt.session_id == session_id)
            .order_by(Attempt.id.desc())
            .limit(1)
        )
        with self._read() as session:
            return session.scalar(query)

    def mark_orphans_interrupted(self) -> int:
        """Mark 'interrupted' the running tasks of this host whose ADO process is gone.

        A task with no owner counts as orphaned too. Returns how many tasks were marked.
        """
        with self._sql() as sql:
            return reader.mark_orphans_interrupted(sql)


def _attempt_view(attempt: Attempt) -> AttemptView:
    return AttemptView(**view_values(AttemptView, attempt))


def _task_view(task: Task, attempts: list[AttemptView]) -> TaskView:
    return TaskView(**view_values(TaskView, task, attempts=attempts))
