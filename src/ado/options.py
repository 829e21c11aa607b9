"""The options of one task: the one definition behind ``ado run``'s flags, the fields of
``POST /api/tasks``, what the store keeps in ``tasks.options`` and what the worker pool runs.

    TaskChoices     what a user may choose for a task (the API's TaskCreate adds prompt, cwd)
    └── TaskOptions + what only ``ado run`` offers (allow_api, resume, wait): stored as is

They are plain dataclasses, so ``ado run`` reaches its agent's spawn without loading pydantic
(``bench/run_spawn.py``). Each field's description and bounds are in its ``metadata``, in
pydantic's ``Field`` terms: pydantic applies them where input arrives (``TaskCreate`` in
``ado.api.schemas`` is a pydantic dataclass built on ``TaskChoices``; ``TaskDetail.options``),
and ``TaskOptions.checked`` applies the same ones on the command line. The bounds apply
wherever the values come from: the configuration's priorities, turns and costs use
``TURNS``, ``PRIORITY``, ``USD`` (``ado.config.base``). The API takes integers and booleans
strictly (``"5"``, ``"no"``, ``0`` are refused).

``TaskOptions.stored()`` is the store's form (snake_case keys, defaults left out);
``TaskOptions.from_stored`` reads it back (rows written before this model, too); the wire
form (``TaskDetail.options``) has camelCase keys (``ado.api.wire``). ``filters()`` gives the
router's view.
"""

from __future__ import annotations

import dataclasses
import functools
import math
import typing
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Annotated, Any, cast

from ado.vocab import AccessMode, HitlPolicy

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

    from ado.routing.router import RouteFilters

