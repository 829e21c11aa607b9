"""The saved layer: settings and provider switches saved through the API or the dashboard.

Two store keys hold it, both camelCase like the file:

- ``settings.overrides``: partial ``routing``, ``hitl`` and ``notifications`` sections
  (``PATCH /api/settings``). Only values that differ from the file's are kept, so saving a
  form never freezes the file's other values; secrets are encrypted (``ado.config.secrets``).
- ``providers.overrides``: provider switches (``PATCH /api/providers/{id}``):
  ``{"<id>": {"enabled": bool, "accessModes": {"<mode>": {"enabled": bool, "priority": int}}}}``.

``ado.config.resolve`` applies both over the file; ``reset`` removes them (``ado config reset``,
``DELETE /api/settings/{key}``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from ado.config.secrets import is_encrypted, is_secret_name, reveal

if TYPE_CHECKING:
    from pydantic import ValidationError

    from ado.config.schema import AdoConfig, ProviderConfig
    from ado.config.secrets import SecretBox

__all__ = [
    "SECTIONS",
    "SETTINGS_KEY",
    "SWITCHES_KEY",
    "InvalidSettings",
    "KeyValueStore",
    "KeyValues",
    "apply_settings",
    "apply_switches",
    "reset",
    "reset_saved",
    "save",
    "settings_after_patch",
    "switch_paths",
    "switches_after_patch",
]

SETTINGS_KEY = "settings.overrides"
SWITCHES_KEY = "providers.overrides"
SECTIONS = ("routing", "hitl", "notifications")

Path = tuple[str | int, ...]


class KeyValues(Protocol):
    def get_value(self, key: str) -> dict[str, Any] | None: ...


class KeyValueStore(KeyValues, Protocol):
    def set_value(self, key: str, value: dict[str, Any]) -> None: ...

    def delete_value(self, key: str) -> None: ...


def save(store: KeyValueStore, key: str, value: Mapping[str, Any]) -> None:
    """Store ``value`` under ``key``, or remove the row when nothing is left."""
    if value:
        store.set_value(key, dict(value))
    else:
        store.delete_value(key)


def reset_saved(store: KeyValueStore, file_config: AdoConfig, key: str | None) -> list[str]:
    """``reset`` in ``store``: the dotted keys removed (none when nothing was saved there)."""
    settings = store.get_value(SETTINGS_KEY) or {}
    switches = store.get_value(SWITCHES_KEY) or {}
    new_settings, new_switches, removed = reset(key, settings, switches, file_config)
    if new_settings != settings:
        save(store, SETTINGS_KEY, new_settings)
    if new_switches != switches:
        save(store, SWITCHES_KEY, new_switches)
    return removed


class InvalidSettings(ValueError):
    """Settings that do not validate: (dotted field, message) for each problem."""

    def __init__(self, details: list[tuple[str, str]]) -> None:
        self.details = details
        super().__init__("; ".join(f"{f}: {m}" for f, m in details))


# -- applying ----------------------------------------------------------------------------------


def apply_settings(config: AdoConfig, overrides: Mapping[str, Any]) -> AdoConfig:
    """``config`` with each section of ``overrides`` (plain values) merged over it, validated."""
    from pydantic import BaseModel, ValidationError

    update: dict[str, Any] = {}
    errors: list[tuple[str, str]] = []
    for section, patch in overrides.items():
        if section not in SECTIONS:
            errors.append((section, f"not a setting; one of {', '.join(SECTIONS)}"))
            continue
        if not isinstance(patch, Mapping):
            errors.append((section, "an object"))
            continue
        current: BaseModel = getattr(config, section)
        merged = _deep_merge(current.model_dump(by_alias=True), patch)
        try:
            update[section] = type(current).model_validate(merged)
        except ValidationError as exc:
            errors.extend(_details(exc, section))
    if errors:
        raise InvalidSettings(errors)
    return config.model_copy(update=update) if update else config


def apply_switches(config: AdoConfig, switches: Mapping[str, Any] | None) -> AdoConfig:
    """``config`` with the provider switches applied to ``config.providers``."""
    if not switches:
        return config
    providers = {}
    for name, pconf in config.providers.items():
        switch = switches.get(name)
        providers[name] = _switched(pconf, switch) if isinstance(switch, dict) else pconf
    return config.model_copy(update={"providers": providers})


def switch_paths(config: AdoConfig, switches: Mapping[str, Any] | None) -> dict[Path, Any]:
    """Each switch as the configuration path it sets (``providers.x.accessModes[0].enabled``)
    and its value; switches for providers or modes not configured are left out."""
    out: dict[Path, Any] = {}
    for name, switch in (switches or {}).items():
        pconf = config.providers.get(name)
        if pconf is None or not isinstance(switch, Mapping):
            continue
        if isinstance(switch.get("enabled"), bool):
            out[("providers", name, "enabled")] = switch["enabled"]
        modes = switch.get("accessModes")
        for i, mode in enumerate(pconf.access_modes):
            entry = modes.get(mode.mode) if isinstance(modes, Mapping) else None
            if not isinstance(entry, Mapping):
                continue
            for field in ("enabled", "priority"):
                if _valid_switch(field, entry.get(field)):
                    out[("providers", name, "accessModes", i, field)] = entry[field]
    return out


def _switched(pconf: ProviderConfig, switch: dict[str, Any]) -> ProviderConfig:
    update: dict[str, Any] = {}
    if _valid_switch("enabled", switch.get("enabled")):
        update["enabled"] = switch["enabled"]
    modes = switch.get("accessModes")
    if isinstance(modes, dict):
        new_modes = []
        for mode in pconf.access_modes:
            entry = modes.get(mode.mode)
            mode_update = {
                f: entry[f]
                for f in ("enabled", "priority")
                if isinstance(entry, dict) and _valid_switch(f, entry.get(f))
            }
            new_modes.append(mode.model_copy(update=mode_update) if mode_update else mode)
        update["access_modes"] = new_modes
    return pconf.model_copy(update=update) if update else pconf


def _valid_switch(field: str, value: Any) -> bool:
    if field == "enabled":
        return isinstance(value, bool)
    return isinstance(value, int) and not isinstance(value, bool)


# -- saving --------------------------------------------------------------------------------


def settings_after_patch(
    file_config: AdoConfig, saved: Mapping[str, Any], patch: Mapping[str, Any], box: SecretBox
) -> dict[str, Any]:
    """The settings to save after ``patch``: each value it gives is saved when it differs
    from the file's (``file_config``: defaults + file) and dropped from the saved ones when it
    equals it; what the patch does not name stays as it was. Validated over the file (raises
    ``InvalidSettings``); secrets encrypted with ``box``.

    A secret given as ``{"set": ...}`` (how the API shows one) is left as it is.
    """
    import copy  # not before ado run's spawn: it only reads the saved layer

    for section in patch:
        if section not in SECTIONS:
            raise InvalidSettings([(section, f"not a setting; one of {', '.join(SECTIONS)}")])
    file_data = reveal(file_config.model_dump(by_alias=True, include=set(SECTIONS)))
    new = copy.deepcopy(dict(saved))
    for path, value in _patch_leaves(patch, ()):
        if value == _get(file_data, path, _MISSING):
            _remove(new, path)
        else:
            _put(new, path, value)
    new = _pruned(new)
    apply_settings(file_config, _plain_for_validation(new))
    return dict(box.encrypt_tree(new, lambda p: _is_secret_path(file_config, p)))


def switches_after_patch(
    file_config: AdoConfig, switches: Mapping[str, Any], provider: str, patch: Mapping[str, Any]
) -> dict[str, Any]:
    """The provider switches after ``patch`` (``{"enabled"?, "accessModes"?: [{mode, enabled?,
    priority?}]}``): a value equal to the file's removes the switch, another one sets it."""
    import copy

    new = copy.deepcopy(dict(switches))
    entry = dict(new.get(provider) or {})
    pconf = file_config.providers.get(provider)
    if patch.get("enabled") is not None:
        file_enabled = pconf.enabled if pconf is not None else False
        if patch["enabled"] == file_enabled:
            entry.pop("enabled", None)
        else:
            entry["enabled"] = patch["enabled"]
    modes = dict(entry.get("accessModes") or {})
    for mode_patch in patch.get("accessModes") or ():
        name = mode_patch["mode"]
        file_mode = next((m for m in pconf.access_modes if m.mode == name), None) if pconf else None
        mode = dict(modes.get(name) or {})
        for field in ("enabled", "priority"):
            value = mode_patch.get(field)
            if value is None:
                continue
            if file_mode is not None and getattr(file_mode, field) == value:
                mode.pop(field, None)
            else:
                mode[field] = value
        modes[name] = mode
    entry["accessModes"] = modes
    entry = _pruned(entry)
    if entry:
        new[provider] = entry
    else:
        new.pop(provider, None)
    return new


