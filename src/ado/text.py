"""Text ADO takes in: its size, and whether it can be encoded.

Prompts: agents receive the prompt as one command-line argument (``-p PROMPT``), and Linux
refuses an argument longer than ``MAX_ARG_STRLEN`` (32 pages: 131,072 bytes with its NUL)
with "Argument list too long". So a prompt is at most ``MAX_ARG_BYTES`` of UTF-8
(``orchestration.maxPromptBytes`` may set less), refused when submitted
(``prompt_size_error``: ``ado run`` exits 2, the API answers 422) rather than at spawn.

Lone UTF-16 surrogates (``"\\ud83d"``, what JavaScript emits when
it cuts a string inside an emoji) decode from JSON into Python strings that UTF-8, and so
every JSON answer, refuses to encode. Input that carries one is refused where it comes in
(``lone_surrogate_at``); what is already stored is read back with each replaced by U+FFFD
(``scrub``), so one bad value never makes a page fail for good."""

from __future__ import annotations

import re
from typing import Any

__all__ = ["MAX_ARG_BYTES", "lone_surrogate_at", "prompt_size_error", "scrub"]

#: The longest command-line argument Linux accepts (MAX_ARG_STRLEN - 1), in bytes.
MAX_ARG_BYTES = 131_071

#: Any surrogate left in a Python str is a lone one: JSON decoding joins valid pairs.
_SURROGATE = re.compile("[\ud800-\udfff]")


def scrub(value: Any) -> Any:
    """``value`` (str, or dicts and lists of them, keys included) with every lone surrogate
    replaced by U+FFFD; the same object when there is none."""
    if isinstance(value, str):
        return _SURROGATE.sub("\ufffd", value) if _SURROGATE.search(value) else value
    if isinstance(value, dict):
        return {scrub(k): scrub(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [scrub(v) for v in value]
    return value


def lone_surrogate_at(value: Any, where: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a lone surrogate, None if none."""
    if isinstance(value, str):
        return where if _SURROGATE.search(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and _SURROGATE.search(key):
                return scrub(path)  # type: ignore[no-any-return]
            found = lone_surrogate_at(item, path)
            if found is not None:
                return found
    elif isinstance(value, list | tuple):
        for i, item in enumerate(value):
            found = lone_surrogate_at(item, f"{where}.{i}" if where else str(i))
            if found is not None:
                return found
    return None


def prompt_size_error(prompt: str, limit: int) -> str | None:
    """Why ``prompt`` is too long (over ``limit`` bytes of UTF-8), None when it is not."""
    if len(prompt) * 4 <= limit:  # UTF-8 takes at most 4 bytes a character
        return None
    size = len(prompt) if len(prompt) > limit else len(prompt.encode("utf-8", "surrogatepass"))
    if size <= limit:
        return None
    return (
        f"the prompt is {size:,} bytes; at most {limit:,} are accepted "
        "(orchestration.maxPromptBytes; agents receive it as one command-line argument)"
    )
