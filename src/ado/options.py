"""The options of one task: the one typed model behind ``ado run``'s flags, the fields of
``POST /api/tasks``, what the store keeps in ``tasks.options`` and what the worker pool runs.

    TaskChoices     what a user may choose for a task (the API's TaskCreate adds prompt, cwd)
    └── TaskOptions + what only ``ado run`` offers (allow_api, resume, wait): stored as is

``TaskOptions.stored()`` is the store's form (snake_case keys, defaults left out);
``TaskOptions.from_stored`` reads it back (rows written before the model, too); the wire form
(``TaskDetail.options``) is the same model with camelCase keys. ``filters()`` gives the
router's view. The bounds below apply wherever the values come from (the configuration's
priorities, turns and costs too); the API takes integers and booleans strictly (``"5"``,
``"no"``, ``0`` are refused).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, Strict, StrictBool
from pydantic.alias_generators import to_camel

from ado.vocab import AccessMode, HitlPolicy

if TYPE_CHECKING:
    from ado.routing.router import RouteFilters

__all__ = [
    "MAX_COST_USD",
    "MAX_PRIORITY",
    "MAX_RETRIES",
    "MAX_TURNS",
    "Priority",
    "Prompt",
    "TaskChoices",
    "TaskOptions",
    "Turns",
    "Usd",
    "WireModel",
    "check_prompt",
]

#: Agent turns one run may be given (``--max-turns``, ``maxTurns``).
MAX_TURNS = 10_000
#: Further attempts after the first (``routing.failover.maxRetries``).
MAX_RETRIES = 100
#: Routing priorities run from 1 (first) to this.
MAX_PRIORITY = 1_000
#: The largest USD amount a cost setting or limit takes.
MAX_COST_USD = 1_000_000.0
#: Names in ``providers``, ``exclude`` and ``requireCapabilities``.
MAX_NAMES = 64


class WireModel(BaseModel):
    """Base of the API's JSON shapes: camelCase names, snake_case accepted, no unknown keys."""

    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True, extra="forbid")


def check_prompt(value: str) -> str:
    """``value`` if it can be a prompt; ``ValueError`` saying why not. The most any agent can
    take (``ado.text.MAX_ARG_BYTES``) is checked here; ``orchestration.maxPromptBytes``,
    which may be lower, where the configuration is known (``ado run``, ``POST /api/tasks``)."""
    from ado.text import MAX_ARG_BYTES, prompt_size_error

    if not value.strip():
        raise ValueError("the prompt is empty (only white space)")
    if (too_long := prompt_size_error(value, MAX_ARG_BYTES)) is not None:
        raise ValueError(too_long)
    return value


def _not_after(value: str) -> str:
    from ado.routing.parking import check_not_after

    return check_not_after(value)


Prompt = Annotated[str, Field(min_length=1), AfterValidator(check_prompt)]
Turns = Annotated[int, Field(ge=1, le=MAX_TURNS)]
Priority = Annotated[int, Field(ge=1, le=MAX_PRIORITY)]
Usd = Annotated[float, Field(ge=0, le=MAX_COST_USD, allow_inf_nan=False)]
Name = Annotated[str, Field(min_length=1, max_length=100)]
Names = Annotated[list[Name], Field(max_length=MAX_NAMES)]


class TaskChoices(WireModel):
    """What a user may choose for one task, on the command line or in ``POST /api/tasks``."""

    provider: Name | None = Field(default=None, description="Only this provider.")
    providers: Names | None = Field(
        default=None, description="Only these providers, preferred in this order."
    )
    exclude: Names | None = Field(default=None, description="Never these providers.")
    access_mode: AccessMode | None = Field(default=None, description="Only this access mode.")
    require_capabilities: Names | None = Field(
        default=None, description="Capability flags (codeReview...) or languages (python)."
    )
    max_cost: Annotated[Usd, Strict()] | None = Field(
        default=None, description="USD limit for API modes."
    )
    hitl_policy: HitlPolicy | None = Field(
        default=None, description="Human-in-the-loop policy; default: hitl.defaultPolicy."
    )
    model: Name | None = Field(default=None, description="Model to ask the agent for.")
    max_turns: Annotated[Turns, Strict()] | None = Field(
        default=None, description="Stop the agent after N turns."
    )
    yolo: StrictBool = Field(default=False, description="No sandbox and no approvals at all.")
    not_after: Annotated[str, AfterValidator(_not_after)] | None = Field(
        default=None,
        description="HH:MM (optionally with an offset, 23:00+01:00; else the server's local "
        "time): a parked task never resumes after it (docs/routing.md).",
    )

    def provider_names(self) -> list[tuple[str, str]]:
        """(field, name) for every provider the options name: ``providers.1``, ``exclude.0``."""
        named = [("provider", self.provider)] if self.provider else []
        for key in ("providers", "exclude"):
            named += [(f"{key}.{i}", n) for i, n in enumerate(getattr(self, key) or ())]
        return named


class TaskOptions(TaskChoices):
    """A task's options as stored and run (``TaskSpec.options``)."""

    allow_api: StrictBool | None = Field(
        default=None, description="false: no API fallback; unset: routing.apiFallback decides."
    )
    resume: Name | None = Field(default=None, description="The task or session continued.")
    wait: StrictBool = Field(default=False, description="Wait for a reset when all are limited.")

    @classmethod
    def checked(cls, **values: Any) -> TaskOptions:
        """The options, or a ``UsageError`` naming the value out of bounds (for the CLI)."""
        from pydantic import ValidationError

        from ado.errors import UsageError

        try:
            return cls(**values)
        except ValidationError as exc:
            first = exc.errors()[0]
            name = ".".join(str(p) for p in first["loc"])
            raise UsageError(f"{name}: {first['msg']}") from None

    @classmethod
    def choices(cls, given: TaskChoices) -> TaskOptions:
        """The options of a task submitted with ``given`` (already validated)."""
        return cls.model_construct(**{k: getattr(given, k) for k in TaskChoices.model_fields})

    @staticmethod
    def stored_choices(given: TaskChoices, hitl_policy: str) -> dict[str, Any]:
        """``choices(given)`` with ``hitl_policy``, in the store's form, in one step (the
        ``POST /api/tasks`` fast path; tests/api/test_task_bounds.py checks it is the same)."""
        data = given.model_dump(mode="json", exclude_defaults=True, include=_CHOICES)
        data["hitl_policy"] = str(hitl_policy)
        return data

    @classmethod
    def from_stored(cls, raw: dict[str, Any] | None) -> TaskOptions:
        """Read ``tasks.options`` back (``capabilities``: the key before this model)."""
        data = dict(raw or {})
        if "capabilities" in data:
            data.setdefault("require_capabilities", data.pop("capabilities"))
        if isinstance(data.get("providers"), str):
            data["providers"] = [data["providers"]]
        return cls.model_validate(data)

    def stored(self) -> dict[str, Any]:
        """The store's form: snake_case keys, JSON values, what is left at its default out."""
        return self.model_dump(mode="json", exclude_defaults=True)

    def wire(self) -> dict[str, Any]:
        """The API's form (``TaskDetail.options``): camelCase keys."""
        return self.model_dump(mode="json", by_alias=True, exclude_defaults=True)

    def filters(self) -> RouteFilters:
        from ado.routing.router import RouteFilters

        return RouteFilters(
            provider=self.provider,
            providers=tuple(self.providers) if self.providers else None,
            exclude=tuple(self.exclude or ()),
            access_mode=self.access_mode,
            capabilities=tuple(self.require_capabilities or ()),
            allow_api=self.allow_api,
        )


_CHOICES = set(TaskChoices.model_fields)
