"""The tables ADO persists: tasks, attempts, events, usage records, cooldowns, key-values.

Times are stored as UTC and read back timezone-aware. Totals on tasks and attempts are
written when an attempt ends so that listings and reports never have to sum events.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any, ClassVar, TypeVar

from sqlalchemy import (
    JSON,
    BigInteger,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Text,
    TypeDecorator,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from ado.store.codec import naive_utc, utcnow
from ado.vocab import OutcomeKind

__all__ = [
    "ApiToken",
    "Attempt",
    "Base",
    "Cooldown",
    "Event",
    "KeyValue",
    "QuotaWindowRow",
    "Task",
    "UsageRecord",
    "Worker",
    "utcnow",
    "view_of",
]

_View = TypeVar("_View", bound=tuple[Any, ...])


def view_of(view: type[_View], row: Base, **given: Any) -> _View:
    """The ``view`` (a named tuple, ``ado.store.views``) of an ORM ``row``: each field the
    row's attribute of that name, but those ``given``."""
    values = {name: getattr(row, name) for name in view._fields if name not in given}  # type: ignore[attr-defined]
    return view(**values, **given)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores naive UTC, returns aware UTC (``ado.store.codec``): the same on both databases."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return None if value is None else naive_utc(value)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        return value.replace(tzinfo=UTC) if value is not None else None


_ID = BigInteger().with_variant(Integer(), "sqlite")

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime(),
        dict[str, Any]: JSON(),
        str: String(255),
    }


class _Usage:
    """Tokens and costs: of a usage record, and summed on its attempt and task."""

    input_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    output_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_read_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    cache_write_tokens: Mapped[int] = mapped_column(BigInteger, default=0)
    #: Money really spent (API-key access modes; 0 on subscriptions).
    cost_usd: Mapped[float] = mapped_column(Float, default=0.0)
    #: What the same tokens cost at API prices: the value a subscription delivered.
    api_cost_usd: Mapped[float] = mapped_column(Float, default=0.0)


class _Totals(_Usage):
    #: Agent output not stored (storage caps): whole events, and bytes (ado.orchestrator.caps).
    dropped_events: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")
    dropped_bytes: Mapped[int] = mapped_column(BigInteger, default=0, server_default="0")


