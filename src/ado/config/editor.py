"""``ado config set``: change one key in the file, keeping its comments and layout."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from ado.errors import ConfigError, UsageError

__all__ = ["parse_key", "set_value"]

_INDEX = re.compile(r"^(.*)\[(\d+)\]$")


def parse_key(key: str) -> list[str | int]:
    """``providers.claude-code.accessModes[0].priority`` → its parts."""
    parts: list[str | int] = []
    for raw in key.split("."):
        if not raw:
            raise UsageError(f"bad key {key!r}", hint="use dotted names like routing.strategy")
        indexes: list[int] = []
        while match := _INDEX.match(raw):
            raw, index = match.group(1), int(match.group(2))
            indexes.insert(0, index)
        if raw:
            parts.append(int(raw) if raw.isdigit() else raw)
        parts.extend(indexes)
    return parts


def set_value(path: Path, key: str, raw_value: str) -> Any:
    """Set ``key`` to ``raw_value`` (read as YAML: true, 3, [a, b]...) and validate the result.

    The file is only written when the whole configuration still validates.
    """
    from ruamel.yaml import YAML
    from ruamel.yaml.comments import CommentedMap

    from ado.config.loader import check_provider_ids, read_yaml, validate

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    doc = yaml.load(text) if text.strip() else CommentedMap()
    value = YAML(typ="safe").load(raw_value) if raw_value.strip() else ""
    parts = parse_key(key)
    node: Any = doc
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        try:
            node = node[part]
        except (KeyError, IndexError):
            if isinstance(part, int):
                raise UsageError(f"{key}: there is no item {part} in that list") from None
            node[part] = [] if isinstance(nxt, int) else CommentedMap()
            node = node[part]
        except TypeError:
            raise UsageError(f"{key}: {part!r} is not a section that holds keys") from None
    last = parts[-1]
    try:
        node[last] = value
    except (IndexError, TypeError):
        raise UsageError(f"{key}: cannot set {last!r} here") from None
    buf = io.StringIO()
    yaml.dump(doc, buf)
    new_text = buf.getvalue()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    try:
        data, lines = read_yaml(tmp)
        config = validate(data, lines, str(path))
        check_provider_ids(config.providers, lines, str(path))
    except ConfigError:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return value
