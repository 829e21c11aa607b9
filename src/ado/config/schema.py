"""The typed shape of ``ado.config.yaml``.

Key names follow the TypeScript original (camelCase in the file, snake_case in Python).
Keys the original documented but ADO does not act on yet are accepted so existing files
load; anything else is refused with the key named.
"""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic.alias_generators import to_camel

__all__ = [
    "AccessModeConfig",
    "AdoConfig",
    "ApiConfig",
    "Capabilities",
    "ProviderConfig",
    "RoutingConfig",
    "SubscriptionConfig",
]

HITL_POLICIES = ("autonomous", "review-edits", "approve-steps", "manual")
_RESET_TIME = re.compile(r"^([01]?\d|2[0-3]):([0-5]\d)(?:\s*UTC)?$", re.IGNORECASE)


class _Model(BaseModel):
    model_config = ConfigDict(
        alias_generator=to_camel, populate_by_name=True, extra="forbid", validate_default=True
    )


class SubscriptionRateLimits(_Model):
    requests_per_day: int | None = Field(default=None, ge=0)
    requests_per_hour: int | None = Field(default=None, ge=0)
    tokens_per_day: int | None = Field(default=None, ge=0)


class SubscriptionConfig(_Model):
    plan: str | None = None
    rate_limits: SubscriptionRateLimits = Field(default_factory=SubscriptionRateLimits)
    reset_time: str = "00:00 UTC"

    @field_validator("reset_time")
    @classmethod
    def _check_reset_time(cls, value: str) -> str:
        if not _RESET_TIME.match(value.strip()):
            raise ValueError('a time of day like "00:00 UTC" or "14:30 UTC"')
        return value.strip()

    @property
    def reset_hour_minute(self) -> tuple[int, int]:
        match = _RESET_TIME.match(self.reset_time)
        assert match is not None
        return int(match.group(1)), int(match.group(2))


class ApiRateLimits(_Model):
    requests_per_minute: int | None = Field(default=None, ge=0)
    tokens_per_minute: int | None = Field(default=None, ge=0)


class TokenCost(_Model):
    input: float = Field(ge=0)
    output: float = Field(ge=0)


class ApiConfig(_Model):
    api_key: SecretStr | None = None
    base_url: str | None = None
    rate_limits: ApiRateLimits = Field(default_factory=ApiRateLimits)
    cost_per_million: TokenCost | None = None


class AccessModeConfig(_Model):
    mode: Literal["subscription", "api", "free"]
    priority: int = 10
    enabled: bool = True
    subscription: SubscriptionConfig | None = None
    api: ApiConfig | None = None


class Capabilities(_Model):
    code_generation: bool = True
    code_review: bool = True
    refactoring: bool = True
    testing: bool = True
    documentation: bool = True
    debugging: bool = True
    languages: list[str] = Field(default_factory=list)
    max_context_tokens: int | None = None
    # documented by the original, informational here
    supports_streaming: bool | None = None
    supports_mcp: bool | None = Field(default=None, alias="supportsMCP")
    supports_resume: bool | None = None


class DefaultOptions(_Model):
    model: str | None = None
    max_turns: int | None = Field(default=None, ge=1)
    permission_mode: str | None = None


class ProviderConfig(_Model):
    enabled: bool = False
    context_file: str | None = None
    access_modes: list[AccessModeConfig] = Field(default_factory=list)
    capabilities: Capabilities = Field(default_factory=Capabilities)
    default_options: DefaultOptions = Field(default_factory=DefaultOptions)
    command: str | None = None
    args: list[str] = Field(default_factory=list)
    env: dict[str, str] = Field(default_factory=dict)
    #: Seconds an attempt may run before it is stopped.
    timeout: float = Field(default=1800, gt=0)


class FailoverConfig(_Model):
    enabled: bool = True
    #: Outcomes that fail over besides rate limits and exhausted quotas.
    on_errors: list[str] = Field(default_factory=lambda: ["rate_limit", "quota_exhausted"])
    max_retries: int = Field(default=3, ge=0)
    #: Milliseconds between a failed attempt and the next.
    retry_delay: int = Field(default=0, ge=0)

    @field_validator("on_errors")
    @classmethod
    def _check_errors(cls, value: list[str]) -> list[str]:
        from ado.routing.outcomes import ERROR_CLASSES

        unknown = [v for v in value if v not in ERROR_CLASSES]
        if unknown:
            raise ValueError(f"one of {', '.join(sorted(ERROR_CLASSES))} (got {unknown[0]!r})")
        return value


class ApiFallbackConfig(_Model):
    enabled: bool = False
    confirm_above_cost: float | None = Field(default=1.0, ge=0)
    max_cost_per_task: float | None = Field(default=10.0, ge=0)
    max_daily_cost: float | None = Field(default=50.0, ge=0)


class MatchingConfig(_Model):
    prefer_capability_match: bool = True
    prefer_larger_context: bool = True
    prefer_faster_provider: bool = False


class RoutingConfig(_Model):
    strategy: Literal["subscription-first", "round-robin", "cost-optimized"] = "subscription-first"
    failover: FailoverConfig = Field(default_factory=FailoverConfig)
    api_fallback: ApiFallbackConfig = Field(default_factory=ApiFallbackConfig)
    matching: MatchingConfig = Field(default_factory=MatchingConfig)


class EscalationThresholds(_Model):
    max_iterations: int | None = Field(default=None, ge=1)
    #: Seconds.
    max_duration: float | None = Field(default=None, gt=0)


class HitlConfig(_Model):
    model_config = ConfigDict(extra="allow")  # the original's approvalTimeout, notifications...

    default_policy: Literal["autonomous", "review-edits", "approve-steps", "manual"] = "autonomous"
    escalation_thresholds: EscalationThresholds = Field(default_factory=EscalationThresholds)


class StorageConfig(_Model):
    model_config = ConfigDict(extra="allow")  # the original's rateLimitTracking

    driver: Literal["sqlite", "postgresql"] = "sqlite"
    path: str = ".ado/state.db"
    connection_string: SecretStr | None = None


class OrchestrationConfig(_Model):
    model_config = ConfigDict(extra="allow")  # worktreeIsolation, checkpointInterval, taskQueue

    max_parallel_agents: int = Field(default=4, ge=1)


class ProjectConfig(_Model):
    id: str | None = None
    repository: str | None = None


class AdoConfig(_Model):
    version: str = "1.1"
    project: ProjectConfig = Field(default_factory=ProjectConfig)
    providers: dict[str, ProviderConfig] = Field(default_factory=dict)
    routing: RoutingConfig = Field(default_factory=RoutingConfig)
    hitl: HitlConfig = Field(default_factory=HitlConfig)
    storage: StorageConfig = Field(default_factory=StorageConfig)
    orchestration: OrchestrationConfig = Field(default_factory=OrchestrationConfig)
    # Sections owned by later features; accepted as written.
    observability: dict[str, Any] = Field(default_factory=dict)
    notifications: dict[str, Any] = Field(default_factory=dict)
    deployment: dict[str, Any] = Field(default_factory=dict)


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
