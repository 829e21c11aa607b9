"""``SqlMethods``: every plain-SQL query of the store as a method, written once.

Both front doors inherit it: ``SqlStore`` (its own sqlite3/psycopg connection, no SQLAlchemy
import: ``ado status``, ``ado run``) and ``Store`` (a connection of its engine's pool: the
server). Each provides ``_sql()``, a context manager yielding a ``SqlConnection`` with
database errors translated to ``StoreError``.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager
from datetime import datetime
from typing import TYPE_CHECKING, Any

from ado.store import orphans, reader, writes
from ado.store.sql import SqlConnection
from ado.store.views import (
    CooldownView,
    EventText,
    EventView,
    QuotaWindowView,
    ReportRow,
    TaskView,
    UsageTotals,
)

if TYPE_CHECKING:
    from ado.providers.events import AgentEvent, Usage

__all__ = ["SqlMethods"]


class SqlMethods:
    """Tasks, attempts, events, usage, cooldowns, key-values: the task path and its reads."""

    _sql: Callable[[], AbstractContextManager[SqlConnection]]

    # -- schema and orphans -----------------------------------------------------------------

    def current_revision(self) -> str | None:
        """The schema's Alembic revision, None for an empty database."""
        with self._sql() as sql:
            return reader.current_revision(sql)

    def mark_orphans_interrupted(self) -> int:
        """Mark 'interrupted' the running tasks of this host whose ADO process is gone
        (``ado.store.orphans``); how many were marked."""
        with self._sql() as sql:
            return orphans.mark_orphans_interrupted(sql)

    # -- tasks, attempts, events ------------------------------------------------------------

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
        with self._sql() as sql:
            return writes.create_task(
                sql, prompt=prompt, cwd=cwd, hitl_policy=hitl_policy, options=options, status=status
            )

    def update_task(self, task_id: int, **fields: Any) -> None:
        with self._sql() as sql:
            writes.update_task(sql, task_id, **fields)

    def set_agent_pid(self, attempt_id: int, pid: int, mark: str | None = None) -> None:
        """The running agent's pid (its process group) and ``ADO_AGENT_GROUP`` mark."""
        with self._sql() as sql:
            writes.set_agent_pid(sql, attempt_id, pid, mark)

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
        with self._sql() as sql:
            return writes.start_attempt(
                sql,
                task_id,
                number=number,
                provider=provider,
                access_mode=access_mode,
                model=model,
                reason=reason,
            )

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
        model: str | None = None,
    ) -> None:
        """Close the attempt with its totals, and add those totals to its task's; ``model``:
        the one the agent reported using (kept as started when None)."""
        with self._sql() as sql:
            writes.finish_attempt(
                sql,
                attempt_id,
                outcome=outcome,
                message=message,
                exit_code=exit_code,
                session_id=session_id,
                reset_at=reset_at,
                usage=usage,
                cost_usd=cost_usd,
                api_cost_usd=api_cost_usd,
                files=files,
                dropped_events=dropped_events,
                dropped_bytes=dropped_bytes,
                model=model,
            )

    def park_task(self, task_id: int, *, until: datetime, reason: str, in_queue: bool) -> int:
        """Park the task until ``until``; how many times it has been parked now."""
        with self._sql() as sql:
            return writes.park_task(sql, task_id, until=until, reason=reason, in_queue=in_queue)

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
        with self._sql() as sql:
            writes.finish_task(
                sql, task_id, status=status, error=error, result_text=result_text,
                exit_code=exit_code, dropped_events=dropped_events, dropped_bytes=dropped_bytes,
            )  # fmt: skip

    def add_events(
        self, task_id: int, attempt_id: int | None, events: Sequence[AgentEvent]
    ) -> list[int]:
        """Store ``events`` in one transaction; their new ids, in the same order."""
        with self._sql() as sql:
            return writes.add_events(sql, task_id, attempt_id, events)

    def get_task(self, task_id: int) -> TaskView | None:
        """The task with its attempts; None when there is no such task."""
        with self._sql() as sql:
            return reader.get_task(sql, task_id)

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

    def events_since(self, after_id: int, *, limit: int = 1000) -> list[EventText]:
        """Events of every task after ``after_id``, oldest first, their data as JSON text:
        what live views poll."""
        with self._sql() as sql:
            return reader.event_texts(sql, after_id=after_id, limit=limit)

    def last_event_id(self) -> int:
        """Where a live view that only wants new events starts."""
        with self._sql() as sql:
            return reader.last_event_id(sql)

    def find_session(self, session_id: str) -> str | None:
        """The provider whose agent issued ``session_id`` (latest attempt), None if unknown."""
        with self._sql() as sql:
            return reader.find_session(sql, session_id)

    # -- usage and cooldowns ----------------------------------------------------------------

    def record_usage(
        self,
        *,
        provider: str,
        access_mode: str,
        task_id: int | None,
        attempt_id: int | None,
        model: str | None,
        usage: Usage,
        cost_usd: float,
        api_cost_usd: float,
        requests: int = 1,
    ) -> None:
        with self._sql() as sql:
            writes.record_usage(
                sql,
                provider=provider,
                access_mode=access_mode,
                task_id=task_id,
                attempt_id=attempt_id,
                model=model,
                usage=usage,
                cost_usd=cost_usd,
                api_cost_usd=api_cost_usd,
                requests=requests,
            )

    def usage_totals(self, provider: str, access_mode: str, since: datetime) -> UsageTotals:
        """What one (provider, access mode) used since ``since``: what limits are checked on."""
        with self._sql() as sql:
            return reader.usage_totals(sql, provider, access_mode, since)

    def spend_since(self, since: datetime) -> float:
        """Money really spent since ``since``, over every provider."""
        with self._sql() as sql:
            return reader.spend_since(sql, since)

    def usage_report(self, since: datetime | None, provider: str | None = None) -> list[ReportRow]:
        """Per (provider, access mode): tasks and attempts started, then requests, tokens and
        costs from the usage records, since ``since`` (everything when None)."""
        with self._sql() as sql:
            return reader.usage_report(sql, since, provider)

    def task_status_counts(self, since: datetime | None = None) -> dict[str, int]:
        """How many tasks are in each status (created since ``since``, when given)."""
        with self._sql() as sql:
            return reader.task_status_counts(sql, since)

    def set_cooldown(
        self,
        provider: str,
        access_mode: str,
        *,
        until: datetime,
        kind: str,
        reason: str | None,
        reset_known: bool,
        task_id: int | None = None,
    ) -> None:
        """Keep (provider, access mode) out of routing until ``until``; replaces any earlier."""
        with self._sql() as sql:
            writes.set_cooldown(
                sql, provider, access_mode, until=until, kind=kind, reason=reason,
                reset_known=reset_known, task_id=task_id,
            )  # fmt: skip

    def cooldowns(self, now: datetime) -> list[CooldownView]:
        """The cooldowns still running at ``now``."""
        with self._sql() as sql:
            return reader.cooldowns(sql, now)

    def clear_cooldown(self, provider: str, access_mode: str) -> None:
        with self._sql() as sql:
            writes.clear_cooldown(sql, provider, access_mode)

    def clear_cooldowns(self, provider: str, access_mode: str | None = None) -> int:
        """Remove a provider's cooldowns (of one access mode, or all); how many were active."""
        with self._sql() as sql:
            return writes.clear_cooldowns(sql, provider, access_mode)

    # -- the quota ledger ---------------------------------------------------------------------

    def record_quota(self, reading: QuotaWindowView) -> None:
        """Keep ``reading`` as its (provider, window)'s latest (``prev_*`` are filled here)."""
        with self._sql() as sql:
            writes.record_quota(sql, reading)

    def quota_windows(self, provider: str | None = None) -> list[QuotaWindowView]:
        """The latest reading of each usage window (of one provider, when given)."""
        with self._sql() as sql:
            return reader.quota_windows(sql, provider)

    # -- key-values -------------------------------------------------------------------------

    def get_value(self, key: str) -> dict[str, Any] | None:
        with self._sql() as sql:
            value: dict[str, Any] | None = reader.get_value(sql, key)
            return value

    def set_value(self, key: str, value: dict[str, Any]) -> None:
        with self._sql() as sql:
            writes.set_value(sql, key, value)

    def delete_value(self, key: str) -> None:
        with self._sql() as sql:
            writes.delete_values(sql, [key])
