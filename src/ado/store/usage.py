"""Usage records, cooldowns, small key-values, and the reports built from them."""

from __future__ import annotations

from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.orm import Session

from ado.providers.events import Usage
from ado.store import reader
from ado.store.models import Base, Cooldown, KeyValue, UsageRecord, utcnow
from ado.store.reader import SqlConnection
from ado.store.views import CooldownView, ReportRow, UsageTotals

__all__ = ["UsageMethods"]


class UsageMethods:
    """The usage half of ``Store``; it provides the sessions and the dialect."""

    dialect: str
    _read: Callable[[], AbstractContextManager[Session]]
    _write: Callable[[], AbstractContextManager[Session]]
    _sql: Callable[[], AbstractContextManager[SqlConnection]]

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
        record = UsageRecord(
            provider=provider,
            access_mode=access_mode,
            task_id=task_id,
            attempt_id=attempt_id,
            model=model,
            requests=requests,
            input_tokens=usage.input_tokens,
            output_tokens=usage.output_tokens,
            cache_read_tokens=usage.cache_read_tokens,
            cache_write_tokens=usage.cache_write_tokens,
            cost_usd=cost_usd,
            api_cost_usd=api_cost_usd,
            created_at=utcnow(),
        )
        with self._write() as session:
            session.add(record)

    def usage_totals(self, provider: str, access_mode: str, since: datetime) -> UsageTotals:
        """What one (provider, access mode) used since ``since``: what limits are checked on."""
        with self._sql() as sql:
            return reader.usage_totals(sql, provider, access_mode, since)

    def spend_since(self, since: datetime) -> float:
        """Money really spent since ``since``, over every provider."""
        query = select(func.coalesce(func.sum(UsageRecord.cost_usd), 0.0)).where(
            UsageRecord.created_at >= since
        )
        with self._read() as session:
            return float(session.scalar(query) or 0.0)

    # -- cooldowns ------------------------------------------------------------------------

    def set_cooldown(
        self,
        provider: str,
        access_mode: str,
        *,
        until: datetime,
        kind: str,
        reason: str,
        reset_known: bool,
        task_id: int | None = None,
    ) -> None:
        """Keep (provider, access mode) out of routing until ``until``; replaces any earlier."""
        values = {
            "until": until,
            "kind": kind,
            "reason": reason,
            "reset_known": reset_known,
            "task_id": task_id,
            "created_at": utcnow(),
        }
        keys = {"provider": provider, "access_mode": access_mode}
        with self._write() as session:
            self._upsert(session, Cooldown, keys, values)

    def cooldowns(self, now: datetime) -> list[CooldownView]:
        """The cooldowns still running at ``now``."""
        with self._sql() as sql:
            return reader.cooldowns(sql, now)

    def clear_cooldown(self, provider: str, access_mode: str) -> None:
        with self._write() as session:
            cooldown = session.get(Cooldown, (provider, access_mode))
            if cooldown is not None:
                session.delete(cooldown)

    def clear_cooldowns(self, provider: str, access_mode: str | None = None) -> int:
        """Remove a provider's cooldowns (of one access mode, or all); how many were active."""
        now = utcnow()
        where = [Cooldown.provider == provider]
        if access_mode is not None:
            where.append(Cooldown.access_mode == access_mode)
        active = [c for c in self.cooldowns(now) if c.provider == provider]
        active = [c for c in active if access_mode is None or c.access_mode == access_mode]
        with self._write() as session:
            session.execute(delete(Cooldown).where(*where))
        return len(active)

    # -- key-values -----------------------------------------------------------------------

    def get_value(self, key: str) -> dict[str, Any] | None:
        with self._sql() as sql:
            return reader.get_value(sql, key)

    def set_value(self, key: str, value: dict[str, Any]) -> None:
        with self._write() as session:
            self._upsert(session, KeyValue, {"key": key}, {"value": value, "updated_at": utcnow()})

    def delete_value(self, key: str) -> None:
        with self._write() as session:
            session.execute(delete(KeyValue).where(KeyValue.key == key))

    # -- reports --------------------------------------------------------------------------

    def usage_report(self, since: datetime | None, provider: str | None = None) -> list[ReportRow]:
        """Per (provider, access mode): tasks and attempts started, then requests, tokens and
        costs from the usage records, since ``since`` (everything when None)."""
        with self._sql() as sql:
            return reader.usage_report(sql, since, provider)

    def task_status_counts(self, since: datetime | None = None) -> dict[str, int]:
        """How many tasks are in each status (created since ``since``, when given)."""
        with self._sql() as sql:
            return reader.task_status_counts(sql, since)

    def _upsert(
        self,
        session: Session,
        model: type[Base],
        keys: dict[str, Any],
        values: dict[str, Any],
    ) -> None:
        """Insert the row, or update ``values`` on the row with these primary ``keys``."""
        if self.dialect == "postgresql":
            from sqlalchemy.dialects.postgresql import insert as pg_insert

            pg = pg_insert(model).values(**keys, **values)
            session.execute(
                pg.on_conflict_do_update(
                    index_elements=list(keys), set_={k: pg.excluded[k] for k in values}
                )
            )
        else:
            from sqlalchemy.dialects.sqlite import insert as sqlite_insert

            lite = sqlite_insert(model).values(**keys, **values)
            session.execute(
                lite.on_conflict_do_update(
                    index_elements=list(keys), set_={k: lite.excluded[k] for k in values}
                )
            )
