"""The typed shape of ``ado.config.yaml``.

Key names follow the TypeScript original (camelCase in the file, snake_case in Python).
Keys the original documented but ADO does not act on yet are accepted so existing files
load; anything else is refused with the key named.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationInfo,
    field_validator,
    model_validator,
)

from ado.config.base import ConfigModel, Priority, Turns, Usd
from ado.config.server import ServerConfig
from ado.notifications.config import LegacyHitlNotifications, NotificationsConfig, apply_legacy
from ado.options import MAX_RETRIES
from ado.routing.limits import reset_hour_minute
from ado.telemetry.config import ObservabilityConfig
from ado.text import MAX_ARG_BYTES
from ado.vocab import AccessMode, Executor, HandoffMode, HitlPolicy, WorkerLostPolicy

__all__ = [
    "AccessModeConfig",
    "AdoConfig",
    "ApiConfig",
    "Capabilities",
    "ProviderConfig",
    "RoutingConfig",
    "RoutingStrategy",
    "SubscriptionConfig",
]


class SubscriptionRateLimits(ConfigModel):
    """Limits of a subscription, counted by ADO from its own usage records."""

    requests_per_day: int | None = Field(
        default=None,
        ge=0,
        description="Requests allowed per day (the day starts at `resetTime`); unset: no limit.",
    )
    requests_per_hour: int | None = Field(
        default=None, ge=0, description="Requests allowed in any rolling hour; unset: no limit."
    )
    tokens_per_day: int | None = Field(
        default=None,
        ge=0,
        description="Tokens (input + output + cache) allowed per day; unset: no limit.",
    )


class SubscriptionConfig(ConfigModel):
    """A flat-rate subscription (``mode: subscription``)."""

    plan: str | None = Field(
        default=None, description='The plan\'s name, for your reference (e.g. "max", "pro").'
    )
    rate_limits: SubscriptionRateLimits = Field(
        default_factory=SubscriptionRateLimits,
        description="Known limits; ADO skips the access mode once one is used up.",
    )
    reset_time: str = Field(
        default="00:00 UTC",
        description='When the daily limits reset: a time of day "HH:MM UTC" (24-hour clock, '
        'UTC; e.g. "14:30 UTC").',
    )

    @field_validator("reset_time")
    @classmethod
    def _check_reset_time(cls, value: str) -> str:
        try:
            reset_hour_minute(value)
        except ValueError:
            raise ValueError('a time of day like "00:00 UTC" or "14:30 UTC"') from None
        return value.strip()

    @property
    def reset_hour_minute(self) -> tuple[int, int]:
        return reset_hour_minute(self.reset_time)


class ApiRateLimits(ConfigModel):
    """Limits of an API key, counted by ADO from its own usage records."""

    requests_per_minute: int | None = Field(
        default=None, ge=0, description="Requests allowed in any rolling minute; unset: no limit."
    )
    tokens_per_minute: int | None = Field(
        default=None, ge=0, description="Tokens allowed in any rolling minute; unset: no limit."
    )


class TokenCost(ConfigModel):
    """Prices in US dollars per million tokens."""

    input: float = Field(ge=0, description="USD per million input tokens.")
    output: float = Field(ge=0, description="USD per million output tokens.")


class ApiConfig(ConfigModel):
    """A pay-per-token API key (``mode: api``)."""

    api_key: SecretStr | None = Field(
        default=None,
        description="The API key handed to the agent; write `${ANTHROPIC_API_KEY}` to read it "
        "from the environment. Never printed.",
    )
    base_url: str | None = Field(
        default=None, description="A different API endpoint (a proxy or a compatible server)."
    )
    rate_limits: ApiRateLimits = Field(
        default_factory=ApiRateLimits, description="Per-minute limits of the key."
    )
    cost_per_million: TokenCost | None = Field(
        default=None,
        description="Your prices; unset: ADO's bundled price table for the model.",
    )


class AccessModeConfig(ConfigModel):
    """One way to reach an agent: a subscription, an API key, or a free tier."""

    mode: AccessMode = Field(
        description="`subscription` (flat rate), `api` (pay per token, costs money) or `free`."
    )
    priority: Priority = Field(
        default=10, description="Routing order, 1 to 1000: lower numbers are tried first."
    )
    enabled: bool = Field(default=True, description="false: never route to this access mode.")
    subscription: SubscriptionConfig | None = Field(
        default=None, description="Plan, limits and reset time of a `subscription` mode."
    )
    api: ApiConfig | None = Field(
        default=None, description="Key, endpoint, limits and prices of an `api` mode."
    )


class Capabilities(ConfigModel):
    """What the agent is good at. A task that asks for a capability skips agents whose flag is
    false, or, for a language, whose non-empty ``languages`` list lacks it."""

    code_generation: bool = Field(default=True, description="Writes new code.")
    code_review: bool = Field(default=True, description="Reviews code.")
    refactoring: bool = Field(default=True, description="Restructures existing code.")
    testing: bool = Field(default=True, description="Writes and runs tests.")
    documentation: bool = Field(default=True, description="Writes documentation.")
    debugging: bool = Field(default=True, description="Finds and fixes bugs.")
    languages: list[str] = Field(
        default_factory=list, description="Languages it is preferred for; empty: any."
    )
    max_context_tokens: int | None = Field(
        default=None, description="Context window in tokens (informational)."
    )
    # documented by the original, informational here
    supports_streaming: bool | None = Field(
        default=None, description="Informational (from the TypeScript original)."
    )
    supports_mcp: bool | None = Field(
        default=None,
        alias="supportsMCP",
        description="Informational (from the TypeScript original).",
    )
    supports_resume: bool | None = Field(
        default=None, description="Informational (from the TypeScript original)."
    )


class DefaultOptions(ConfigModel):
    """Options every run of this agent gets unless the command line says otherwise."""

    model: str | None = Field(
        default=None, description="Model to ask for (`--model` overrides it); unset: the agent's."
    )
    max_turns: Turns | None = Field(
        default=None, description="Stop the agent after this many turns (`--max-turns`)."
    )
    permission_mode: str | None = Field(
        default=None, description="The agent's own permission mode, passed through as is."
    )
    approval_mode: str | None = Field(
        default=None,
        description="Accepted from the TypeScript original; not used: approvals follow the "
        "HITL policy.",
    )


class ProviderConfig(ConfigModel):
    """One agent, under its id (``claude-code``, ``codex``, ``gemini-cli``, ``cursor-agent``,
    ``copilot``, ``opencode``)."""

    enabled: bool = Field(default=False, description="true: ADO may route tasks to this agent.")
    adapter: str | None = Field(
        default=None,
        description="The agent this id runs (`claude-code`, `codex`...); unset: the id itself. "
        "Configures one agent more than once, as accounts with windows and cooldowns of their "
        "own: `claude-work: {adapter: claude-code, env: {CLAUDE_CONFIG_DIR: ~/.claude-work}}`.",
    )
    context_file: str | None = Field(
        default=None,
        description="The agent's context file (CLAUDE.md, AGENTS.md...), relative to the "
        "project; unset: the agent's usual one.",
    )
    access_modes: list[AccessModeConfig] = Field(
        default_factory=list,
        description="The ways to reach this agent, each a routing candidate.",
    )
    capabilities: Capabilities = Field(
        default_factory=Capabilities, description="What it is good at."
    )
    default_options: DefaultOptions = Field(
        default_factory=DefaultOptions, description="Options for every run."
    )
    command: str | None = Field(
        default=None,
        description="The executable, a name on PATH or a path; unset: the agent's usual name "
        "(claude, codex, gemini, cursor-agent, copilot, opencode).",
    )
    args: list[str] = Field(
        default_factory=list, description="Extra arguments appended to every run."
    )
    env: dict[str, str] = Field(
        default_factory=dict, description="Extra environment variables for the agent."
    )
    pass_env: list[str] = Field(
        default_factory=list,
        description="Variables passed through from ADO's own environment, by name or glob "
        '(`["MY_KEY", "CORP_*"]`); agents otherwise get a minimal environment. A glob never '
        "passes a secret-looking name (…KEY, …TOKEN, …SECRET, …PASSWORD) other than this "
        "agent's own credentials, nor ADO_* settings: name such a variable exactly. "
        "`ado providers check` shows what passes.",
    )
    timeout: float = Field(
        default=1800,
        gt=0,
        description="Seconds an attempt may run before it is stopped (timed out).",
    )


def _accepted_error_classes(schema: dict[str, Any]) -> None:
    """The JSON schema (and so the OpenAPI document) lists the names ``onErrors`` accepts."""
    from ado.routing.outcomes import ERROR_CLASSES

    schema["items"] = {"type": "string", "enum": list(ERROR_CLASSES)}


class FailoverConfig(ConfigModel):
    """What happens when an attempt fails."""

    enabled: bool = Field(default=True, description="true: continue the task on the next provider.")
    on_errors: list[str] = Field(
        default_factory=lambda: ["rate_limit", "quota_exhausted"],
        description="Outcomes that fail over to the next provider.",
        json_schema_extra=_accepted_error_classes,
    )
    max_retries: int = Field(
        default=3,
        ge=0,
        le=MAX_RETRIES,
        description="Further attempts after the first one (on other providers).",
    )
    retry_delay: int = Field(
        default=0, ge=0, description="Milliseconds to wait between a failed attempt and the next."
    )
    handoff: HandoffMode = Field(
        default=HandoffMode.SUMMARY,
        description="What the next agent is told: `summary` (the task, what the previous "
        "attempts did: files changed, `git diff --stat`, tool calls, last message; and "
        '"continue from here") or `restart` (the task alone, from scratch).',
    )

    @field_validator("on_errors")
    @classmethod
    def _check_errors(cls, value: list[str]) -> list[str]:
        from ado.routing.outcomes import ERROR_CLASSES

        unknown = [v for v in value if v not in ERROR_CLASSES]
        if unknown:
            raise ValueError(f"one of {', '.join(sorted(ERROR_CLASSES))} (got {unknown[0]!r})")
        return value


class ApiFallbackConfig(ConfigModel):
    """Whether and how far tasks may fall back to pay-per-token API modes (USD amounts)."""

    enabled: bool = Field(
        default=False,
        description="true: API access modes are routing candidates (`--no-api-fallback` "
        "overrides it for one run).",
    )
    confirm_above_cost: Usd | None = Field(
        default=1.0,
        description="Ask before an API run expected to cost more than this many USD (`-y` "
        "skips the question); null: never ask.",
    )
    max_cost_per_task: Usd | None = Field(
        default=10.0,
        description="USD one task may cost on an API mode (`--max-cost` overrides it); "
        "null: no limit.",
    )
    max_daily_cost: Usd | None = Field(
        default=50.0,
        description="USD all API runs may cost per day (from 00:00 UTC); null: no limit.",
    )


class MatchingConfig(ConfigModel):
    """Tie-breakers of the TypeScript original, accepted so existing files load."""

    prefer_capability_match: bool = Field(
        default=True, description="Accepted from the TypeScript original; not used yet."
    )
    prefer_larger_context: bool = Field(
        default=True, description="Accepted from the TypeScript original; not used yet."
    )
    prefer_faster_provider: bool = Field(
        default=False, description="Accepted from the TypeScript original; not used yet."
    )


RoutingStrategy = Literal["subscription-first", "round-robin", "cost-optimized"]


class QuotaRoutingConfig(ConfigModel):
    """Routing by the agents' reported usage windows (the quota ledger, docs/routing.md)."""

    warn_at: float = Field(
        default=0.8,
        ge=0,
        le=1,
        description="Fraction of a usage window at which ADO notifies once per window and reset.",
    )
    stop_at: float = Field(
        default=0.95,
        ge=0,
        le=1,
        description="Fraction of a usage window at which a subscription/free mode takes no "
        "new task until the window resets.",
    )
    max_parks: int = Field(
        default=3,
        ge=0,
        le=100,
        description="How many times a task is parked, waiting for the earliest reset when "
        "every candidate is limited (`ado serve`, `ado run --wait`), before it fails; 0: "
        "never parked, it fails at once.",
    )

    @field_validator("stop_at")
    @classmethod
    def _not_below_warn(cls, value: float, info: ValidationInfo) -> float:
        warn_at = info.data.get("warn_at")
        if isinstance(warn_at, float | int) and value < warn_at:
            raise ValueError(f"a number ≥ warnAt ({warn_at}), at most 1")
        return value


