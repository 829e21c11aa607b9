"""``ado.options``: what a dataclass gave the task options (keyword-only construction,
equality, repr, ``replace``), without being one; and pydantic's view of them
(``as_dataclass``: ``TaskCreate``, ``TaskDetail.options``) has the very same fields."""

from __future__ import annotations

import dataclasses
import typing
from typing import Annotated, Any

import pytest

from ado import options
from ado.options import Options, TaskChoices, TaskOptions, option, options_class
from ado.vocab import AccessMode, HitlPolicy


def test_built_from_keywords_with_the_defaults() -> None:
    opts = TaskOptions(provider="codex", max_turns=3)
    assert (opts.provider, opts.max_turns, opts.yolo, opts.exclude) == ("codex", 3, False, None)
    assert [f.name for f in TaskOptions.OPTIONS][:11] == [f.name for f in TaskChoices.OPTIONS]
    assert [f.name for f in TaskOptions.OPTIONS][11:] == ["allow_api", "resume", "wait"]


def test_an_unknown_or_positional_argument_is_refused() -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'max_turn'"):
        TaskOptions(max_turn=3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        TaskOptions("codex")  # type: ignore[call-arg]
    with pytest.raises(TypeError, match="'wait'"):
        TaskChoices(wait=True)  # type: ignore[call-arg]  # TaskOptions's, not TaskChoices's


def test_equal_by_class_and_every_field_and_shown_by_them() -> None:
    assert TaskOptions(model="m", wait=True) == TaskOptions(model="m", wait=True)
    assert TaskOptions(model="m") != TaskOptions(model="m", wait=True)
    assert TaskOptions() != TaskChoices()  # another class with the same values
    assert TaskOptions() != {}
    assert repr(TaskChoices(provider="codex")) == (
        "TaskChoices(provider='codex', providers=None, exclude=None, access_mode=None, "
        "require_capabilities=None, max_cost=None, hitl_policy=None, model=None, "
        "max_turns=None, yolo=False, not_after=None)"
    )


def test_mutable_so_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(TaskOptions())


def test_replace_changes_only_what_it_is_given() -> None:
    first = TaskOptions(provider="codex", exclude=["claude-code"])
    second = first.replace(hitl_policy=HitlPolicy.MANUAL)
    assert second.hitl_policy is HitlPolicy.MANUAL and first.hitl_policy is None
    assert second.replace(hitl_policy=None) == first
    assert type(second) is TaskOptions
    with pytest.raises(TypeError, match="'hitl'"):
        first.replace(hitl="manual")


def test_a_mutable_default_or_a_field_without_a_type_is_refused() -> None:
    """Adversarial: a list as a default would be shared by every task (a dataclass refuses it
    too); a field without an annotation would be no field pydantic knows."""
    with pytest.raises(TypeError, match="mutable"):
        option(default=[], description="x")
    with pytest.raises(TypeError, match="no annotation"):

        @options_class
        class Bad(Options):
            typed: int | None = option(default=None, description="typed")
            untyped = option(default=None, description="untyped")


def test_a_subclass_adds_its_fields_after_its_bases() -> None:
    @options_class
    class More(TaskChoices):
        extra: int = option(default=1, description="one more", bounds={"ge": 0})

    assert [f.name for f in More.OPTIONS] == [*(f.name for f in TaskChoices.OPTIONS), "extra"]
    assert More(extra=2, model="m").extra == 2 and More().extra == 1
    assert More.OPTIONS[-1].metadata == {"description": "one more", "ge": 0}
    assert TaskChoices.OPTIONS == TaskOptions.OPTIONS[:11]  # the bases are left as they were


@pytest.mark.parametrize("cls", [TaskChoices, TaskOptions])
def test_pydantic_sees_the_same_fields(cls: type[Options]) -> None:
    """``as_dataclass``: what ``TaskCreate`` and ``TaskDetail.options`` are derived from."""
    derived = options.as_dataclass(cls)
    assert (derived.__name__, derived.__doc__, derived.__module__) == (
        cls.__name__,
        cls.__doc__,
        "ado.options",
    )
    assert [
        (f.name, f.type, f.default, dict(f.metadata), f.kw_only)
        for f in dataclasses.fields(derived)
    ] == [(f.name, f.annotation, f.default, f.metadata, True) for f in cls.OPTIONS]
    assert issubclass(derived, cls)  # its methods: provider_names, stored...


def test_the_api_model_is_built_on_the_choices() -> None:
    from ado.api.schemas import TASK_CREATE, TaskCreate

    names = [f.name for f in dataclasses.fields(TaskCreate)]
    assert names == [*(f.name for f in TaskChoices.OPTIONS), "prompt", "cwd"]
    given = TASK_CREATE.validate_python(
        {"prompt": "p", "accessMode": "api", "providers": ["codex"], "notAfter": "23:00"}
    )
    assert isinstance(given, TaskChoices)
    assert given.provider_names() == [("providers.0", "codex")]
    chosen = TaskOptions.choices(given)
    assert chosen == TaskOptions(access_mode=AccessMode.API, providers=["codex"], not_after="23:00")


def _checks_from_type_hints() -> dict[str, tuple[Any, ...]]:
    """What the annotations say, evaluated (``typing.get_type_hints``)."""
    derived = options.as_dataclass(TaskOptions)
    found = {}
    for name, hint in typing.get_type_hints(derived, include_extras=True).items():
        extras = tuple(
            extra.check
            for arg in (hint, *typing.get_args(hint))
            if typing.get_origin(arg) is Annotated
            for extra in arg.__metadata__
            if isinstance(extra, options.Checked)
        )
        if extras:
            found[name] = extras
    return found


def test_the_checks_found_without_evaluating_annotations_are_all_of_them() -> None:
    assert options._checks() == _checks_from_type_hints()
    assert set(options._checks()) == {"not_after"}


@pytest.mark.parametrize("not_after", ["25:00", "soon", "23:00+99:00"])
def test_a_checked_value_is_refused_on_the_command_line_as_by_the_api(not_after: str) -> None:
    from pydantic import ValidationError

    from ado.api.schemas import TASK_CREATE
    from ado.errors import UsageError

    with pytest.raises(ValidationError):
        TASK_CREATE.validate_python({"prompt": "p", "notAfter": not_after})
    with pytest.raises(UsageError, match="not_after"):
        TaskOptions.checked(not_after=not_after)
