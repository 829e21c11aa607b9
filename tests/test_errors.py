"""The one error tree: drawn complete in ``ado.errors``'s docstring, the API's errors in it,
one error and one message for "no such task" and "unknown provider"."""

from __future__ import annotations

import inspect
import re

import pytest

import ado.errors as errors
from ado.errors import AdoError, ApiError, TaskNotFound, UnknownProviderError


def _tree() -> dict[str, str]:
    """Each class drawn in the docstring → the class drawn as its parent."""
    parents: dict[str, str] = {}
    stack: list[tuple[int, str]] = []
    for line in (errors.__doc__ or "").splitlines():
        match = re.match(r"^    ([ │├└─]*)(\w+)\s{2,}exit", line)
        if not match:
            continue
        depth, name = len(match.group(1)) // 4, match.group(2)
        stack = stack[:depth]
        if stack:
            parents[name] = stack[-1][1]
        stack.append((depth, name))
    return parents


def test_the_docstring_draws_every_error_with_its_real_parent() -> None:
    drawn = _tree()
    classes = {
        name: cls
        for name, cls in inspect.getmembers(errors, inspect.isclass)
        if issubclass(cls, AdoError) and cls.__module__ == errors.__name__
    }
    assert set(drawn) | {"AdoError"} == set(classes), "draw every class in ado.errors"
    for name, parent in drawn.items():
        assert classes[name].__bases__ == (classes[parent],), name
    assert set(errors.__all__) == set(classes)


def test_no_error_class_outside_the_tree() -> None:
    """Every exception class ADO defines on purpose derives from AdoError."""
    import inspect

    import ado.api.errors

    assert issubclass(ApiError, AdoError)
    defined_there = [
        name
        for name, cls in inspect.getmembers(ado.api.errors, inspect.isclass)
        if issubclass(cls, BaseException) and cls.__module__ == "ado.api.errors"
    ]
    assert defined_there == [], "ado.api.errors translates errors; ado.errors defines them"


def test_api_error_carries_its_status_code_and_details() -> None:
    error = ApiError.invalid("limit", "too big")
    assert (error.http_status, error.code) == (422, "validation_error")
    assert error.details == [("limit", "too big")]
    assert ApiError(409, "busy").code == "conflict" and ApiError(418, "tea").code == "error"
    # the class default is not changed by an instance
    assert AdoError.http_status == 500 and ApiError(503, "x").http_status == 503


def test_one_message_for_a_missing_task() -> None:
    error = TaskNotFound(42)
    assert str(error) == "There is no task 42.\n  `ado tasks list` shows the ids."
    assert (error.exit_code, error.http_status, error.code) == (2, 404, "not_found")


@pytest.mark.parametrize(
    ("name", "known", "suggestion"),
    [
        ("codx", ["claude-code", "codex"], "codex"),
        ("claude", ["claude-code", "codex"], "claude-code"),
        ("zzz", ["claude-code", "codex"], None),
        ("codex", [], None),
    ],
)
def test_one_message_for_an_unknown_provider(
    name: str, known: list[str], suggestion: str | None
) -> None:
    error = UnknownProviderError(name, known)
    assert error.message == f"Unknown provider {name!r}."
    assert error.suggestion == suggestion
    assert (f"Did you mean {suggestion!r}?" in str(error)) == (suggestion is not None)
    assert ("none are configured" in str(error)) == (not known)
    assert (error.http_status, error.code, error.details) == (404, "not_found", [])
    named = UnknownProviderError(name, known, field="providers.0")
    assert (named.http_status, named.code) == (422, "validation_error")
    assert named.details == [("providers.0", str(error).replace("\n  ", " "))]
    assert UnknownProviderError.http_status == 404  # the instance did not change the class
