"""``ado config set``: change one key in the file, keeping its comments and layout."""

from __future__ import annotations

import io
import itertools
import re
from pathlib import Path
from typing import Any

from ado.errors import UsageError

__all__ = ["parse_key", "set_value"]

_INDEX = re.compile(r"^(.*)\[(\d+)\]$")
_KEY_LINE = re.compile(r"^( *)[^\s#-][^:#]*:\s*(#.*)?$")
_ITEM_LINE = re.compile(r"^( *)- ")
_MAPPING_LINE = re.compile(r"^( *)[^\s#-][^:#]*:(\s|$)")


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
    from ruamel.yaml.comments import CommentedMap, CommentedSeq
    from ruamel.yaml.error import YAMLError

    from ado.config.loader import check_provider_ids, read_yaml, validate

    yaml = YAML(typ="rt")
    yaml.preserve_quotes = True
    yaml.width = 4096  # never re-wrap the user's long lines
    text = path.read_text(encoding="utf-8") if path.exists() else ""
    mapping, sequence, offset = guess_indent(text)
    yaml.indent(mapping=mapping, sequence=sequence, offset=offset)
    doc = yaml.load(text) if text.strip() else CommentedMap()
    try:
        value = YAML(typ="safe").load(raw_value) if raw_value.strip() else ""
    except YAMLError:
        raise UsageError(
            f"{key}: {raw_value!r} is not a valid YAML value",
            hint="quote it (ado config set KEY \"'text'\") or fix the brackets",
        ) from None
    parts = parse_key(key)
    node: Any = doc
    for i, part in enumerate(parts[:-1]):
        nxt = parts[i + 1]
        try:
            node = node[part]
        except (KeyError, IndexError):
            new: Any = CommentedSeq() if isinstance(nxt, int) else CommentedMap()
            if isinstance(part, int):
                if not isinstance(node, list) or part != len(node):
                    raise UsageError(
                        f"{key}: there is no item {part} in that list",
                        hint=f"the next new item is [{len(node)}]"
                        if isinstance(node, list)
                        else None,
                    ) from None
                node.append(new)
            else:
                node[part] = new
            node = node[part]
        except TypeError:
            raise UsageError(f"{key}: {part!r} is not a section that holds keys") from None
    last = parts[-1]
    try:
        if isinstance(last, int) and isinstance(node, list) and last == len(node):
            node.append(value)
        else:
            node[last] = value
    except (IndexError, TypeError):
        raise UsageError(f"{key}: cannot set {last!r} here") from None
    buf = io.StringIO()
    yaml.dump(doc, buf)
    new_text = buf.getvalue()
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(new_text, encoding="utf-8")
    try:
        data, lines = read_yaml(str(tmp))
        config = validate(data, lines, str(path))
        check_provider_ids(config.providers, lines, str(path))
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    tmp.replace(path)
    return value


def guess_indent(text: str) -> tuple[int, int, int]:
    """The file's (mapping indent, sequence indent, dash offset), to write it back alike.

    ``accessModes:`` followed by ``  - mode: api`` is offset 2, sequence 4; a dash under the
    key's first letter is offset 0, sequence 2.
    """
    lines = [
        line for line in text.splitlines() if line.strip() and not line.lstrip().startswith("#")
    ]
    indents = [len(m.group(1)) for line in lines if (m := _MAPPING_LINE.match(line)) and m.group(1)]
    mapping = min(indents) if indents else 2
    offset = 0
    for before, line in itertools.pairwise(lines):
        key, item = _KEY_LINE.match(before), _ITEM_LINE.match(line)
        if key and item:
            offset = max(0, len(item.group(1)) - len(key.group(1)))
            break
    return mapping, offset + 2, offset