class RoutingConfig(ConfigModel):
    """How a task picks its (provider, access mode)."""

    strategy: RoutingStrategy = Field(
        default="subscription-first",
        description="`subscription-first` (by priority, subscriptions before API keys), "
        "`round-robin` (spread tasks over subscriptions) or `cost-optimized` (cheapest first).",
    )
    failover: FailoverConfig = Field(
        default_factory=FailoverConfig, description="Failing over to the next provider."
    )
    api_fallback: ApiFallbackConfig = Field(
        default_factory=ApiFallbackConfig, description="Pay-per-token API modes and cost limits."
    )
    matching: MatchingConfig = Field(
        default_factory=MatchingConfig,
        description="Tie-breakers of the TypeScript original (not used yet).",
    )
    quota: QuotaRoutingConfig = Field(
        default_factory=QuotaRoutingConfig,
        description="Usage-window thresholds: warn, and stop taking tasks, before a 429.",
    )


class EscalationThresholds(ConfigModel):
    """Bounds on an autonomous run."""

    max_iterations: Turns | None = Field(
        default=None,
        description="Agent turns allowed when neither `--max-turns` nor "
        "`defaultOptions.maxTurns` is set; unset: no limit.",
    )
    max_duration: float | None = Field(
        default=None,
        gt=0,
        description="Seconds an attempt may run before it is stopped (caps each provider's "
        "`timeout`); unset: no limit.",
    )


