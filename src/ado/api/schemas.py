"""The API's JSON shapes: pydantic models with camelCase names (the OpenAPI schema, the
dashboard's generated TypeScript client). Their class names are part of the contract."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StrictBool,
    TypeAdapter,
)
from pydantic.alias_generators import to_camel
from pydantic.dataclasses import dataclass as pydantic_dataclass

from ado.config.base import Priority
from ado.config.schema import (
    ApiFallbackConfig,
    EscalationThresholds,
    FailoverConfig,
    RoutingStrategy,
)
from ado.options import check_prompt
from ado.vocab import (
    AccessMode,
    AlertStatus,
    HitlPolicy,
    OutcomeKind,
    QuotaSource,
    QuotaStatus,
    QuotaWindow,
    TaskStatus,
    WorkerKind,
    WorkerLostPolicy,
)

if TYPE_CHECKING:
    from ado.options import TaskChoices, TaskOptions
else:  # pydantic's view of ado.options (TaskCreate, TaskDetail.options): the same fields
    import ado.options

    TaskChoices = ado.options.as_dataclass(ado.options.TaskChoices)
    TaskOptions = ado.options.as_dataclass(ado.options.TaskOptions)

__all__ = [
    "TASK_CREATE",
    "AccessModeOut",
    "AccessModePatch",
    "AlertPage",
    "AttemptOut",
    "CancelResult",
    "CooldownOut",
    "CooldownRow",
    "CostTrendDay",
    "DashboardStats",
    "ErrorBody",
    "ErrorDetail",
    "ErrorResponse",
    "EventData",
    "EventMessage",
    "EventOut",
    "EventPage",
    "EventUsage",
    "EventsMessage",
    "HealthOut",
    "HelloMessage",
    "HitlSettings",
    "InfoOut",
    "LimitOut",
    "LiveMessage",
    "PingMessage",
    "PongMessage",
    "ProviderCheck",
    "ProviderMessage",
    "ProviderOut",
    "ProviderPatch",
    "ProviderUsage",
    "ProviderUsageDay",
    "ProviderUsageRow",
    "QuotaOut",
    "QuotaWindowOut",
    "ReadyOut",
    "ResyncMessage",
    "RoutingSettings",
    "RunAttempt",
    "RunEvent",
    "RunSummary",
    "Settings",
    "SettingsPatch",
    "Stat",
    "StatusOut",
    "StatusToday",
    "TaskCreate",
    "TaskDetail",
    "TaskMessage",
    "TaskPage",
    "TaskSummary",
    "TaskVolumeDay",
    "TokenOut",
    "Totals",
    "UsageHistory",
    "UsageReport",
    "UsageReportRow",
    "UsageToday",
    "WorkerOut",
    "live_message_schemas",
]

#: The configuration of every shape: camelCase names, snake_case accepted, no unknown keys.
WIRE = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


class Schema(BaseModel):
    """Base of the API's JSON shapes (``WIRE``)."""

    model_config = WIRE


Prompt = Annotated[str, Field(min_length=1), AfterValidator(check_prompt)]

# -- errors -------------------------------------------------------------------------------


class ErrorDetail(Schema):
    field: str | None = Field(description="The offending field as a dotted path, if any.")
    message: str


class ErrorBody(Schema):
    code: str = Field(description="Machine-readable: validation_error, not_found, ...")
    message: str
    details: list[ErrorDetail]


class ErrorResponse(Schema):
    error: ErrorBody


# -- health -------------------------------------------------------------------------------


class HealthOut(Schema):
    status: Literal["ok"]


class ReadyOut(Schema):
    status: Literal["ready", "unavailable"]
    checks: dict[str, str]


class InfoOut(Schema):
    version: str
    uptime_seconds: float
    memory_mb: float
    pid: int
    started_at: datetime
    store: str = Field(description="The database URL, password hidden.")


# -- tasks --------------------------------------------------------------------------------


class TaskSummary(Schema):
    id: int
    prompt: str = Field(
        description="The prompt; in listings, its first 1000 characters (`promptTruncated`)."
    )
    prompt_truncated: bool = Field(
        description="true: `prompt` is an excerpt; `GET /api/tasks/{id}` has it whole."
    )
    status: TaskStatus
    provider: str | None
    access_mode: AccessMode | None
    cwd: str
    hitl_policy: HitlPolicy
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    duration_s: float | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    api_cost_usd: float
    attempt_count: int
    error: str | None
    park_reason: str | None = Field(
        default=None,
        description="What a parked task waits for (\"waiting for claude-code's 5-hour "
        'window, resets 14:05 UTC"); kept after it resumes, for its last park.',
    )
    parked_until: datetime | None = Field(
        default=None, description="When a parked task is looked at again (its last park)."
    )
    parks: int = Field(
        default=0, description="How many times the task was parked (routing.quota.maxParks)."
    )


