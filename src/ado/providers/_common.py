"""Small helpers the built-in adapters share: reading loose JSON, finding credential files."""

from __future__ import annotations

import os
import re
from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from pathlib import Path

__all__ = [
    "any_env",
    "as_dict",
    "as_int",
    "as_str",
    "clip",
    "home",
    "is_root",
    "pick",
    "status_in_text",
]

#: Tool output kept in an event; the agent's own logs keep the rest.
MAX_TOOL_TEXT = 4000

_STATUS = r"(?:status(?: code)?:?\s*|\()([45]\d\d)\b"


def as_int(value: Any) -> int:
    """An int from a JSON number (or numeric string); 0 for anything else."""
    if isinstance(value, bool):
        return 0
    if isinstance(value, int):
        return value
    if isinstance(value, float):
        return int(value)
    if isinstance(value, str):
        try:
            return int(float(value))
        except ValueError:
            return 0
    return 0


def as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def as_str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def pick(obj: Mapping[str, Any], keys: Iterable[str]) -> dict[str, Any]:
    """The entries of ``obj`` named in ``keys`` that are present and not None."""
    return {k: obj[k] for k in keys if obj.get(k) is not None}


def clip(text: Any, limit: int = MAX_TOOL_TEXT) -> str | None:
    """Tool output as text, cut to ``limit`` characters."""
    if text is None:
        return None
    if isinstance(text, list):  # content blocks: [{"type": "text", "text": ...}]
        text = "\n".join(
            str(block.get("text", "")) if isinstance(block, dict) else str(block) for block in text
        )
    out = str(text)
    return out if len(out) <= limit else out[:limit] + "…"


def status_in_text(text: str | None) -> int | None:
    """An HTTP status named in an error message ("last status: 429", "(429)")."""
    if not text:
        return None
    match = re.search(_STATUS, text, re.IGNORECASE)
    return int(match.group(1)) if match else None


def home(env: Mapping[str, str]) -> Path:
    from pathlib import Path  # not before the agent spawns (ado.config.loader)

    return Path(env.get("HOME") or Path.home())


def any_env(env: Mapping[str, str], names: Iterable[str]) -> bool:
    return any(env.get(name) for name in names)


def is_root() -> bool:
    return hasattr(os, "geteuid") and os.geteuid() == 0
