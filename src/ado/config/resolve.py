"""The one resolution of the configuration, and where each value comes from.

The layers, lowest first:

1. ``default``: the built-in defaults (``ado.config.schema``);
2. ``file``: ``ado.config.yaml`` (``ado.config.loader``);
3. ``saved``: settings and provider switches saved through the API or the dashboard
   (``ado.config.overrides``, in the store);
4. per-task options (``ado run`` flags, a submitted task's fields), which the Runner applies
   to one task over the result.

``resolve(loaded, store)`` merges 1-3 into the effective ``AdoConfig`` — provider switches
applied to ``config.providers``, so the router, ``ado status`` and the API simply read the
configuration — and answers ``origin(key)`` for each dotted key. Every consumer resolves
through it: ``ado run``, ``ado status``, ``ado providers``, ``ado report``, ``ado config``, and
``ado serve``'s API, worker pool, notifier and telemetry (through ``ConfigSource``).

``store`` is anything with ``get_value(key)``: the full ``Store`` or the plain-SQL
``SqlStore`` (``ado status`` and ``ado run`` import neither SQLAlchemy nor asyncio).
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from typing import TYPE_CHECKING, Any, Literal

from ado.config.overrides import (
    SETTINGS_KEY,
    SWITCHES_KEY,
    InvalidSettings,
    KeyValues,
    apply_settings,
    apply_switches,
    switch_paths,
)
from ado.config.secrets import MASK, SecretBox, is_encrypted
from ado.errors import ConfigError

if TYPE_CHECKING:
    from ado.config.loader import LoadedConfig
    from ado.config.schema import AdoConfig

__all__ = ["MISSING", "Origin", "Resolved", "is_saveable", "leaves", "resolve"]

Origin = Literal["default", "file", "saved"]
Path = tuple[str | int, ...]


def resolve(
    source: LoadedConfig | AdoConfig,
    store: KeyValues | None,
    *,
    decrypt: bool | SecretBox = True,
) -> Resolved:
    """The effective configuration: defaults, the file, then what was saved in ``store``.

    ``decrypt``: False leaves saved secrets masked (for showing, not using); a ``SecretBox``
    decrypts with that key. A saved setting that no longer validates, or a secret that
    cannot be decrypted, is a ``ConfigError`` naming it and the fix.
    """
    from ado.config.loader import LoadedConfig

    loaded = source if isinstance(source, LoadedConfig) else None
    file_config: AdoConfig = source.config if isinstance(source, LoadedConfig) else source
    settings = (store.get_value(SETTINGS_KEY) if store is not None else None) or {}
    switches = (store.get_value(SWITCHES_KEY) if store is not None else None) or {}
    if settings or switches:  # merged into the models, also of a cached configuration
        from ado.config.snapshot import as_model

        file_config = as_model(file_config)
    config = file_config
    if settings:
        box = decrypt if isinstance(decrypt, SecretBox) else SecretBox() if decrypt else None
        plain = _decrypted(settings, box, ())
        try:
            config = apply_settings(config, plain)
        except InvalidSettings as exc:
            field, message = exc.details[0]
            raise ConfigError(
                message,
                file=f"settings saved through the API (store key {SETTINGS_KEY})",
                key=field,
                fix=f"change it in the dashboard's settings, or remove it: "
                f"`ado config reset {field}`",
            ) from exc
    if switches:
        config = apply_switches(config, switches)
    return Resolved(config, file_config, loaded, settings, switches)


class Resolved:
    """The effective configuration and the layers it was made from."""

    __slots__ = (
        "_file_data",
        "_origins",
        "_saved",
        "config",
        "file_config",
        "loaded",
        "settings",
        "switches",
    )

    def __init__(
        self,
        config: AdoConfig,
        file_config: AdoConfig,
        loaded: LoadedConfig | None,
        settings: dict[str, Any],
        switches: dict[str, Any],
    ) -> None:
        #: What every consumer uses.
        self.config = config
        #: Defaults + the file: what ``config`` would be without the saved layer.
        self.file_config = file_config
        self.loaded = loaded
        #: The saved layer as stored (secrets encrypted).
        self.settings = settings
        self.switches = switches
        self._saved: dict[Path, Any] | None = None
        self._origins: dict[str, Origin] | None = None
        self._file_data: dict[str, Any] | None = None

    @property
    def saved(self) -> dict[Path, Any]:
        """Each configuration path the saved layer sets, and the value saved."""
        if self._saved is None:
            saved: dict[Path, Any] = dict(leaves(self.settings, expand_lists=False))
            saved.update(switch_paths(self.file_config, self.switches))
            self._saved = saved
        return self._saved

    @property
    def origins(self) -> dict[str, Origin]:
        """Every leaf of the effective configuration (dotted, camelCase) and its layer."""
        from ado.config.loader import dotted

        if self._origins is None:
            data = self.config.model_dump(by_alias=True)
            self._origins = {dotted(p): self.origin_of(p) for p, _ in leaves(data)}
        return self._origins

    def origin(self, key: str) -> Origin:
        from ado.config.editor import parse_key

        return self.origin_of(tuple(parse_key(key)))

    def is_saved(self, path: Path) -> bool:
        """Whether the saved layer sets ``path`` or a path above it (cheaper than ``origin_of``:
        neither the file's data nor pydantic's models are read)."""
        saved = self.saved
        return any(path[:n] in saved for n in range(1, len(path) + 1))

    def origin_of(self, path: Path) -> Origin:
        if self.is_saved(path):
            return "saved"
        if self.loaded is not None and _present(self.loaded.data, path):
            return "file"
        if _set_in(self.file_config, path):
            return "file"  # validated from data given (a LoadedConfig built in code)
        default = _value_at(_defaults(), path)
        if default is not MISSING and default != self.file_value(path):
            return "file"  # set under another spelling (snake_case, the original's hitl keys)
        return "default"

    def shadowed(self, path: Path) -> dict[Path, Any]:
        """The saved values at, above or below ``path``: what keeps a file edit there from
        taking effect."""
        n = len(path)
        return {p: v for p, v in self.saved.items() if p[:n] == path or path[: len(p)] == p}

    def file_value(self, path: Path) -> Any:
        """The value the file (or the defaults) gives at ``path`` (secrets as ``SecretStr``);
        ``MISSING`` when there is no such key."""
        if self._file_data is None:
            self._file_data = self.file_config.model_dump(by_alias=True)
        return _value_at(self._file_data, path)

    def line_of(self, path: Path) -> int | None:
        """The file's line that sets ``path``."""
        if self.loaded is None:
            return None
        while path:
            if path in self.loaded.lines:
                return self.loaded.lines[path]
            path = path[:-1]
        return None