class AttemptOut(Schema):
    id: int
    number: int
    provider: str
    access_mode: AccessMode
    model: str | None
    reason: str | None
    session_id: str | None
    outcome: OutcomeKind
    outcome_message: str | None
    exit_code: int | None
    reset_at: datetime | None
    files_changed: list[str]
    started_at: datetime
    finished_at: datetime | None
    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float
    api_cost_usd: float
    agent_cost_usd: float | None = Field(
        default=None,
        description="What the agent itself reported the attempt cost (claude's "
        "total_cost_usd, opencode's step costs), next to ADO's api_cost_usd estimate for the "
        "model it used; null when the agent reports no figure.",
    )
    dropped_events: int = Field(
        description="Agent events not stored: over storage.maxEventsPerTask/maxBytesPerTask."
    )
    dropped_bytes: int = Field(
        description="Bytes of agent output not stored: dropped events, and what was cut "
        "from events over storage.maxEventBytes."
    )


class TaskDetail(TaskSummary):
    routing_reason: str | None
    result_text: str | None
    options: TaskOptions
    attempts: list[AttemptOut]
    dropped_events: int = Field(description="The task's agent events not stored (all attempts).")
    dropped_bytes: int = Field(description="The task's bytes of agent output not stored.")


class TaskPage(Schema):
    items: list[TaskSummary]
    next_cursor: str | None


@pydantic_dataclass(config=WIRE, kw_only=True)
class TaskCreate(TaskChoices):
    """A task to queue; the server's worker pool runs it like ``ado run`` would. Every
    provider named must be configured (422 otherwise, with the closest id)."""

    prompt: Prompt = Field(description="What the agent should do.")
    cwd: str | None = Field(default=None, description="Working directory; default: the server's.")


#: ``TaskCreate`` from JSON and back (a dataclass, it has no ``model_validate_json``).
TASK_CREATE = TypeAdapter(TaskCreate)


class CancelResult(Schema):
    id: int
    status: str = Field(description="cancelled, cancelling or interrupted.")


class EventUsage(Schema):
    """Tokens an event reports: increments (summing an attempt's gives its totals)."""

    input_tokens: int = 0
    output_tokens: int = 0
    cache_read_tokens: int = 0
    cache_write_tokens: int = 0
    cost_usd: float | None = Field(
        default=None, description="The agent's own cost figure, when it reports one."
    )
    model: str | None = None


class EventData(Schema):
    """What an event says (``ado.providers.events.AgentEvent``), stored as it is served: the
    empty fields left out. Keys are ADO's (camelCase); the values an agent gave are kept as
    it wrote them (``toolInput``'s keys, keys copied into ``data`` from its output)."""

    text: str | None = None
    tool_id: str | None = Field(default=None, description="The agent's id for a tool call.")
    tool_name: str | None = None
    tool_input: dict[str, Any] | None = Field(
        default=None, description="The tool's input, verbatim as the agent passed it."
    )
    is_error: bool | None = None
    session_id: str | None = None
    usage: EventUsage | None = None
    files: list[str] | None = Field(
        default=None, description="Files the agent created or changed with this tool call."
    )
    reset_at: datetime | None = Field(default=None, description="When a rate limit resets.")
    retrying: bool | None = Field(
        default=None, description="A rate limit the agent is retrying by itself."
    )
    status_code: int | None = None
    data: dict[str, Any] | None = Field(
        default=None,
        description="Details: ADO's own keys camelCase (attempt_finished: `outcome`, "
        "`exitCode`, `durationS`, `costUsd`...); keys copied from the agent's output keep "
        "the agent's spelling (claude's `num_turns`, `rateLimitType`).",
    )


class EventOut(Schema):
    id: int
    task_id: int
    attempt_id: int | None
    kind: str
    created_at: datetime
    data: EventData


class EventPage(Schema):
    items: list[EventOut]
    next_after: int | None = Field(description="Pass as `after` for the next page.")


# -- ado run --json -----------------------------------------------------------------------