class HitlConfig(ConfigModel):
    """Human in the loop. Other keys of the TypeScript original (``approvalTimeout``...) are
    accepted as written."""

    model_config = ConfigDict(extra="allow")  # the original's approvalTimeout...

    default_policy: HitlPolicy = Field(
        default=HitlPolicy.AUTONOMOUS,
        description="`autonomous`, `review-edits`, `approve-steps` or `manual` (`--hitl` "
        "overrides it).",
    )
    escalation_thresholds: EscalationThresholds = Field(
        default_factory=EscalationThresholds, description="Bounds on an autonomous run."
    )
    notifications: LegacyHitlNotifications | None = Field(
        default=None,
        description="The original's Slack and email settings; still used, copied into "
        "`notifications.channels` unless that configures the channel.",
    )


class StorageConfig(ConfigModel):
    """Where tasks, events, usage and cooldowns are recorded. Other keys of the TypeScript
    original (``rateLimitTracking``...) are accepted as written."""

    model_config = ConfigDict(extra="allow")  # the original's rateLimitTracking

    driver: Literal["sqlite", "postgresql"] = Field(
        default="sqlite", description="`sqlite` (a local file) or `postgresql` (for a team)."
    )
    path: str = Field(
        default=".ado/state.db",
        description="The SQLite file, relative to the project directory.",
    )
    connection_string: SecretStr | None = Field(
        default=None,
        description="`postgresql://user:password@host:5432/database`; the `ADO_DATABASE_URL` "
        "environment variable wins over it. Never printed.",
    )
    max_events_per_task: int = Field(
        default=20_000,
        ge=100,
        description="Events stored per task, at most: past it the agent's output is counted, "
        "not stored (one `output truncated` event says so; its result, usage and rate limits "
        "are still kept).",
    )
    max_event_bytes: int = Field(
        default=64 * 1024,
        ge=1024,
        description="Size of one stored event, at most (bytes of text): longer agent output "
        "is cut, with a marker, where it is read.",
    )
    max_bytes_per_task: int = Field(
        default=32 * 1024 * 1024,
        ge=64 * 1024,
        description="Bytes of events stored per task, at most; past it, as `maxEventsPerTask`.",
    )


