"""Settings saved through the API, applied on top of ``ado.config.yaml``.

The API's ``PATCH /api/settings`` stores a partial configuration (camelCase keys, as in the
file) under the store key ``settings.overrides``; ``effective_config`` merges it over the
loaded configuration for the API, the server's worker pool and ``ado run``, validating the
merged sections with the very models the file is validated with. Only these sections can
be changed this way: ``routing``, ``hitl`` and ``notifications``.

Provider switches (enabled, access-mode priority and enabled) are stored apart, under
``providers.overrides``, and applied by the router itself (``ado.routing.router``).
"""

from __future__ import annotations

import copy
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Protocol

from pydantic import BaseModel, ValidationError

from ado.errors import ConfigError

if TYPE_CHECKING:
    from ado.config.schema import AdoConfig, ProviderConfig

__all__ = [
    "SECTIONS",
    "SETTINGS_KEY",
    "InvalidSettings",
    "KeyValues",
    "apply_settings",
    "effective_config",
    "effective_providers",
    "merge_settings",
]

SETTINGS_KEY = "settings.overrides"
SECTIONS = ("routing", "hitl", "notifications")


class KeyValues(Protocol):
    def get_value(self, key: str) -> dict[str, Any] | None: ...


class InvalidSettings(ValueError):
    """Settings that do not validate: (dotted field, message) for each problem."""

    def __init__(self, details: list[tuple[str, str]]) -> None:
        self.details = details
        super().__init__("; ".join(f"{f}: {m}" for f, m in details))


def effective_config(config: AdoConfig, store: KeyValues) -> AdoConfig:
    """``config`` with the settings saved through the API applied (as is when there are none)."""
    overrides = store.get_value(SETTINGS_KEY)
    if not overrides:
        return config
    try:
        return apply_settings(config, overrides)
    except InvalidSettings as exc:
        field, message = exc.details[0]
        raise ConfigError(
            message,
            file=f"settings saved through the API (store key {SETTINGS_KEY})",
            key=field,
            fix="change it in the dashboard's settings, or PATCH /api/settings",
        ) from exc


def apply_settings(config: AdoConfig, overrides: Mapping[str, Any]) -> AdoConfig:
    """``config`` with each section of ``overrides`` merged over it and validated."""
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


def merge_settings(
    config: AdoConfig, saved: Mapping[str, Any], patch: Mapping[str, Any]
) -> dict[str, Any]:
    """The overrides to save after ``patch``: merged over ``saved`` and validated.

    A secret given as ``{"set": ...}`` (how the API shows one) keeps its saved value.
    """
    merged = _deep_merge(copy.deepcopy(dict(saved)), _drop_masked(patch))
    apply_settings(config, merged)
    return merged


def effective_providers(
    config: AdoConfig, overrides: Mapping[str, Any] | None
) -> dict[str, ProviderConfig]:
    """The configured providers with the API's provider switches applied, as routed."""
    result = {}
    for name, pconf in config.providers.items():
        override = (overrides or {}).get(name)
        result[name] = _apply_override(pconf, override) if isinstance(override, dict) else pconf
    return result


def _apply_override(pconf: ProviderConfig, override: dict[str, Any]) -> ProviderConfig:
    update: dict[str, Any] = {}
    if isinstance(override.get("enabled"), bool):
        update["enabled"] = override["enabled"]
    mode_overrides = override.get("accessModes")
    if isinstance(mode_overrides, dict):
        modes = []
        for mode in pconf.access_modes:
            mode_override = mode_overrides.get(mode.mode)
            mode_update: dict[str, Any] = {}
            if isinstance(mode_override, dict):
                if isinstance(mode_override.get("enabled"), bool):
                    mode_update["enabled"] = mode_override["enabled"]
                priority = mode_override.get("priority")
                if isinstance(priority, int) and not isinstance(priority, bool):
                    mode_update["priority"] = priority
            modes.append(mode.model_copy(update=mode_update) if mode_update else mode)
        update["access_modes"] = modes
    return pconf.model_copy(update=update) if update else pconf


def _deep_merge(base: dict[str, Any], patch: Mapping[str, Any]) -> dict[str, Any]:
    for key, value in patch.items():
        if isinstance(value, Mapping) and isinstance(base.get(key), dict):
            base[key] = _deep_merge(base[key], value)
        else:
            base[key] = copy.deepcopy(value) if isinstance(value, dict | list) else value
    return base


def _drop_masked(patch: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in patch.items():
        if isinstance(value, Mapping):
            if set(value) == {"set"}:
                continue  # a masked secret sent back unchanged
            out[key] = _drop_masked(value)
        else:
            out[key] = value
    return out


def _details(exc: ValidationError, section: str) -> list[tuple[str, str]]:
    details = []
    for err in exc.errors():
        loc = ".".join(str(p) for p in err["loc"])
        message = "unknown field" if err["type"] == "extra_forbidden" else err["msg"]
        details.append((f"{section}.{loc}" if loc else section, message))
    return details
