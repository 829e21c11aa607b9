"""The validated configuration, cached between runs of ``ado run``.

Reading ``ado.config.yaml`` (ruamel.yaml) and building the pydantic models that validate it
took most of ``ado run``'s time before its agent spawned (docs/performance.md). A run now
reads the configuration it validated last time instead, as plain data (``ado.config.snapshot``,
no pydantic, no YAML parser), when nothing it was made from changed:

- the file: its path, size, ``mtime_ns`` and the SHA-256 of its bytes (the bytes hashed are
  the bytes validated);
- the environment variables it names (``${VAR}``): their values, hashed;
- ADO's configuration code (the size and ``mtime_ns`` of each module that defines or reads
  the models), pydantic's version module and the Python version;
- for the effective configuration (``effective``): the settings and provider switches saved
  through the API, as stored.

Anything else is a miss: the file is read and validated as always (``load_config``), and the
result written for next time. An entry that cannot be read, is not JSON, is of another format
or key, or names classes that are not ADO's configuration's, is a miss too; a cache directory
that cannot be written leaves the run as it was, only slower. A configuration holding a secret
(a ``SecretStr`` set, a secret-looking ``env`` entry) or naming a secret-looking variable that
is set is never written: secrets are not copied to disk.

Entries live in ``$XDG_CACHE_HOME/ado/config/`` (``~/.cache/ado/config/``), one JSON file per
configuration file, mode 0600.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import sys
from typing import TYPE_CHECKING, Any

from ado.config.loader import _VAR, LoadedConfig, base_dir, find_config_file, load_config
from ado.config.overrides import SETTINGS_KEY, SWITCHES_KEY, KeyValues
from ado.config.secrets import is_secret_name
from ado.config.snapshot import NotFreezable, freeze, thaw
from ado.records import Record

if TYPE_CHECKING:
    from ado.config.loader import StrPath
    from ado.config.schema import AdoConfig

# CPython's own SHA-256, the one ``hashlib`` falls back to: importing ``hashlib`` loads
# OpenSSL first, ~12 M instructions (~6 ms) of ``ado run``'s start before its agent spawns
# (docs/performance.md). The digest is the same; ``hashlib`` where neither module exists.
if TYPE_CHECKING:
    from hashlib import sha256
else:
    try:
        from _sha2 import sha256  # Python 3.12+
    except ImportError:
        try:
            from _sha256 import sha256  # Python 3.11
        except ImportError:
            from hashlib import sha256

__all__ = ["CacheEntry", "cache_dir", "effective", "load"]

FORMAT = 1
#: What reading back an entry that is not what this code wrote raises: a miss.
_UNREADABLE = (KeyError, TypeError, ValueError, AttributeError, ImportError, RecursionError)
_PACKAGE = os.path.dirname(os.path.dirname(os.path.realpath(__file__)))
#: The modules whose code shapes the validated configuration: an edit to one is a miss.
_CODE = (
    *(f"config/{name}.py" for name in ("base", "legacy", "loader", "overrides", "resolve")),
    *(f"config/{name}.py" for name in ("schema", "secrets", "server", "snapshot", "cache")),
    "notifications/config.py",
    "telemetry/config.py",
    "providers/__init__.py",
    "routing/limits.py",  # reset_hour_minute: subscription limits' resetTime
    "text.py",
    "vocab.py",
    "__init__.py",
)


def cache_dir() -> str:
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(base, "ado", "config")


def load(explicit: StrPath | None = None, cwd: StrPath | None = None) -> LoadedConfig:
    """``load_config``, from the cache when nothing changed (``LoadedConfig.data`` and
    ``lines`` are then empty: what shows where a value comes from reads the file itself).
    Paths are handled with ``os.path``, as the loader's (no ``pathlib`` before ``ado run``'s
    agent spawns)."""
    cwd = os.getcwd() if cwd is None else os.fspath(cwd)
    path = find_config_file(explicit, cwd)
    if path is None:
        return load_config(explicit, cwd)
    try:
        with open(path, "rb") as f:
            raw = f.read()
            stat = os.fstat(f.fileno())
        text = raw.decode("utf-8")
    except (OSError, UnicodeDecodeError):
        return load_config(explicit, cwd)  # which says what is wrong
    entry = CacheEntry.open(path, raw, text, stat)
    if entry.data is not None:
        try:
            config = thaw(entry.data["file"])
            warnings = [str(w) for w in entry.data["warnings"]]
        except _UNREADABLE:
            entry.data = None
        else:
            _remember_adapters(entry.data.get("adapters"))
            return LoadedConfig(config, path, base_dir(path, cwd), warnings, cache=entry)
    loaded = load_config(path, cwd, text=text)
    loaded.cache = entry
    entry.store_file(loaded)
    return loaded


def effective(loaded: LoadedConfig, store: KeyValues | None) -> AdoConfig:
    """The effective configuration (``ado.config.resolve``, secrets decrypted), from the
    cache when neither the file nor the saved layer changed."""
    settings = (store.get_value(SETTINGS_KEY) if store is not None else None) or {}
    switches = (store.get_value(SWITCHES_KEY) if store is not None else None) or {}
    if not settings and not switches:
        config: AdoConfig = loaded.config
        return config
    from ado.config.resolve import resolve
    from ado.config.source import SavedLayer

    entry = loaded.cache
    saved_key = _hash(json.dumps([settings, switches], sort_keys=True, default=str))
    if entry is not None and (hit := entry.saved(saved_key)) is not None:
        cached: AdoConfig = hit
        return cached
    config = resolve(loaded, SavedLayer(settings, switches), decrypt=True).config
    if entry is not None:
        entry.store_saved(saved_key, config)
    return config


class CacheEntry(Record):
    """One configuration file's entry: where it is, its key, and its data when they match."""

    __slots__ = ("where", "key", "writable", "data")

    def __init__(
        self, where: str, key: str, writable: bool, data: dict[str, Any] | None = None
    ) -> None:
        self.where = where
        self.key = key
        #: Whether this configuration may be written (no secret-looking variable set).
        self.writable = writable
        self.data = data

    @classmethod
    def open(cls, path: str, raw: bytes, text: str, stat: os.stat_result) -> CacheEntry:
        found = re.findall(_VAR, text) if "${" in text else []
        names = sorted(set(found), key=lambda m: m[0])
        env = [(name, os.environ.get(name)) for name, _ in names]
        writable = not any(value and is_secret_name(name) for name, value in env)
        resolved = os.path.realpath(path)
        stamp = [FORMAT, sys.version, resolved, stat.st_size, stat.st_mtime_ns]
        key = _hash(json.dumps([stamp, _code_stamp(), env]), raw)
        where = os.path.join(cache_dir(), f"{_hash(resolved)[:32]}.json")
        entry = cls(where, key, writable)
        entry.data = entry._read()
        return entry

    def saved(self, saved_key: str) -> Any:
        """The effective configuration cached for this saved layer, else None."""
        saved = (self.data or {}).get("saved")
        if not isinstance(saved, dict) or saved.get("key") != saved_key:
            return None
        try:
            return thaw(saved["config"])
        except _UNREADABLE:
            return None

    def store_file(self, loaded: LoadedConfig) -> None:
        try:
            frozen = freeze(loaded.config)
        except NotFreezable:
            return
        from ado.providers import builtin_refs

        adapters = builtin_refs(loaded.config.providers)
        if adapters is None:
            return  # a plugin's provider: its id is checked against what is installed
        self._write(
            {"file": frozen, "warnings": list(loaded.warnings), "adapters": adapters, "saved": None}
        )

    def store_saved(self, saved_key: str, config: Any) -> None:
        if self.data is None:
            return  # the file's own entry was not written
        try:
            frozen = freeze(config)
        except NotFreezable:
            return
        self._write({**self.data, "saved": {"key": saved_key, "config": frozen}})

    def _read(self) -> dict[str, Any] | None:
        try:
            with open(self.where, "rb") as f:
                data = json.load(f)
        except (OSError, ValueError, RecursionError):
            return None
        if not (isinstance(data, dict) and data.get("format") == FORMAT):
            return None
        if data.get("key") != self.key or not isinstance(data.get("warnings"), list):
            return None
        return data

    def _write(self, data: dict[str, Any]) -> None:
        if not self.writable:
            return
        data = {"format": FORMAT, "key": self.key, **data}
        folder, name = os.path.split(self.where)
        tmp = os.path.join(folder, f".{name}.{os.getpid()}.tmp")
        try:
            os.makedirs(folder, mode=0o700, exist_ok=True)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as f:
                json.dump(data, f, separators=(",", ":"))
            os.replace(tmp, self.where)
        except (OSError, ValueError):
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            return
        self.data = data


def _hash(text: str, data: bytes = b"") -> str:
    h = sha256(text.encode("utf-8", "surrogatepass"))
    h.update(data)
    return h.hexdigest()


def _code_stamp() -> list[Any]:
    """The size and mtime of ADO's configuration modules, and of pydantic's version module
    (an upgrade may validate differently); found without importing pydantic."""
    pydantic = (os.path.join(entry or ".", "pydantic", "version.py") for entry in sys.path)
    files = [
        *(os.path.join(_PACKAGE, name) for name in _CODE),
        next((p for p in pydantic if os.path.isfile(p)), None),
    ]
    out: list[Any] = []
    for path in files:
        try:
            st = os.stat(path) if path is not None else None
        except OSError:
            st = None
        if st is None:
            out.append(None)
        else:
            out.append([path, st.st_size, st.st_mtime_ns])
    return out


def _remember_adapters(refs: Any) -> None:
    """The configured providers' entry points, as read when the entry was written (each is
    checked when used: ``ado.providers``)."""
    if isinstance(refs, dict):
        from ado.providers import remember_builtins

        remember_builtins(refs)
