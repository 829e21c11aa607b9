"""The ``ado.providers`` entry points, kept between processes while nothing was installed.

Listing an entry-point group imports ``importlib.metadata`` and reads the metadata of every
installed distribution: ~35 ms of ``ado status``'s ~300 (docs/performance.md), for the same
handful of "name = module:Class" lines each time. So the group's lines are written down
after a scan, with what they were read from: the interpreter's version and each directory
on ``sys.path`` with its ``mtime_ns``. Installing, upgrading or removing a distribution adds
or removes a ``*.dist-info`` (or ``*.egg-info``) entry in one of those directories, which
changes its mtime: the listing no longer matches and the group is scanned again. A listing
that is missing, unreadable, of another format or names a target that does not import is
not used either (the scan then says what is wrong, as before).

Entries live in ``$XDG_CACHE_HOME/ado/entry-points/`` (``~/.cache/ado/...``), one JSON file
per ``sys.path``, mode 0600; a directory that cannot be written only costs the scan.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
from pathlib import Path
from typing import Any

__all__ = ["load", "read", "write"]

FORMAT = 1


def _where() -> Path:
    # A CRC names the file (what must match is the stamp in it): hashlib would load OpenSSL.
    from zlib import crc32

    from ado.config.cache import cache_dir  # ~/.cache/ado/config: ADO's cache is its parent

    key = crc32(json.dumps(sys.path).encode("utf-8", "surrogatepass"))
    return Path(cache_dir()).parent / "entry-points" / f"{key:08x}.json"


def _stamp(group: str) -> list[Any]:
    dirs: list[Any] = []
    for entry in sys.path:
        try:
            dirs.append([entry, os.stat(entry or ".").st_mtime_ns])
        except OSError:
            dirs.append([entry, None])
    return [FORMAT, sys.version, group, dirs]


def read(group: str) -> list[tuple[str, str]] | None:
    """The group's (name, "module:attr") pairs as listed by an earlier process, if nothing
    on ``sys.path`` changed since; else None."""
    try:
        with _where().open("rb") as f:
            data = json.load(f)
        if not isinstance(data, dict) or data.get("stamp") != _stamp(group):
            return None
        pairs = [(str(name), str(value)) for name, value in data["entries"]]
    except (OSError, ValueError, KeyError, TypeError, RecursionError):
        return None
    return pairs


def write(group: str, pairs: list[tuple[str, str]]) -> None:
    """Keep the group's pairs, as just scanned, for the next process."""
    where = _where()
    tmp = where.with_name(f".{where.name}.{os.getpid()}.tmp")
    data = {"stamp": _stamp(group), "entries": [list(p) for p in pairs]}
    try:
        where.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as f:
            json.dump(data, f)
        os.replace(tmp, where)
    except (OSError, ValueError):
        with contextlib.suppress(OSError):
            tmp.unlink()


def load(value: str) -> Any:
    """What the entry point "module:attr.attr" names, as ``EntryPoint.load`` finds it; a
    value in any other form (extras) raises ``ImportError``: the group is scanned instead."""
    import importlib
    import re

    if re.fullmatch(r"[\w.]+(?::[\w.]+)?", value) is None:
        raise ImportError(f"not a plain entry point: {value!r}")
    module, _, attrs = value.partition(":")
    target: Any = importlib.import_module(module)
    for attr in filter(None, attrs.split(".")):
        target = getattr(target, attr)
    return target