class RunEvent(Schema):
    """A line of ``ado run --json``: an event as it happens (``EventOut`` before it has an
    id), with the attempt it belongs to."""

    task_id: int
    attempt_id: int | None
    attempt: int | None = Field(description="The attempt's number (1, 2...).")
    provider: str | None
    access_mode: AccessMode | None
    kind: str
    data: EventData


class RunAttempt(Schema):
    """An attempt in ``ado run --json``'s summary: ``AttemptOut``'s fields known then."""

    number: int
    provider: str
    access_mode: AccessMode
    outcome: OutcomeKind | None
    reset_at: datetime | None
    session_id: str | None
    files_changed: list[str]


class RunSummary(Schema):
    """The last line of ``ado run --json``."""

    kind: Literal["summary"]
    task_id: int
    status: TaskStatus
    exit_code: int
    duration_s: float
    usage: EventUsage
    cost_usd: float
    api_cost_usd: float
    error: str | None
    attempts: list[RunAttempt]


# -- dashboard ----------------------------------------------------------------------------


class Stat(Schema):
    value: float
    change: float | None = Field(description="Relative change against the previous period.")


class DashboardStats(Schema):
    active_tasks: Stat
    completed_today: Stat
    api_cost_24h: Stat = Field(alias="apiCost24h")
    avg_duration_s: Stat


class TaskVolumeDay(Schema):
    date: str
    total: int
    succeeded: int
    failed: int


class ProviderUsageRow(Schema):
    provider: str
    tasks: int
    input_tokens: int
    output_tokens: int
    api_cost_usd: float


class CostTrendDay(Schema):
    date: str
    subscription_value_usd: float
    api_spend_usd: float


class UsageHistory(Schema):
    task_volume: list[TaskVolumeDay]
    usage_by_provider: list[ProviderUsageRow]
    cost_trend: list[CostTrendDay]


# -- providers ----------------------------------------------------------------------------


class LimitOut(Schema):
    name: str
    used: int
    limit: int
    window: str
    resets_at: datetime


class AccessModeOut(Schema):
    mode: AccessMode
    priority: int
    enabled: bool
    limits: list[LimitOut]
    cooldown_until: datetime | None
    cooldown_reason: str | None


class UsageToday(Schema):
    tasks: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    api_cost_usd: float


class ProviderOut(Schema):
    id: str
    name: str
    installed: bool
    version: str | None
    enabled: bool
    path: str | None
    logged_in: bool | None
    access_modes: list[AccessModeOut]
    capabilities: dict[str, Any] = Field(
        description="camelCase capability flags, languages and maxContextTokens."
    )
    usage_today: UsageToday
    origins: dict[str, Literal["default", "file", "saved"]] = Field(
        default_factory=dict,
        description="The layer of `enabled` and of each access mode's `enabled` and "
        "`priority`, by key: `enabled`, `accessModes.<mode>.enabled`, "
        "`accessModes.<mode>.priority`.",
    )
    file_values: dict[str, Any] = Field(
        default_factory=dict,
        description="For each of those keys whose origin is `saved`: the file's value.",
    )


class AccessModePatch(Schema):
    mode: AccessMode
    enabled: StrictBool | None = None
    priority: Annotated[Priority, Strict()] | None = Field(
        default=None, description="1 (first) to 1000."
    )


class ProviderPatch(Schema):
    enabled: StrictBool | None = None
    access_modes: list[AccessModePatch] | None = None


class ProviderUsageDay(Schema):
    date: str
    tasks: int
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    api_cost_usd: float


class ProviderUsage(Schema):
    provider: str
    days: list[ProviderUsageDay]


# -- settings -----------------------------------------------------------------------------


def _notification_choices(schema: dict[str, Any]) -> None:
    """The enums inside the (untyped) notifications section, from its config models: the
    dashboard offers these choices from the schema."""
    from ado.notifications.config import EmailConfig

    security = EmailConfig.model_json_schema()["properties"]["security"]["enum"]
    email = {"type": "object", "properties": {"security": {"type": "string", "enum": security}}}
    channels = {"type": "object", "properties": {"email": email}}
    schema["properties"] = {"channels": channels}


class RoutingSettings(Schema):
    strategy: RoutingStrategy
    failover: FailoverConfig
    api_fallback: ApiFallbackConfig


class HitlSettings(Schema):
    default_policy: HitlPolicy
    escalation_thresholds: EscalationThresholds


