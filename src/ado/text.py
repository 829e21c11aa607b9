"""Text ADO takes in: its size, and whether it can be encoded.

Prompts: agents receive the prompt as one command-line argument (``-p PROMPT``), and Linux
refuses an argument longer than ``MAX_ARG_STRLEN`` (32 pages: 131,072 bytes with its NUL)
with "Argument list too long". So a prompt is at most ``MAX_ARG_BYTES`` of UTF-8
(``orchestration.maxPromptBytes`` may set less), refused when submitted
(``prompt_size_error``: ``ado run`` exits 2, the API answers 422) rather than at spawn.

Lone UTF-16 surrogates (``"\\ud83d"``, what JavaScript emits when
it cuts a string inside an emoji) decode from JSON into Python strings that UTF-8, and so
every JSON answer, refuses to encode; PostgreSQL refuses NUL in text. Input that carries a
lone surrogate is refused where it comes in (``lone_surrogate_at``); agent text and prompts
are cleaned where they enter (``clean_text``, ``clean_value``: each lone surrogate and NUL
becomes U+FFFD, ``ado.providers.sanitize``); what is already stored is read back cleaned
the same way, so one bad value never makes a page fail for good."""

from __future__ import annotations

import re
from typing import Any

__all__ = [
    "MAX_ARG_BYTES",
    "REPLACEMENT",
    "clean_text",
    "clean_value",
    "has_surrogate",
    "lone_surrogate_at",
    "needs_cleaning",
    "prompt_size_error",
]

#: The longest command-line argument Linux accepts (MAX_ARG_STRLEN - 1), in bytes.
MAX_ARG_BYTES = 131_071

REPLACEMENT = "\ufffd"
#: A JSON escape that decodes to a surrogate or NUL (a false positive only costs a walk);
#: compiled at its first use, by ``re``'s cache.
_RISKY_ESCAPE = r"\\u(?:[dD][89a-fA-F]|0000)"


def needs_cleaning(json_line: object) -> bool:
    """Whether decoding ``json_line`` may yield a lone surrogate or a NUL."""
    return (
        isinstance(json_line, str)
        and "\\u" in json_line
        and re.search(_RISKY_ESCAPE, json_line) is not None
    )


def has_surrogate(text: str) -> bool:
    """Whether ``text`` holds a surrogate code point: any one left in a Python str is a lone
    one (JSON decoding joins valid pairs), and it is exactly what UTF-8 cannot encode."""
    if text.isascii():
        return False
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return True
    return False


def clean_text(text: str, *, nul: bool = True) -> str:
    """``text`` with each lone surrogate, and each NUL unless ``nul`` is False, replaced by
    U+FFFD (the same object when there is none)."""
    if not has_surrogate(text):
        return text.replace("\x00", REPLACEMENT) if nul and "\x00" in text else text
    # UTF-16 with surrogatepass joins a pair given as two code points; "replace" turns a
    # lone half into one U+FFFD.
    text = text.encode("utf-16-le", "surrogatepass").decode("utf-16-le", "replace")
    return text.replace("\x00", REPLACEMENT) if nul else text


def clean_value(value: Any, *, nul: bool = True) -> Any:
    """A JSON-like value (str, or dicts and lists of them) with every string in it, keys
    included, cleaned by ``clean_text``."""
    if isinstance(value, str):
        return clean_text(value, nul=nul)
    if isinstance(value, dict):
        return {
            clean_text(k, nul=nul) if isinstance(k, str) else k: clean_value(v, nul=nul)
            for k, v in value.items()
        }
    if isinstance(value, list | tuple):
        return [clean_value(v, nul=nul) for v in value]
    return value


def lone_surrogate_at(value: Any, where: str = "") -> str | None:
    """The dotted path of the first string (or key) holding a lone surrogate, None if none."""
    if isinstance(value, str):
        return where if has_surrogate(value) else None
    if isinstance(value, dict):
        for key, item in value.items():
            path = f"{where}.{key}" if where else str(key)
            if isinstance(key, str) and has_surrogate(key):
                return clean_text(path, nul=False)
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