def leaves(data: Any, path: Path = (), *, expand_lists: bool = True) -> list[tuple[Path, Any]]:
    """Every leaf of plain data with its path: mappings are walked (an encrypted value and a
    masked one, ``{"set": bool}``, are leaves), lists of mappings too when ``expand_lists``
    (``accessModes[0].priority``)."""
    out: list[tuple[Path, Any]] = []
    if isinstance(data, Mapping) and data and not is_encrypted(data) and set(data) != {"set"}:
        for key, value in data.items():
            out.extend(leaves(value, (*path, str(key)), expand_lists=expand_lists))
    elif (
        expand_lists
        and isinstance(data, list)
        and data
        and all(isinstance(item, Mapping) for item in data)
    ):
        for i, value in enumerate(data):
            out.extend(leaves(value, (*path, i), expand_lists=expand_lists))
    elif path:
        out.append((path, data))
    return out


MISSING: Any = object()


def _decrypted(data: Any, box: SecretBox | None, path: Path) -> Any:
    from ado.config.loader import dotted

    if is_encrypted(data):
        return box.decrypt(data, dotted(path)) if box is not None else MASK
    if isinstance(data, Mapping):
        return {k: _decrypted(v, box, (*path, str(k))) for k, v in data.items()}
    return data


def _present(data: Any, path: Path) -> bool:
    for part in path:
        if isinstance(data, Mapping):
            if part not in data:
                return False
            data = data[part]
        elif isinstance(data, list) and isinstance(part, int):
            if part >= len(data):
                return False
            data = data[part]
        else:
            return True  # the file gives a whole value here (a list, a "a, b" string)
    return True


def _set_in(model: Any, path: Path) -> bool:
    """Whether each model along ``path`` was given its field (pydantic's fields set)."""
    from pydantic import BaseModel

    node = model
    for part in path:
        if isinstance(node, BaseModel):
            fields = type(node).model_fields
            name = next((n for n, f in fields.items() if part in (n, f.alias)), None)
            if name is None:
                return part in (node.model_extra or {})
            if name not in node.model_fields_set:
                return False
            node = getattr(node, name)
        elif isinstance(node, Mapping):
            if part not in node:
                return False
            node = node[part]
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return True
    return True


def _value_at(data: Any, path: Path) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return MISSING
    return data


@cache
def _defaults() -> dict[str, Any]:
    from ado.config.schema import AdoConfig

    defaults: dict[str, Any] = AdoConfig().model_dump(by_alias=True)
    return defaults


def is_saveable(resolved: Resolved, key: str) -> bool:
    """Whether ``key`` names something the saved layer can hold: a section or key of
    ``routing``, ``hitl`` or ``notifications``, or a configured provider's switches."""
    from ado.config.editor import parse_key
    from ado.config.overrides import SECTIONS

    parts = parse_key(key)
    if parts[0] == "providers":
        return len(parts) == 1 or parts[1] in resolved.file_config.providers
    if parts[0] not in SECTIONS:
        return False
    if any(p[: len(parts)] == tuple(parts) for p in resolved.saved):
        return True
    return resolved.file_value(tuple(parts)) is not MISSING