class Settings(Schema):
    routing: RoutingSettings
    hitl: HitlSettings
    notifications: dict[str, Any] = Field(
        description='The notifications section; every secret shows as {"set": true|false}.',
        json_schema_extra=_notification_choices,
    )
    origins: dict[str, Literal["default", "file", "saved"]] = Field(
        default_factory=dict,
        description="The layer each value shown comes from, by dotted key "
        "(`routing.strategy`): the built-in default, ado.config.yaml, or saved here.",
    )
    file_values: dict[str, Any] = Field(
        default_factory=dict,
        description="For each saved value, what the file (or the default) would give; "
        'secrets as {"set": true|false}.',
    )


class SettingsPatch(Schema):
    """A partial ``Settings``: only the keys given change. Secrets are write-only: send the
    new value, or ``null`` to remove it; ``{"set": true}`` leaves it as it is."""

    routing: dict[str, Any] | None = None
    hitl: dict[str, Any] | None = None
    notifications: dict[str, Any] | None = None


# -- alerts -------------------------------------------------------------------------------


class AlertOut(Schema):
    """One notification on one channel, as the history records it."""

    id: int
    event: str = Field(description="task.failed, rate_limit.reached... (docs/notifications.md)")
    channel: str = Field(description="slack, email, webhook...; `*`: throttled before any.")
    status: AlertStatus
    level: str = Field(description="info, warning, error or critical")
    title: str
    message: str | None
    task_id: int | None
    error: str | None = Field(description="Why the last delivery failed, if it did.")
    attempts: int
    created_at: datetime
    updated_at: datetime
    delivered_at: datetime | None


class AlertPage(Schema):
    items: list[AlertOut]
    next_cursor: str | None


# -- the CLI (`ado status --json`, `ado report --format json`) -------------------------


class StatusToday(Schema):
    tasks: dict[TaskStatus, int] = Field(description="Tasks created today, by status.")
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    api_cost_usd: float


class Totals(Schema):
    """Tokens and money of a task, an attempt or a report row."""

    input_tokens: int
    output_tokens: int
    cache_read_tokens: int
    cache_write_tokens: int
    cost_usd: float = Field(description="Real spend (API modes).")
    api_cost_usd: float = Field(description="What the tokens would cost at API prices.")


class UsageReportRow(Totals):
    provider: str
    access_mode: AccessMode
    tasks: int
    attempts: int
    requests: int


class UsageReport(Schema):
    """``ado report --format json``."""

    period: Literal["today", "week", "month", "all"]
    since: datetime | None
    rows: list[UsageReportRow]
    total_cost_usd: float
    total_api_cost_usd: float


class QuotaWindowOut(Schema):
    """One usage window of one provider id (an account), from the quota ledger."""

    provider: str
    window: QuotaWindow
    label: str = Field(description="The window for people: `5-hour window`.")
    status: QuotaStatus = Field(description="What the provider says: allowed, warning, rejected.")
    source: QuotaSource = Field(
        description="agent: reported by the agent CLI; counted: a configured rateLimits entry "
        "against ADO's own usage records."
    )
    used_ratio: float | None = Field(description="Fraction used, 0..1; null when not reported.")
    resets_at: datetime | None
    reset_in_s: float | None = Field(description="Seconds until the reset, when known.")
    window_minutes: int | None
    observed_at: datetime
    age_s: float = Field(description="How old the reading is, in seconds.")
    runs_out_at: datetime | None = Field(
        description="At the current burn rate, when the window runs out (only when before its "
        "reset)."
    )
    access_mode: AccessMode | None = Field(description="Counted windows: their access mode.")
    limit_name: str | None = Field(description="Counted windows: the rateLimits key.")
    used: int | None
    limit: int | None
    current: bool = Field(
        description="false: the window has reset since this reading (or its end is unknown): "
        "routing ignores it."
    )
    stops: bool = Field(
        description="The reading keeps the provider from new tasks until the reset (at stopAt "
        "or rejected; a counted window: its access mode, at its limit)."
    )


class QuotaOut(Schema):
    """``GET /api/quota``, ``ado quota --json``: the quota ledger."""

    now: datetime
    warn_at: float = Field(description="routing.quota.warnAt: the fraction that warns.")
    stop_at: float = Field(description="routing.quota.stopAt: the fraction that stops new tasks.")
    windows: list[QuotaWindowOut]


