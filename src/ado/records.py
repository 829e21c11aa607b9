"""``Record``: the base of the mutable records that ``ado run`` builds before its agent spawns.

A record is a slotted class whose ``__init__`` is written out; this base gives it what a
dataclass would: equality and a ``repr`` over its slots, and ``replace``.

    class TaskBudget(Record):
        __slots__ = ("events", "bytes")

        def __init__(self, events: int = 0, bytes: int = 0) -> None:
            self.events = events
            self.bytes = bytes

Why not ``@dataclass``: Python 3.11 builds a dataclass by compiling each generated method from
source when its module loads, ~3 M instructions per class (a frozen one ~5 M), and
``ado run`` loaded a dozen of them before its agent's spawn (docs/performance.md, exec →
spawn). A record costs nothing to define. A subclass's fields are its bases' and then its
own slots (``FIELDS``); ``ado.options.Options`` (the task's options, from which pydantic
derives the API's models) names its own. Records loaded after the spawn may stay dataclasses.
"""

from __future__ import annotations

from typing import Any, ClassVar, Self

__all__ = ["Record"]


class Record:
    __slots__: ClassVar[tuple[str, ...]] = ()
    #: What equality, ``repr`` and ``replace`` go over: the slots of the class's bases, then
    #: its own.
    FIELDS: ClassVar[tuple[str, ...]] = ()

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        own = cls.__dict__.get("__slots__", ())
        own = (own,) if isinstance(own, str) else tuple(own)
        cls.FIELDS = (*cls.FIELDS, *(n for n in own if n not in cls.FIELDS))

    def __eq__(self, other: object) -> bool:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return all(getattr(self, n) == getattr(other, n) for n in self.FIELDS)

    #: Mutable, so unhashable (as a dataclass with ``eq``).
    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        fields = ", ".join(f"{n}={getattr(self, n)!r}" for n in self.FIELDS)
        return f"{self.__class__.__qualname__}({fields})"

    def replace(self, **changes: Any) -> Self:
        """A copy with ``changes`` (as ``dataclasses.replace``; ``__init__`` is not run)."""
        unknown = changes.keys() - set(self.FIELDS)
        if unknown:
            raise TypeError(f"{self.__class__.__name__} has no field {sorted(unknown)[0]!r}")
        new = object.__new__(self.__class__)
        for name in self.FIELDS:
            setattr(new, name, changes[name] if name in changes else getattr(self, name))
        return new