# -- resetting -----------------------------------------------------------------------------


def reset(
    key: str | None,
    settings: Mapping[str, Any],
    switches: Mapping[str, Any],
    file_config: AdoConfig,
) -> tuple[dict[str, Any], dict[str, Any], list[str]]:
    """Remove the saved settings and switches at ``key`` (dotted: a section or a leaf;
    ``providers.<id>[.enabled|.accessModes.<mode>|.accessModes[<i>]][.<field>]`` for switches;
    None: everything). Returns the new settings, the new switches and the keys removed."""
    import copy

    from ado.config.loader import dotted

    if key is None:
        removed = [dotted(p) for p, _ in _patch_leaves(settings, ())]
        removed += [f"providers.{k}" for k in switches]
        return {}, {}, removed
    from ado.config.editor import parse_key

    parts: list[str | int] = list(parse_key(key))
    new_settings, new_switches = copy.deepcopy(dict(settings)), copy.deepcopy(dict(switches))
    if parts[0] == "providers":
        pconf = file_config.providers.get(str(parts[1])) if len(parts) > 1 else None
        if len(parts) > 3 and isinstance(parts[3], int):  # accessModes[i] → accessModes.<mode>
            modes = pconf.access_modes if pconf is not None else []
            if parts[3] >= len(modes):
                return new_settings, new_switches, []
            parts[3] = modes[parts[3]].mode
        path = tuple(parts[1:])
        if not path:
            return new_settings, {}, [f"providers.{k}" for k in new_switches]
        if _get(new_switches, path, _MISSING) is _MISSING:
            return new_settings, new_switches, []
        _remove(new_switches, path)
        return new_settings, _pruned(new_switches), [key]
    if _get(new_settings, tuple(parts), _MISSING) is _MISSING:
        return new_settings, new_switches, []
    _remove(new_settings, tuple(parts))
    return _pruned(new_settings), new_switches, [key]


