"""A validated configuration as plain data, and read back without pydantic.

``freeze(config)`` turns an ``AdoConfig`` (already validated) into JSON-ready data: each model
as ``{"$m": "module:Class", "f": fields, "s": fields set, "x": extra keys}``, each enum as
``{"$e": "module:Class", "v": value}``, each mapping as ``{"$d": {...}}``. ``thaw(data)`` gives
it back as ``Frozen`` objects: the same attributes, read from the data, so the path from
``ado run``'s exec to the agent's spawn never builds the pydantic models (``ado.config.cache``).

A ``Frozen`` answers what the models' fields hold, ``model_fields_set`` and ``model_extra``;
anything else (a property, ``model_dump``, ``model_copy``...) is asked of the real model,
rebuilt from the same data on first use (``Frozen._as_model()``, no validation: the data was
validated when it was frozen); ``as_model(config)`` gives the whole of it as the real models
for code that needs them (the notification channels, telemetry). ``field_names(obj)`` lists
the fields of either kind.

What cannot be frozen raises ``NotFreezable``, and is then simply not cached: a secret (a
``SecretStr``, or a non-empty string under a secret-looking name such as ``ANTHROPIC_API_KEY``
in a provider's ``env``) never goes to disk, nor does a value JSON cannot carry exactly.
"""

from __future__ import annotations

import importlib
from collections.abc import Mapping
from enum import Enum
from typing import Any

from ado.config.secrets import is_secret_name

__all__ = ["Frozen", "NotFreezable", "as_model", "field_names", "freeze", "thaw"]


class NotFreezable(Exception):
    """The configuration holds something that is not cached (a secret, an unusual type)."""


def freeze(value: Any, name: str = "") -> Any:
    """``value`` (a validated model, or plain data in one) as JSON-ready data."""
    if isinstance(value, Enum):  # before str: a StrEnum is a str too
        return {"$e": _class_ref(type(value)), "v": freeze(value.value)}
    if value is None or isinstance(value, bool | int | float | str):
        if isinstance(value, str) and value and is_secret_name(name):
            raise NotFreezable(f"{name} looks secret")
        return value
    if isinstance(value, Frozen):
        return value._data
    fields = getattr(type(value), "model_fields", None)
    if isinstance(fields, Mapping):
        if not _is_model_ref(ref := _class_ref(type(value))):
            raise NotFreezable(f"{ref} is not one of the configuration's modules")
        extra = value.model_extra
        return {
            "$m": ref,
            "f": {n: freeze(getattr(value, n), f.alias or n) for n, f in fields.items()},
            "s": sorted(value.model_fields_set),
            "x": None if extra is None else {str(k): freeze(v, str(k)) for k, v in extra.items()},
        }
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise NotFreezable("a mapping with keys that are not strings")
        return {"$d": {k: freeze(v, k) for k, v in value.items()}}
    if isinstance(value, list):
        return [freeze(v, name) for v in value]
    if isinstance(value, tuple):
        return {"$t": [freeze(v, name) for v in value]}
    raise NotFreezable(f"a {type(value).__name__} value")  # SecretStr, a date, bytes...


def thaw(data: Any) -> Any:
    """Frozen data back as values: ``Frozen`` models, enums, dicts, lists, tuples."""
    if isinstance(data, list):
        return [thaw(v) for v in data]
    if not isinstance(data, dict):
        return data
    if "$m" in data:
        if not _is_model_ref(str(data["$m"])):
            raise ValueError(f"not a class of ADO's configuration: {data['$m']!r}")
        fields = {str(k): thaw(v) for k, v in data["f"].items()}
        extra = data["x"]
        return Frozen(
            data,
            str(data["$m"]),
            fields,
            frozenset(data["s"]),
            None if extra is None else {str(k): thaw(v) for k, v in extra.items()},
        )
    if "$d" in data:
        return {str(k): thaw(v) for k, v in data["$d"].items()}
    if "$t" in data:
        return tuple(thaw(v) for v in data["$t"])
    if "$e" in data:
        cls = _resolve(str(data["$e"]), Enum)
        return cls(thaw(data["v"]))
    raise ValueError("not frozen configuration data")