__all__ = [
    "MAX_COST_USD",
    "MAX_NAMES",
    "MAX_PRIORITY",
    "MAX_RETRIES",
    "MAX_TURNS",
    "NAME",
    "PRIORITY",
    "TURNS",
    "USD",
    "TaskChoices",
    "TaskOptions",
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

#: The bounds of each kind of value, as pydantic ``Field`` arguments.
TURNS: dict[str, Any] = {"ge": 1, "le": MAX_TURNS}
PRIORITY: dict[str, Any] = {"ge": 1, "le": MAX_PRIORITY}
USD: dict[str, Any] = {"ge": 0, "le": MAX_COST_USD, "allow_inf_nan": False}
NAME: dict[str, Any] = {"min_length": 1, "max_length": 100}
_STRICT: dict[str, Any] = {"strict": True}


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


class ItemLength:
    """The length bounds of each string in a list (``Annotated[str, ItemLength()]``): pydantic
    applies it through the hook below, ``TaskOptions.checked`` directly."""

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        schema = handler(source)
        cast("dict[str, Any]", schema).update(NAME)
        return schema


class Checked:
    """A value's own check (``Annotated[str, Checked(f)]``, ``f`` raising ``ValueError``):
    pydantic applies it through the hook below, ``TaskOptions.checked`` directly."""

    def __init__(self, check: Callable[[Any], Any]) -> None:
        self.check = check

    def __get_pydantic_core_schema__(
        self, source: type[Any], handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        from pydantic_core import core_schema

        return core_schema.no_info_after_validator_function(self.check, handler(source))


def _not_after(value: str) -> str:
    from ado.routing.parking import check_not_after

    return check_not_after(value)


#: A provider id, model, session or capability name.
Name = Annotated[str, ItemLength()]
#: A time of day a parked task must not resume after (``ado.routing.parking``).
NotAfter = Annotated[str, Checked(_not_after)]


def _meta(description: str, **bounds: Any) -> dict[str, Any]:
    return {"description": description, **bounds}


@dataclass(kw_only=True)
class TaskChoices:
    """What a user may choose for one task, on the command line or in ``POST /api/tasks``."""

    provider: str | None = field(default=None, metadata=_meta("Only this provider.", **NAME))
    providers: list[Name] | None = field(
        default=None,
        metadata=_meta("Only these providers, preferred in this order.", max_length=MAX_NAMES),
    )
    exclude: list[Name] | None = field(
        default=None, metadata=_meta("Never these providers.", max_length=MAX_NAMES)
    )
    access_mode: AccessMode | None = field(default=None, metadata=_meta("Only this access mode."))
    require_capabilities: list[Name] | None = field(
        default=None,
        metadata=_meta(
            "Capability flags (codeReview...) or languages (python).", max_length=MAX_NAMES
        ),
    )
    max_cost: float | None = field(
        default=None, metadata=_meta("USD limit for API modes.", **USD, **_STRICT)
    )
    hitl_policy: HitlPolicy | None = field(
        default=None, metadata=_meta("Human-in-the-loop policy; default: hitl.defaultPolicy.")
    )
    model: str | None = field(default=None, metadata=_meta("Model to ask the agent for.", **NAME))
    max_turns: int | None = field(
        default=None, metadata=_meta("Stop the agent after N turns.", **TURNS, **_STRICT)
    )
    yolo: bool = field(
        default=False, metadata=_meta("No sandbox and no approvals at all.", **_STRICT)
    )
    not_after: NotAfter | None = field(
        default=None,
        metadata=_meta(
            "HH:MM (optionally with an offset, 23:00+01:00; else the server's local time): a "
            "parked task never resumes after it (docs/routing.md)."
        ),
    )

    def provider_names(self) -> list[tuple[str, str]]:
        """(field, name) for every provider the options name: ``providers.1``, ``exclude.0``."""
        named = [("provider", self.provider)] if self.provider else []
        for key in ("providers", "exclude"):
            named += [(f"{key}.{i}", n) for i, n in enumerate(getattr(self, key) or ())]
        return named


@dataclass(kw_only=True)
class TaskOptions(TaskChoices):
    """A task's options as stored and run (``TaskSpec.options``)."""

    allow_api: bool | None = field(
        default=None,
        metadata=_meta("false: no API fallback; unset: routing.apiFallback decides.", **_STRICT),
    )
    resume: str | None = field(
        default=None, metadata=_meta("The task or session continued.", **NAME)
    )
    wait: bool = field(
        default=False, metadata=_meta("Wait for a reset when all are limited.", **_STRICT)
    )

    @classmethod
    def checked(cls, **values: Any) -> TaskOptions:
        """The options, or a ``UsageError`` naming the value out of bounds (``ado run``: the
        same bounds pydantic applies to the API, without loading it)."""
        from ado.errors import UsageError

        for f in dataclasses.fields(cls):
            value = values.get(f.name)
            if value is None:
                continue
            if (problem := _out_of_bounds(value, f.metadata)) is not None:
                raise UsageError(f"{f.name}: {problem}")
            if isinstance(value, list):
                for i, item in enumerate(value):
                    if (problem := _out_of_bounds(item, NAME)) is not None:
                        raise UsageError(f"{f.name}.{i}: {problem}")
            for check in _checks().get(f.name, ()):
                try:
                    values[f.name] = check(value)
                except ValueError as exc:
                    raise UsageError(f"{f.name}: {exc}") from None
        return cls(**values)

    @classmethod
    def choices(cls, given: TaskChoices) -> TaskOptions:
        """The options of a task submitted with ``given`` (already validated)."""
        return cls(**{f.name: getattr(given, f.name) for f in _CHOICES})

    @classmethod
    def from_stored(cls, raw: dict[str, Any] | None) -> TaskOptions:
        """Read ``tasks.options`` back (``capabilities``: the key before this model; keys of a
        newer ADO are left out)."""
        data = dict(raw or {})
        if "capabilities" in data:
            data.setdefault("require_capabilities", data.pop("capabilities"))
        if isinstance(data.get("providers"), str):
            data["providers"] = [data["providers"]]
        values = {name: data[name] for name in _NAMES if data.get(name) is not None}
        if "access_mode" in values:
            values["access_mode"] = AccessMode(values["access_mode"])
        if "hitl_policy" in values:
            values["hitl_policy"] = HitlPolicy(values["hitl_policy"])
        return cls(**values)

    def stored(self) -> dict[str, Any]:
        """The store's form: snake_case keys, JSON values, what is left at its default out."""
        out: dict[str, Any] = {}
        for f in _FIELDS:
            value = getattr(self, f.name)
            if value != f.default:
                out[f.name] = value.value if isinstance(value, Enum) else value
        return out

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


def _out_of_bounds(value: Any, bounds: Any) -> str | None:
    """Why ``value`` is outside ``bounds`` (``Field`` arguments), in pydantic's words."""
    if (
        isinstance(value, float)
        and not math.isfinite(value)
        and bounds.get("allow_inf_nan") is False
    ):
        return "Input should be a finite number"
    if isinstance(value, str | list):
        if (least := bounds.get("min_length")) is not None and len(value) < least:
            return f"should have at least {least} item{'s' * (least != 1)}"
        if (most := bounds.get("max_length")) is not None and len(value) > most:
            return f"should have at most {most} item{'s' * (most != 1)}"
    elif isinstance(value, int | float) and not isinstance(value, bool):
        if (least := bounds.get("ge")) is not None and not value >= least:
            return f"Input should be greater than or equal to {least}"
        if (most := bounds.get("le")) is not None and not value <= most:
            return f"Input should be less than or equal to {most}"
    return None


@functools.cache
def _checks() -> dict[str, tuple[Callable[[Any], Any], ...]]:
    """Each field's ``Checked`` functions, from its annotation."""
    hints = typing.get_type_hints(TaskOptions, include_extras=True)
    found: dict[str, tuple[Callable[[Any], Any], ...]] = {}
    for name, hint in hints.items():
        extras = [
            extra
            for arg in (hint, *typing.get_args(hint))
            if typing.get_origin(arg) is Annotated
            for extra in arg.__metadata__
            if isinstance(extra, Checked)
        ]
        if extras:
            found[name] = tuple(e.check for e in extras)
    return found


_FIELDS = dataclasses.fields(TaskOptions)
_CHOICES = dataclasses.fields(TaskChoices)
_NAMES = frozenset(f.name for f in _FIELDS)