# -- helpers -------------------------------------------------------------------------------

_MISSING: Any = object()


def _patch_leaves(data: Mapping[str, Any], path: Path) -> list[tuple[Path, Any]]:
    out: list[tuple[Path, Any]] = []
    for key, value in data.items():
        where = (*path, str(key))
        if is_encrypted(value):
            out.append((where, value))
        elif isinstance(value, Mapping) and set(value) == {"set"}:
            continue  # a masked secret sent back unchanged
        elif isinstance(value, Mapping) and value:
            out.extend(_patch_leaves(value, where))
        else:
            out.append((where, value))
    return out


def _get(data: Any, path: Path, default: Any) -> Any:
    for part in path:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return default
    return data


def _put(data: dict[str, Any], path: Path, value: Any) -> None:
    import copy

    node = data
    for part in path[:-1]:
        child = node.get(str(part))
        if not isinstance(child, dict) or is_encrypted(child):
            child = node[str(part)] = {}
        node = child
    node[str(path[-1])] = copy.deepcopy(value)


def _remove(data: dict[str, Any], path: Path) -> None:
    node: Any = data
    for part in path[:-1]:
        node = node.get(str(part)) if isinstance(node, dict) else None
        if not isinstance(node, dict):
            return
    if isinstance(node, dict):
        node.pop(str(path[-1]), None)


def _pruned(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` without empty sub-mappings."""
    out: dict[str, Any] = {}
    for key, value in data.items():
        if isinstance(value, dict) and not is_encrypted(value):
            value = _pruned(value)
            if not value:
                continue
        out[key] = value
    return out


def _plain_for_validation(data: Any) -> Any:
    """Saved data with encrypted secrets replaced by a placeholder string (to validate)."""
    if is_encrypted(data):
        return "**********"
    if isinstance(data, Mapping):
        return {k: _plain_for_validation(v) for k, v in data.items()}
    if isinstance(data, list):
        return [_plain_for_validation(v) for v in data]
    return data


def _is_secret_path(config: AdoConfig, path: Path) -> bool:
    """Whether the value at ``path`` is a secret: a ``SecretStr`` field or a secret name."""
    from pydantic import BaseModel, SecretStr

    node: Any = config
    for part in path:
        if isinstance(node, BaseModel):
            name = next(
                (n for n, f in type(node).model_fields.items() if part in (n, f.alias)), None
            )
            annotation = type(node).model_fields[name].annotation if name else None
            if annotation is not None and "SecretStr" in str(annotation):
                return True
            node = getattr(node, name) if name else None
        elif isinstance(node, Mapping):
            node = node.get(part)
        else:
            node = None
        if isinstance(node, SecretStr):
            return True
    return is_secret_name(str(path[-1])) if path else False


def _deep_merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    import copy

    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return base


def _details(exc: ValidationError, section: str) -> list[tuple[str, str]]:
    details = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        details.append((f"{section}.{loc}" if loc else section, message))
    return details
