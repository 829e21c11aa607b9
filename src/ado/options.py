"""The options of one task: the one definition behind ``ado run``'s flags, the fields of
``POST /api/tasks``, what the store keeps in ``tasks.options`` and what the worker pool runs.

    TaskChoices     what a user may choose for a task (the API's TaskCreate adds prompt, cwd)
    └── TaskOptions + what only ``ado run`` offers (allow_api, resume, wait): stored as is

They are plain classes (``Options``: a dataclass without its code generated at import), so
``ado run`` reaches its agent's spawn without loading pydantic or ``dataclasses``
(``bench/run_spawn.py``). Each field's description and bounds are in its ``metadata``, in
pydantic's ``Field`` terms: pydantic applies them where input arrives (``TaskCreate`` in
``ado.api.schemas`` is a pydantic dataclass built on ``as_dataclass(TaskChoices)``;
``TaskDetail.options``), and ``TaskOptions.checked`` applies the same ones on the command
line. The bounds apply wherever the values come from: the configuration's priorities, turns
and costs use ``TURNS``, ``PRIORITY``, ``USD`` (``ado.config.base``). The API takes integers
and booleans strictly (``"5"``, ``"no"``, ``0`` are refused).

``TaskOptions.stored()`` is the store's form (snake_case keys, defaults left out);
``TaskOptions.from_stored`` reads it back (rows written before this model, too); the wire
form (``TaskDetail.options``) has camelCase keys (``ado.api.wire``). ``filters()`` gives the
router's view.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from enum import Enum
from typing import (
    TYPE_CHECKING,
    Annotated,
    Any,
    ClassVar,
    TypeVar,
    cast,
    dataclass_transform,
)

from ado.records import Record
from ado.vocab import AccessMode, HitlPolicy

if TYPE_CHECKING:
    from pydantic import GetCoreSchemaHandler
    from pydantic_core import CoreSchema

    from ado.routing.router import RouteFilters

_T = TypeVar("_T")
_O = TypeVar("_O", bound="Options")

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
    "Option",
    "Options",
    "TaskChoices",
    "TaskOptions",
    "as_dataclass",
    "check_prompt",
    "option",
    "options_class",
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


class Option:
    """One field of ``TaskChoices`` or ``TaskOptions``: its default, and its description and
    bounds as pydantic ``Field`` arguments (``metadata``); ``annotation`` is its type as
    written (a string: the module's annotations are not evaluated)."""

    __slots__ = ("annotation", "default", "metadata", "name")

    def __init__(self, default: Any, metadata: dict[str, Any]) -> None:
        if isinstance(default, list | dict | set):
            raise TypeError("an option's default must not be mutable (shared by every task)")
        self.default = default
        self.metadata = metadata
        self.name = self.annotation = ""


def option(*, default: _T, description: str, bounds: dict[str, Any] | None = None) -> _T:
    """A field of a class of options, as ``dataclasses.field`` (typed as its default):
    ``bounds`` as pydantic ``Field`` arguments."""
    return cast("_T", Option(default, {"description": description, **(bounds or {})}))


class Options(Record):
    """The base of ``TaskChoices`` and ``TaskOptions`` (each made with ``options_class``): a
    record (``ado.records``: equal by class and fields, its fields in its ``repr``,
    unhashable, ``replace``) built from keyword arguments, as a ``@dataclass(kw_only=True)``
    without a dataclass's cost at import (each of its methods compiled from source, ~1 ms a
    class before ``ado run``'s spawn). ``OPTIONS``: each field in order (the base class's
    first); pydantic gets a standard dataclass of the same fields from ``as_dataclass``."""

    OPTIONS: ClassVar[tuple[Option, ...]] = ()

    def __init__(self, **values: Any) -> None:
        for f in self.OPTIONS:
            setattr(self, f.name, values.pop(f.name, f.default))
        if values:
            raise TypeError(
                f"{self.__class__.__name__}() got an unexpected keyword argument "
                f"{next(iter(values))!r}"
            )


@dataclass_transform(kw_only_default=True, field_specifiers=(option,))
def options_class(cls: type[_O]) -> type[_O]:
    """Make ``cls`` (an ``Options``) a class of options (as ``@dataclass(kw_only=True)``):
    its ``option(...)`` fields, after those of its base class, become ``OPTIONS``."""
    own = [(name, v) for name, v in vars(cls).items() if isinstance(v, Option)]
    annotations = vars(cls).get("__annotations__", {})
    for name, spec in own:
        if name not in annotations:
            raise TypeError(f"{cls.__name__}.{name} has no annotation")
        spec.name, spec.annotation = name, annotations[name]
        setattr(cls, name, spec.default)  # as a dataclass: the default on the class
    cls.OPTIONS = (*cls.OPTIONS, *(spec for _, spec in own))
    cls.FIELDS = tuple(f.name for f in cls.OPTIONS)
    return cls


def as_dataclass(cls: type[Options]) -> type[Any]:
    """``cls`` as pydantic derives models from it: a standard dataclass of the same name,
    docstring, fields (annotations, defaults, ``metadata``) and module (where pydantic
    resolves the annotations), a subclass of ``cls`` (its methods). ``TaskCreate`` is built
    on ``as_dataclass(TaskChoices)``, ``TaskDetail.options`` is ``as_dataclass(TaskOptions)``:
    the API's schema comes from the one definition above."""
    import dataclasses

    return dataclasses.make_dataclass(
        cls.__name__,
        [
            (f.name, f.annotation, dataclasses.field(default=f.default, metadata=f.metadata))
            for f in cls.OPTIONS
        ],
        bases=(cls,),
        namespace={
            "__module__": cls.__module__,
            "__qualname__": cls.__qualname__,
            "__doc__": cls.__doc__,
        },
        kw_only=True,
    )


@options_class
class TaskChoices(Options):
    """What a user may choose for one task, on the command line or in ``POST /api/tasks``."""

    provider: str | None = option(default=None, description="Only this provider.", bounds=NAME)
    providers: list[Name] | None = option(
        default=None,
        description="Only these providers, preferred in this order.",
        bounds={"max_length": MAX_NAMES},
    )
    exclude: list[Name] | None = option(
        default=None, description="Never these providers.", bounds={"max_length": MAX_NAMES}
    )
    access_mode: AccessMode | None = option(default=None, description="Only this access mode.")
    require_capabilities: list[Name] | None = option(
        default=None,
        description="Capability flags (codeReview...) or languages (python).",
        bounds={"max_length": MAX_NAMES},
    )
    max_cost: float | None = option(
        default=None, description="USD limit for API modes.", bounds={**USD, **_STRICT}
    )
    hitl_policy: HitlPolicy | None = option(
        default=None, description="Human-in-the-loop policy; default: hitl.defaultPolicy."
    )
    model: str | None = option(default=None, description="Model to ask the agent for.", bounds=NAME)
    max_turns: int | None = option(
        default=None, description="Stop the agent after N turns.", bounds={**TURNS, **_STRICT}
    )
    yolo: bool = option(
        default=False, description="No sandbox and no approvals at all.", bounds=_STRICT
    )
    not_after: NotAfter | None = option(
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


@options_class
class TaskOptions(TaskChoices):
    """A task's options as stored and run (``TaskSpec.options``)."""

    allow_api: bool | None = option(
        default=None,
        description="false: no API fallback; unset: routing.apiFallback decides.",
        bounds=_STRICT,
    )
    resume: str | None = option(
        default=None, description="The task or session continued.", bounds=NAME
    )
    wait: bool = option(
        default=False, description="Wait for a reset when all are limited.", bounds=_STRICT
    )

    @classmethod
    def checked(cls, **values: Any) -> TaskOptions:
        """The options, or a ``UsageError`` naming the value out of bounds (``ado run``: the
        same bounds pydantic applies to the API, without loading it)."""
        from ado.errors import UsageError

        for f in cls.OPTIONS:
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
        return cls(**{f.name: getattr(given, f.name) for f in TaskChoices.OPTIONS})

    @classmethod
    def from_stored(cls, raw: dict[str, Any] | None) -> TaskOptions:
        """Read ``tasks.options`` back (``capabilities``: the key before this model; keys of a
        newer ADO are left out)."""
        data = dict(raw or {})
        if "capabilities" in data:
            data.setdefault("require_capabilities", data.pop("capabilities"))
        if isinstance(data.get("providers"), str):
            data["providers"] = [data["providers"]]
        values = {f.name: data[f.name] for f in cls.OPTIONS if data.get(f.name) is not None}
        if "access_mode" in values:
            values["access_mode"] = AccessMode(values["access_mode"])
        if "hitl_policy" in values:
            values["hitl_policy"] = HitlPolicy(values["hitl_policy"])
        return cls(**values)

    def stored(self) -> dict[str, Any]:
        """The store's form: snake_case keys, JSON values, what is left at its default out."""
        out: dict[str, Any] = {}
        for f in self.OPTIONS:
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
    """Each field's ``Checked`` functions: those of the aliases its annotation joins with
    ``|`` (``NotAfter | None``), looked up in this module. What ``typing.get_type_hints``
    finds (tests/test_options.py), without compiling every annotation."""
    found: dict[str, tuple[Callable[[Any], Any], ...]] = {}
    for f in TaskOptions.OPTIONS:
        extras = [
            extra
            for part in f.annotation.split("|")
            for extra in getattr(globals().get(part.strip()), "__metadata__", ())
            if isinstance(extra, Checked)
        ]
        if extras:
            found[f.name] = tuple(e.check for e in extras)
    return found
