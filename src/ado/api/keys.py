"""The JSON keys of the API's models, for code that must not load ``ado.api.wire``.

``ado run`` writes its events and its ``--json`` lines before and just after the agent's
spawn, where neither pydantic-core nor the store's views may load; it takes the keys of
``EventData``, ``RunEvent``... from the generated table (``ado.api._fields``) through these
two functions, the way ``ado.api.wire.Shape`` does for the store's views.
"""

from __future__ import annotations

from typing import Any

from ado.api._fields import FIELDS

__all__ = ["keyed", "pairs"]


def pairs(model: str) -> tuple[tuple[str, str], ...]:
    """(JSON key, attribute) of each field of ``model``, in order."""
    return FIELDS[model]


def keyed(model: str, **values: Any) -> dict[str, Any]:
    """``model``'s JSON dict of ``values`` (given by attribute name); every field must be
    given, and nothing else (a ``TypeError`` names the first mismatch)."""
    fields = FIELDS[model]
    if len(values) != len(fields) or any(name not in values for _, name in fields):
        names = {name for _, name in fields}
        odd = sorted(set(values) ^ names)
        raise TypeError(f"{model}: {'missing' if odd[0] in names else 'no'} field {odd[0]!r}")
    return {key: values[name] for key, name in fields}
