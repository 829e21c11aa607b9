"""ADO's vocabulary: the one definition of each set of names that the configuration, the
store, the API (and so its OpenAPI document and the dashboard's generated types), the CLI's
choices and the notifications share. Nothing else spells these lists.

Imports only ``enum``: ``ado --help`` and ``ado status`` load it for free.
"""

from __future__ import annotations

from enum import StrEnum

__all__ = [
    "AccessMode",
    "AlertStatus",
    "DbKind",
    "Executor",
    "HandoffMode",
    "HitlPolicy",
    "OutcomeKind",
    "QuotaSource",
    "QuotaStatus",
    "QuotaWindow",
    "SchemaState",
    "TaskStatus",
    "WorkerKind",
    "WorkerLostPolicy",
    "values",
]


class TaskStatus(StrEnum):
    """Where a task is in its life."""

    #: Waiting in the store for a worker pool (``POST /api/tasks``).
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    #: The ADO process running it died; found and marked at the next start.
    INTERRUPTED = "interrupted"
    #: Every candidate is limited: it waits for the earliest known reset, then is looked at
    #: again (``ado.orchestrator.parking``; ``park_reason`` says what it waits for).
    PARKED = "parked"

    @property
    def is_active(self) -> bool:
        """Queued, running or parked: not finished yet."""
        return self in (TaskStatus.QUEUED, TaskStatus.RUNNING, TaskStatus.PARKED)


class AccessMode(StrEnum):
    """How an agent is paid for."""

    SUBSCRIPTION = "subscription"
    API = "api"
    FREE = "free"


class HitlPolicy(StrEnum):
    """How much a human is in the loop (``hitl.defaultPolicy``, ``--hitl``)."""

    AUTONOMOUS = "autonomous"
    REVIEW_EDITS = "review-edits"
    APPROVE_STEPS = "approve-steps"
    MANUAL = "manual"


class OutcomeKind(StrEnum):
    """How an attempt ended (``classify``), as stored on the attempt."""

    SUCCESS = "success"
    FAILED = "failed"  # the agent ran and reported an error of its own
    RATE_LIMITED = "rate_limited"  # short window: cool down until the reset
    QUOTA_EXHAUSTED = "quota_exhausted"  # long window (weekly/monthly): skip
    SERVER_ERROR = "server_error"  # 5xx / overloaded: transient
    AUTH_MISSING = "auth_missing"
    NOT_INSTALLED = "not_installed"
    CRASHED = "crashed"
    TIMED_OUT = "timed_out"
    CANCELLED = "cancelled"
    COST_LIMIT = "cost_limit"
    #: Stored while the attempt runs (never a result of ``classify``).
    RUNNING = "running"
    #: The ADO process running the attempt died (never a result of ``classify``).
    INTERRUPTED = "interrupted"

    @property
    def is_limit(self) -> bool:
        return self in (OutcomeKind.RATE_LIMITED, OutcomeKind.QUOTA_EXHAUSTED)


class AlertStatus(StrEnum):
    """Where one notification's delivery on one channel is (the ``alerts`` history)."""

    QUEUED = "queued"
    RETRYING = "retrying"
    DELIVERED = "delivered"
    FAILED = "failed"
    #: Not sent: a duplicate or a burst folded into a summary.
    THROTTLED = "throttled"
    #: The process that owned it exited before it was delivered.
    ABANDONED = "abandoned"


class QuotaWindow(StrEnum):
    """A usage window of a provider's plan (the quota ledger, ``ado quota``)."""

    #: Claude's 5-hour session; codex's primary window (300 minutes).
    FIVE_HOUR = "five_hour"
    #: Claude's seven-day window; codex's secondary window (10080 minutes).
    WEEKLY = "weekly"
    #: Claude's seven-day windows of one model family.
    WEEKLY_OPUS = "weekly_opus"
    WEEKLY_SONNET = "weekly_sonnet"
    #: Premium requests per month (copilot, cursor).
    MONTHLY_PREMIUM = "monthly_premium"
    #: A day: ``requestsPerDay`` / ``tokensPerDay``, or an agent's daily window.
    DAILY = "daily"
    #: ``requestsPerHour``.
    HOURLY = "hourly"
    #: ``requestsPerMinute`` / ``tokensPerMinute`` of an API access mode.
    PER_MINUTE = "per_minute"
    #: Extra usage billed past the plan's windows (claude's overage, its monthly spend limit).
    OVERAGE = "overage"

    @property
    def label(self) -> str:
        """For people: ``5-hour window``, ``weekly Opus window``."""
        return _WINDOW_LABELS[self]