class StatusOut(Schema):
    """``ado status --json``."""

    config: str | None = Field(description="The configuration file, if any.")
    store: str = Field(description="The database URL, password hidden.")
    providers: list[ProviderOut]
    recent_tasks: list[TaskSummary]
    today: StatusToday


# -- live messages (GET /api/ws) ----------------------------------------------------------


class CooldownOut(Schema):
    access_mode: AccessMode
    until: datetime
    kind: OutcomeKind = Field(description="rate_limited or quota_exhausted.")
    reason: str | None
    reset_known: bool = Field(description="false: the agent named no reset time (a default).")


class CooldownRow(CooldownOut):
    """A cooldown as ``ado providers cooldowns --json`` lists it: with its provider."""

    provider: str
    task_id: int | None = Field(description="The task whose attempt hit the limit.")


class TokenOut(Schema):
    """An API token as ``ado tokens list --json`` lists it (never the token itself)."""

    id: int
    name: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class WorkerOut(Schema):
    """A live worker pool (`ado serve`'s or `ado worker`) from the worker registry."""

    hostname: str
    pid: int
    name: str | None = Field(description="Its own name (a Celery node name), when it has one.")
    kind: WorkerKind = Field(description="serve: `ado serve`'s pool; worker: `ado worker`.")
    concurrency: int = Field(description="How many tasks it runs at once, at most.")
    queues: list[str] = Field(description="The queues it takes tasks from (empty: all).")
    on_lost: WorkerLostPolicy = Field(
        description="What becomes of its running tasks if it is lost (onWorkerLost)."
    )
    started_at: datetime
    heartbeat_at: datetime
    heartbeat_age_s: float = Field(description="Seconds since its last heartbeat.")
    expires_at: datetime = Field(
        description="When it counts as lost without another heartbeat (workerTimeout)."
    )
    running: list[int] = Field(description="Ids of the tasks it runs now.")
    tasks_done: int = Field(description="Tasks it ran to their end since it started.")


class ProviderCheck(Schema):
    """A line of ``ado providers check --json``: whether the agent works here."""

    id: str
    enabled: bool
    installed: bool
    version: str | None
    path: str | None
    logged_in: bool | None = Field(description="null: the login state is unknown.")
    detail: str | None
    pass_env: list[str] = Field(description="providers.<id>.passEnv: names or globs.")
    pass_env_passed: list[str] = Field(description="The variables it passes (names only).")
    pass_env_withheld: list[str] = Field(
        description="Secret-looking or ADO_* variables its globs matched but hold back."
    )


class HelloMessage(Schema):
    """The first message: the newest event id when the client connected."""

    type: Literal["hello"]
    last_event_id: int


class EventMessage(Schema):
    type: Literal["event"]
    event: EventOut


class EventsMessage(Schema):
    """Several events in one message, oldest first: what a client that asked for batches
    (``/api/ws?batch=1``) gets instead of consecutive ``event`` messages."""

    type: Literal["events"]
    events: list[EventOut]


class TaskMessage(Schema):
    """A task appeared, or its status or totals changed (as ``GET /api/tasks`` lists it)."""

    type: Literal["task"]
    task: TaskSummary


class ProviderMessage(Schema):
    """A provider's cooldowns changed: all of its current ones."""

    type: Literal["provider"]
    provider: str
    cooldowns: list[CooldownOut]


class ResyncMessage(Schema):
    """The client fell behind: events are replayed after ``afterId``; re-fetch the tasks."""

    type: Literal["resync"]
    after_id: int


class PingMessage(Schema):
    """Sent after 20 s without a message; a client may send it too (answered by a pong)."""

    type: Literal["ping"]


class PongMessage(Schema):
    type: Literal["pong"]


LiveMessage = Annotated[
    HelloMessage
    | EventMessage
    | EventsMessage
    | TaskMessage
    | ProviderMessage
    | ResyncMessage
    | PingMessage
    | PongMessage,
    Field(discriminator="type"),
]


def live_message_schemas() -> dict[str, Any]:
    """``LiveMessage`` and the models it names, as OpenAPI components (the WebSocket at
    ``/api/ws`` is not an OpenAPI operation, so its messages are documented this way)."""
    schema = TypeAdapter(LiveMessage).json_schema(
        ref_template="#/components/schemas/{model}", mode="serialization"
    )
    components: dict[str, Any] = schema.pop("$defs")
    schema["title"] = "LiveMessage"
    schema["description"] = "A message of the live WebSocket, GET /api/ws (docs/api.md)."
    components["LiveMessage"] = schema
    return components