class OrchestrationConfig(ConfigModel):
    """Running agents. Other keys of the TypeScript original (``worktreeIsolation``,
    ``checkpointInterval``, ``taskQueue``) are accepted as written."""

    model_config = ConfigDict(extra="allow")  # worktreeIsolation, checkpointInterval, taskQueue

    max_parallel_agents: int = Field(
        default=4,
        ge=1,
        description="Agents `ado serve` runs at the same time; the other submitted tasks "
        "wait queued.",
    )
    max_prompt_bytes: int = Field(
        default=MAX_ARG_BYTES,
        ge=1,
        le=MAX_ARG_BYTES,
        description="The longest prompt accepted (`ado run`, `POST /api/tasks`), in bytes of "
        "UTF-8. Agents receive the prompt as one command-line argument, which Linux limits to "
        "131071 bytes: the default, and the most allowed.",
    )
    executor: Executor = Field(
        default=Executor.LOCAL,
        description="Who runs the tasks `ado serve` queues: `local` (its own worker pool) or "
        "`celery` (`ado worker` processes, over the Redis broker `broker`; needs PostgreSQL "
        "as the shared store; docs/scaling.md).",
    )
    broker: SecretStr | None = Field(
        default=None,
        description="The Celery broker of the `celery` executor: `redis://host:6379/0`; the "
        "`ADO_BROKER_URL` environment variable wins over it. Never printed.",
    )
    queue: str = Field(
        default="ado",
        min_length=1,
        description="The Celery queue tasks are sent to (`ado worker --queues` names the "
        "ones a worker takes).",
    )
    routes: dict[str, str] = Field(
        default_factory=dict,
        description="Per-queue routing: provider id → Celery queue. A task asking for that "
        "provider (`provider`, or the first of `providers`) is sent to that queue instead of "
        "`queue`.",
    )
    visibility_timeout: int = Field(
        default=3600,
        ge=1,
        description="Seconds the Redis broker waits for a message's acknowledgement before it "
        "delivers the message again. Agents may run longer: a second delivery finds the task "
        "claimed in the store and starts nothing (docs/scaling.md).",
    )
    worker_timeout: float = Field(
        default=30.0,
        ge=3.0,
        le=3600.0,
        description="Seconds without a heartbeat after which a worker pool (`ado serve`'s, "
        "`ado worker`) counts as lost; every live pool checks, and the first to see it applies "
        "`onWorkerLost` to its running tasks. Pools beat every third of it. A pool on the "
        "same host whose process is gone is lost at once.",
    )
    on_worker_lost: WorkerLostPolicy = Field(
        default=WorkerLostPolicy.INTERRUPT,
        description="A lost worker's running tasks: `interrupt` (marked interrupted: agents "
        "have side effects, so a person decides) or `requeue` (queued again, run from the "
        "start by the next free pool).",
    )