_WINDOW_LABELS = {
    QuotaWindow.FIVE_HOUR: "5-hour window",
    QuotaWindow.WEEKLY: "weekly window",
    QuotaWindow.WEEKLY_OPUS: "weekly Opus window",
    QuotaWindow.WEEKLY_SONNET: "weekly Sonnet window",
    QuotaWindow.MONTHLY_PREMIUM: "monthly premium requests",
    QuotaWindow.DAILY: "daily window",
    QuotaWindow.HOURLY: "hourly window",
    QuotaWindow.PER_MINUTE: "per-minute window",
    QuotaWindow.OVERAGE: "extra usage (overage)",
}


class QuotaStatus(StrEnum):
    """What the provider says of a window (claude's allowed / allowed_warning / rejected)."""

    ALLOWED = "allowed"
    WARNING = "warning"
    REJECTED = "rejected"


class QuotaSource(StrEnum):
    """Where a window's reading comes from."""

    #: Reported by the agent CLI (claude's rate_limit_event, codex's session log, the quota
    #: errors of gemini, copilot and opencode).
    AGENT = "agent"
    #: A configured ``rateLimits`` entry, its use counted from ADO's own usage records.
    COUNTED = "counted"


class HandoffMode(StrEnum):
    """What the next agent is told when a task fails over (``routing.failover.handoff``)."""

    #: The original task, what the previous attempts did, and "continue from here".
    SUMMARY = "summary"
    #: The original task alone: the next agent starts from scratch.
    RESTART = "restart"


class Executor(StrEnum):
    """Who runs the tasks ``ado serve`` queues (``orchestration.executor``)."""

    #: ``ado serve``'s own worker pool, in its process.
    LOCAL = "local"
    #: ``ado worker`` processes, sent each task as a Celery message over a Redis broker
    #: (``ado.distributed``, docs/scaling.md).
    CELERY = "celery"


class DbKind(StrEnum):
    """What ``ado db`` reads or writes: a store, or a backup of one."""

    #: A SQLite file: the store itself, or its backup (``ado db backup`` on SQLite).
    SQLITE = "sqlite"
    #: A database on a PostgreSQL server.
    POSTGRESQL = "postgresql"
    #: A ``pg_dump --format=custom`` archive (``ado db backup`` on PostgreSQL).
    PG_DUMP = "pg_dump"


class SchemaState(StrEnum):
    """A database's schema revision against the newest this ADO knows (``store.HEAD``)."""

    CURRENT = "current"
    #: An older revision: ``ado db upgrade`` (or any command opening the store) migrates it.
    BEHIND = "behind"
    #: A revision this ADO does not know: written by a newer ADO.
    NEWER = "newer"
    #: No revision: an empty database, or not ADO's.
    NONE = "none"


class WorkerKind(StrEnum):
    """What runs a worker pool (the worker registry, ``ado workers``)."""

    #: ``ado serve``'s own pool: it polls the store's queue.
    SERVE = "serve"
    #: ``ado worker``: a pool fed by the broker's messages.
    WORKER = "worker"


class WorkerLostPolicy(StrEnum):
    """What becomes of a lost worker's running tasks (``orchestration.onWorkerLost``)."""

    #: Marked ``interrupted``: agents have side effects, a person decides whether to re-run.
    INTERRUPT = "interrupt"
    #: Queued again: the next free pool runs it from the start (its attempt is interrupted).
    REQUEUE = "requeue"


def values(enum: type[StrEnum]) -> tuple[str, ...]:
    """The enum's values in definition order: for ``click.Choice`` and messages."""
    return tuple(member.value for member in enum)