class Task(_Totals, Base):
    __tablename__ = "tasks"
    #: The API sorts by cost with keyset pagination: (cost_usd, id) pages without a sort.
    __table_args__ = (Index("ix_tasks_cost_usd_id", "cost_usd", "id"),)

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    prompt: Mapped[str] = mapped_column(Text)
    cwd: Mapped[str] = mapped_column(Text)
    #: queued, running, parked, succeeded, failed, cancelled, interrupted
    status: Mapped[str] = mapped_column(String(16), index=True)
    hitl_policy: Mapped[str] = mapped_column(String(32))
    #: The run's options: provider filters, model, max cost... (never secrets).
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    routing_reason: Mapped[str | None] = mapped_column(Text)
    provider: Mapped[str | None] = mapped_column(String(64), index=True)
    access_mode: Mapped[str | None] = mapped_column(String(16))
    session_id: Mapped[str | None]
    error: Mapped[str | None] = mapped_column(Text)
    result_text: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None]
    attempt_count: Mapped[int] = mapped_column(Integer, default=0)
    #: Host and pid of the ADO process running it, to find orphans after a crash.
    owner_host: Mapped[str | None] = mapped_column(String(255))
    owner_pid: Mapped[int | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    started_at: Mapped[datetime | None]
    #: Indexed: the dashboard counts and averages tasks finished today / in the last 24 h.
    finished_at: Mapped[datetime | None] = mapped_column(index=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    #: Parked (every candidate limited): when it is looked at again, what it waits for, and
    #: how many times it was parked (``routing.quota.maxParks``; ``ado.orchestrator.parking``).
    parked_until: Mapped[datetime | None]
    park_reason: Mapped[str | None] = mapped_column(Text)
    parks: Mapped[int] = mapped_column(Integer, default=0, server_default="0")

    attempts: Mapped[list[Attempt]] = relationship(
        back_populates="task", order_by="Attempt.number", cascade="all, delete-orphan"
    )


class Attempt(_Totals, Base):
    __tablename__ = "attempts"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    provider: Mapped[str] = mapped_column(String(64))
    access_mode: Mapped[str] = mapped_column(String(16))
    model: Mapped[str | None]
    #: Why the router chose this pair.
    reason: Mapped[str | None] = mapped_column(Text)
    session_id: Mapped[str | None]
    #: An OutcomeKind value (``running`` while it runs)
    outcome: Mapped[str] = mapped_column(String(32), default=OutcomeKind.RUNNING.value)
    outcome_message: Mapped[str | None] = mapped_column(Text)
    exit_code: Mapped[int | None]
    #: What the agent itself says the attempt cost (claude's ``total_cost_usd``, opencode's
    #: per-step cost), next to ADO's ``api_cost_usd``; None when it reports no figure.
    agent_cost_usd: Mapped[float | None] = mapped_column(Float)
    #: The agent's pid (= its process group): stopped if ADO dies and a later start finds it.
    agent_pid: Mapped[int | None]
    #: ``ADO_AGENT_GROUP`` given to the agent: tells its group from a reused pid.
    agent_mark: Mapped[str | None] = mapped_column(String(32))
    reset_at: Mapped[datetime | None]
    #: Paths the agent created or changed during the attempt.
    files_changed: Mapped[list[str]] = mapped_column(JSON, default=list)
    started_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    finished_at: Mapped[datetime | None]

    task: Mapped[Task] = relationship(back_populates="attempts")


class Event(Base):
    __tablename__ = "events"
    __table_args__ = (Index("ix_events_task_id_id", "task_id", "id"),)

    #: Global, increasing: the order of events and the resume point for live streams.
    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("tasks.id", ondelete="CASCADE"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(32))
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class UsageRecord(_Usage, Base):
    """One request to a (provider, access mode): what limits and costs are computed from."""

    __tablename__ = "usage_records"
    __table_args__ = (
        Index("ix_usage_records_provider_mode_at", "provider", "access_mode", "created_at"),
    )

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    provider: Mapped[str] = mapped_column(String(64))
    access_mode: Mapped[str] = mapped_column(String(16))
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    attempt_id: Mapped[int | None] = mapped_column(ForeignKey("attempts.id", ondelete="SET NULL"))
    model: Mapped[str | None]
    requests: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(default=utcnow, index=True)


class Cooldown(Base):
    """A (provider, access mode) that must not be routed to before ``until``."""

    __tablename__ = "cooldowns"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    access_mode: Mapped[str] = mapped_column(String(16), primary_key=True)
    until: Mapped[datetime]
    #: rate_limited or quota_exhausted
    kind: Mapped[str] = mapped_column(String(32))
    reason: Mapped[str | None] = mapped_column(Text)
    #: True when the reset time came from the agent, False when ADO assumed a default.
    reset_known: Mapped[bool] = mapped_column(default=False)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("tasks.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class QuotaWindowRow(Base):
    """The quota ledger: the latest reading of one usage window of a provider (an account:
    each configured provider id has its own), with the reading before it for the burn rate."""

    __tablename__ = "quota_windows"

    provider: Mapped[str] = mapped_column(String(64), primary_key=True)
    #: a QuotaWindow value: five_hour, weekly... ("window" is reserved in PostgreSQL)
    kind: Mapped[str] = mapped_column(String(32), primary_key=True)
    #: a QuotaStatus value: allowed, warning, rejected
    status: Mapped[str] = mapped_column(String(16))
    #: a QuotaSource value: agent, counted
    source: Mapped[str] = mapped_column(String(16))
    #: 0..1, None when the reading did not say
    used_ratio: Mapped[float | None] = mapped_column(Float)
    resets_at: Mapped[datetime | None]
    window_minutes: Mapped[int | None]
    observed_at: Mapped[datetime]
    #: The reading before, in the same window (same reset): the burn rate's other point.
    prev_used_ratio: Mapped[float | None] = mapped_column(Float)
    prev_observed_at: Mapped[datetime | None]


class KeyValue(Base):
    """Small persisted state: the round-robin position, provider overrides from the API."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[dict[str, Any]] = mapped_column(default=dict)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Worker(Base):
    """A live worker pool (``ado serve``'s, ``ado worker``): the worker registry.

    Its running tasks are those whose owner is (``hostname``, ``pid``). A row whose
    ``expires_at`` passed is a lost worker (``ado.store.registry``).
    """

    __tablename__ = "workers"

    hostname: Mapped[str] = mapped_column(String(255), primary_key=True)
    pid: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    #: The worker's own name when it has one (a Celery node name), else None.
    name: Mapped[str | None] = mapped_column(String(255))
    #: a WorkerKind value: serve, worker
    kind: Mapped[str] = mapped_column(String(16))
    concurrency: Mapped[int] = mapped_column(Integer)
    #: The queues it takes tasks from (empty: the store's one queue).
    queues: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: a WorkerLostPolicy value: what whoever finds it lost does with its running tasks.
    on_lost: Mapped[str] = mapped_column(String(16))
    tasks_done: Mapped[int] = mapped_column(BigInteger, default=0)
    started_at: Mapped[datetime]
    heartbeat_at: Mapped[datetime]
    #: The last heartbeat + its ``orchestration.workerTimeout``: lost after that.
    expires_at: Mapped[datetime] = mapped_column(index=True)


class ApiToken(Base):
    """A token the API accepts (``ado tokens create``); only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(_ID, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True)
    #: Hex SHA-256 of the token: what a request's token is looked up by.
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    #: Updated at most once a minute per token, not on every request.
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