class Frozen:
    """One configuration model, read from frozen data (see the module's docstring)."""

    __slots__ = ("_cls", "_data", "_extra", "_fields", "_model", "_set")

    def __init__(
        self,
        data: dict[str, Any],
        cls: str,
        fields: dict[str, Any],
        fields_set: frozenset[str],
        extra: dict[str, Any] | None,
    ) -> None:
        self._data = data
        self._cls = cls
        self._fields = fields
        self._set = fields_set
        self._extra = extra
        self._model: Any = None

    def __getattr__(self, name: str) -> Any:
        # Only called for what is not a slot: a field, an extra key, else the real model's.
        fields = self._fields
        if name in fields:
            return fields[name]
        if name.startswith("__"):
            raise AttributeError(name)
        extra = self._extra
        if extra is not None and name in extra:
            return extra[name]
        return getattr(self._as_model(), name)

    @property
    def model_fields_set(self) -> set[str]:
        return set(self._set)

    @property
    def model_extra(self) -> dict[str, Any] | None:
        return None if self._extra is None else dict(self._extra)

    def _as_model(self) -> Any:
        """The pydantic model these data describe (built once; not validated again)."""
        if self._model is None:
            from pydantic import BaseModel

            cls = _resolve(self._cls, BaseModel)
            values = {k: _real(v) for k, v in self._fields.items()}
            values.update({k: _real(v) for k, v in (self._extra or {}).items()})
            self._model = cls.model_construct(_fields_set=set(self._set), **values)
        return self._model

    def __eq__(self, other: object) -> bool:
        if isinstance(other, Frozen):
            return self._data == other._data
        return bool(self._as_model() == other)

    __hash__ = None  # type: ignore[assignment]  # as pydantic's models

    def __repr__(self) -> str:
        return f"Frozen({self._cls.rpartition(':')[2]})"


def field_names(model: Any) -> list[str]:
    """The fields of a configuration model, ``Frozen`` or pydantic."""
    if isinstance(model, Frozen):
        return list(model._fields)
    return list(type(model).model_fields)


def as_model(value: Any) -> Any:
    """``value`` with every ``Frozen`` in it as its pydantic model: for what goes beyond
    reading fields (validating a channel's settings, telemetry's set-up), off the path to the
    spawn."""
    return _real(value)


def _real(value: Any) -> Any:
    if isinstance(value, Frozen):
        return value._as_model()
    if isinstance(value, list):
        return [_real(v) for v in value]
    if isinstance(value, tuple):
        return tuple(_real(v) for v in value)
    if isinstance(value, dict):
        return {k: _real(v) for k, v in value.items()}
    return value


#: Where the configuration's models are defined (a model elsewhere is not cached).
_MODEL_MODULES = ("ado.config.", "ado.notifications.config", "ado.telemetry.config")


def _is_model_ref(ref: str) -> bool:
    module, _, name = ref.partition(":")
    return module.startswith(_MODEL_MODULES) and name.isidentifier()


def _class_ref(cls: type) -> str:
    return f"{cls.__module__}:{cls.__qualname__}"


def _resolve(ref: str, base: type) -> Any:
    """The class ``module:Name`` names: only ADO's own, and only of the kind expected (the
    data come from a file on disk)."""
    module, _, name = ref.partition(":")
    if not (module == "ado" or module.startswith("ado.")) or not name.isidentifier():
        raise ValueError(f"not a class of ADO's configuration: {ref!r}")
    cls = getattr(importlib.import_module(module), name, None)
    if not (isinstance(cls, type) and issubclass(cls, base)):
        from ado.config.cache import cache_dir
        from ado.errors import ConfigError

        raise ConfigError(  # only a file written by hand with the right key gets here
            f"the cached configuration names {ref!r}, not a class of ADO's configuration",
            file=str(cache_dir()),
            fix=f"delete {cache_dir()}: it is rebuilt from ado.config.yaml",
        )
    return cls
