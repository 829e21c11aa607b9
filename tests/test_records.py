"""``ado.records.Record``: what a dataclass gave the records ``ado run`` builds before its
spawn (equality, repr, ``replace``), and what must not look equal or change by accident."""

from __future__ import annotations

import pytest

from ado.providers.events import AgentEvent, EventKind, Usage
from ado.records import Record


class Pair(Record):
    __slots__ = ("a", "b")

    def __init__(self, a: int, b: list[int] | None = None) -> None:
        self.a = a
        self.b = [] if b is None else b


class OtherPair(Record):
    __slots__ = ("a", "b")

    def __init__(self, a: int, b: list[int] | None = None) -> None:
        self.a = a
        self.b = [] if b is None else b


def test_equal_by_every_field_and_shown_by_them() -> None:
    assert Pair(1, [2]) == Pair(1, [2])
    assert Pair(1, [2]) != Pair(1, [3])
    assert repr(Pair(1, [2])) == "Pair(a=1, b=[2])"
    assert Usage(1, 2) == Usage(input_tokens=1, output_tokens=2)


def test_another_class_with_the_same_fields_is_not_equal() -> None:
    assert Pair(1) != OtherPair(1)
    assert Pair(1) != (1, [])
    assert AgentEvent(EventKind.TEXT, text="x") != AgentEvent(EventKind.LOG, text="x")


def test_mutable_so_unhashable() -> None:
    with pytest.raises(TypeError):
        hash(Pair(1))


def test_replace_changes_only_what_it_is_given() -> None:
    first = Pair(1, [2])
    second = first.replace(a=5)
    assert (second.a, second.b) == (5, [2]) and (first.a, first.b) == (1, [2])
    assert type(second) is Pair


def test_replace_refuses_a_field_it_does_not_have() -> None:
    with pytest.raises(TypeError, match="no field 'c'"):
        Pair(1).replace(c=3)


def test_defaults_are_not_shared_between_instances() -> None:
    one, two = AgentEvent(EventKind.TEXT), AgentEvent(EventKind.TEXT)
    one.data["k"] = 1
    assert two.data == {}


class Triple(Pair):
    __slots__ = ("c",)

    def __init__(self, a: int, c: str) -> None:
        super().__init__(a)
        self.c = c


def test_a_subclass_compares_and_shows_its_bases_fields_too() -> None:
    assert Triple.FIELDS == ("a", "b", "c")
    assert Triple(1, "x") != Triple(2, "x")  # a base's field counts
    assert Triple(1, "x") != Pair(1)  # and a base's instance is another class
    assert repr(Triple(1, "x")) == "Triple(a=1, b=[], c='x')"
    assert Triple(1, "x").replace(a=2, c="y") == Triple(2, "y")
    with pytest.raises(TypeError, match="no field 'd'"):
        Triple(1, "x").replace(d=0)