class ProjectConfig(ConfigModel):
    """The project this file belongs to."""

    id: str | None = Field(default=None, description="A name for the project.")
    repository: str | None = Field(default=None, description="Its repository URL.")


class AdoConfig(ConfigModel):
    """The whole ``ado.config.yaml``."""

    version: str = Field(default="1.1", description='The file format version: "1.1".')
    project: ProjectConfig = Field(
        default_factory=ProjectConfig, description="The project this file belongs to."
    )
    providers: dict[str, ProviderConfig] = Field(
        default_factory=dict, description="The agents, by provider id."
    )
    routing: RoutingConfig = Field(
        default_factory=RoutingConfig, description="How tasks are routed and failed over."
    )
    hitl: HitlConfig = Field(default_factory=HitlConfig, description="Human in the loop.")
    storage: StorageConfig = Field(
        default_factory=StorageConfig, description="Where everything is recorded."
    )
    orchestration: OrchestrationConfig = Field(
        default_factory=OrchestrationConfig, description="Running agents."
    )
    server: ServerConfig = Field(
        default_factory=ServerConfig,
        description="`ado serve`: allowed hosts and origins, proxies, rate limit, public metrics.",
    )
    # Sections owned by later features; accepted as written.
    observability: ObservabilityConfig = Field(
        default_factory=ObservabilityConfig,
        description="Logs, OpenTelemetry traces and metrics (see docs/telemetry.md).",
    )
    notifications: NotificationsConfig = Field(
        default_factory=NotificationsConfig,
        description="Slack, email and webhook notifications (docs/notifications.md).",
    )
    deployment: dict[str, Any] = Field(
        default_factory=dict,
        description="Accepted as written (from the TypeScript original); not used yet.",
    )

    @model_validator(mode="after")
    def _legacy_notifications(self) -> AdoConfig:
        merged = apply_legacy(self.notifications, self.hitl.notifications)
        if merged is not self.notifications:
            self.notifications = merged
        return self


def known_keys(loc: tuple[str | int, ...]) -> list[str]:
    """The keys allowed at a location of the file (for "did you mean" hints)."""
    model: Any = AdoConfig
    for part in loc:
        if isinstance(part, int):
            continue
        if model is AdoConfig and part == "providers":
            model = ProviderConfig
            continue
        if (
            model is ProviderConfig
            and part not in ProviderConfig.model_fields
            and not any(f.alias == part for f in ProviderConfig.model_fields.values())
        ):
            continue  # a provider id under providers:
        field = next((f for name, f in model.model_fields.items() if part in (name, f.alias)), None)
        if field is None:
            return []
        model = _model_of(field.annotation)
        if model is None:
            return []
    return sorted(f.alias or n for n, f in model.model_fields.items())


def _model_of(annotation: Any) -> Any:
    from typing import get_args

    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    for arg in get_args(annotation):
        found = _model_of(arg)
        if found is not None:
            return found
    return None
