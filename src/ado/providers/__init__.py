"""Agent adapters, found through the ``ado.providers`` entry-point group.

The built-in adapters register there exactly as a third-party plugin would. Listing the
group reads the entry points of every installed distribution (~100 ms with a few dozen
installed); a built-in adapter is found in ADO's own distribution alone, so ``ado run``
scans everything only for a provider id that is not built in. Reading even that one takes
``importlib.metadata`` (~40 ms here), so the cache of validated configurations keeps the
entry points of the providers it configures (``builtin_refs``) and ``ado run`` hands them
back (``remember_builtins``): each is imported and checked (an ``AgentAdapter`` of that id,
in ADO's own package) before it is used, else the entry points are read as always.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache
from typing import TYPE_CHECKING

from ado.errors import UnknownProviderError

if TYPE_CHECKING:
    from importlib.metadata import EntryPoint

    from ado.config.schema import AdoConfig, ProviderConfig
    from ado.providers.base import AgentAdapter, Detection

__all__ = [
    "adapter_classes",
    "adapter_id",
    "builtin_provider_ids",
    "builtin_refs",
    "configured_env",
    "detect_all",
    "detect_configured",
    "get_adapter",
    "get_configured_adapter",
    "provider_ids",
    "remember_builtins",
]

ENTRY_POINT_GROUP = "ado.providers"


@cache
def provider_ids() -> tuple[str, ...]:
    """Registered provider ids, without importing the adapters."""
    from importlib.metadata import entry_points

    return tuple(ep.name for ep in entry_points(group=ENTRY_POINT_GROUP))


@cache
def _builtin_entry_points() -> dict[str, EntryPoint]:
    """ADO's own adapters: the entry points of the ``ado`` distribution (one file read)."""
    from importlib.metadata import PackageNotFoundError, distribution

    try:
        found = distribution("ado").entry_points.select(group=ENTRY_POINT_GROUP)
    except PackageNotFoundError:  # run from a source tree without installing
        return {}
    return {ep.name: ep for ep in found}


def builtin_provider_ids() -> tuple[str, ...]:
    """The ids of ADO's own adapters, without scanning every installed distribution."""
    return tuple(_builtin_entry_points())


#: Built-in entry points read earlier (``remember_builtins``): provider id → "module:Class".
_remembered: dict[str, str] = {}


def builtin_refs(provider_ids: Iterable[str]) -> dict[str, str] | None:
    """The entry points ("module:Class") of these built-in providers; None when one is not
    built in."""
    found = _builtin_entry_points()
    refs = {pid: found[pid].value for pid in provider_ids if pid in found}
    return refs if len(refs) == len(set(provider_ids)) else None


def remember_builtins(refs: Mapping[str, str]) -> None:
    """Entry points of built-in providers read by an earlier process (``builtin_refs``)."""
    _remembered.update({str(k): str(v) for k, v in refs.items()})


def _remembered_class(provider_id: str) -> type[AgentAdapter] | None:
    import importlib

    from ado.providers.base import AgentAdapter

    module, _, name = _remembered.get(provider_id, "").partition(":")
    if not module.startswith("ado.providers.") or not name.isidentifier():
        return None
    try:
        cls = getattr(importlib.import_module(module), name, None)
    except ImportError:
        return None
    if isinstance(cls, type) and issubclass(cls, AgentAdapter) and cls.id == provider_id:
        return cls
    return None


@cache
def adapter_class(provider_id: str) -> type[AgentAdapter]:
    """The adapter class of ``provider_id``: a built-in one without scanning every
    distribution; any other from the whole entry-point group."""
    if (remembered := _remembered_class(provider_id)) is not None:
        return remembered
    builtin = _builtin_entry_points().get(provider_id)
    if builtin is not None:
        cls: type[AgentAdapter] = builtin.load()
        if getattr(cls, "id", provider_id) == provider_id:
            return cls
    classes = adapter_classes()
    try:
        return classes[provider_id]
    except KeyError:
        raise UnknownProviderError(provider_id, list(classes)) from None


@cache
def adapter_classes() -> dict[str, type[AgentAdapter]]:
    """Every registered adapter class by provider id, built-ins first: from the entry points
    listed by an earlier process while nothing was installed since (``ado.providers.listing``),
    else from every installed distribution's."""
    from ado.providers import listing

    found: dict[str, type[AgentAdapter]] = {}
    listed = listing.read(ENTRY_POINT_GROUP)
    if listed is not None:
        try:
            for name, value in listed:
                cls = listing.load(value)
                found[getattr(cls, "id", name)] = cls
        except (ImportError, AttributeError):
            found.clear()  # scanned: an error is then reported as before
        else:
            return found
    from importlib.metadata import entry_points

    pairs = []
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        cls = ep.load()
        found[getattr(cls, "id", ep.name)] = cls
        pairs.append((ep.name, ep.value))
    listing.write(ENTRY_POINT_GROUP, pairs)
    return found


def get_adapter(provider_id: str) -> AgentAdapter:
    return adapter_class(provider_id)()


def adapter_id(config: AdoConfig | None, provider_id: str) -> str:
    """The adapter a configured provider id runs: its ``adapter:`` (an account of that
    agent, e.g. ``claude-work`` of ``claude-code``), else the id itself."""
    provider = config.providers.get(provider_id) if config is not None else None
    return (provider.adapter if provider is not None else None) or provider_id


def get_configured_adapter(config: AdoConfig | None, provider_id: str) -> AgentAdapter:
    """The adapter of a configured provider id (see ``adapter_id``)."""
    return get_adapter(adapter_id(config, provider_id))


async def detect_all(
    commands: Mapping[str, str | None] | None = None,
    ids: Iterable[str] | None = None,
    envs: Mapping[str, Mapping[str, str]] | None = None,
    pass_envs: Mapping[str, tuple[str, ...]] | None = None,
    adapters: Mapping[str, str] | None = None,
) -> dict[str, Detection]:
    """Detect every (or the given) adapter concurrently.

    ``adapters`` maps a configured id to the adapter it runs (accounts), ``commands``
    override executables, ``envs`` add configured variables and ``pass_envs`` the
    ``passEnv`` patterns, per provider id.
    """
    import asyncio

    commands, envs, pass_envs = commands or {}, envs or {}, pass_envs or {}
    kinds = adapters or {}
    wanted = list(ids) if ids is not None else sorted(adapter_classes())
    results = await asyncio.gather(
        *(
            get_adapter(kinds.get(p, p)).detect(
                commands.get(p), env=envs.get(p), pass_env=pass_envs.get(p, ())
            )
            for p in wanted
        )
    )
    return dict(zip(wanted, results, strict=True))


async def detect_configured(
    config: AdoConfig, ids: Iterable[str] | None = None
) -> dict[str, Detection]:
    """``detect_all`` with what the configuration gives each agent (command, env, passEnv):
    the login state is the one the agent would really have."""
    providers = config.providers
    return await detect_all(
        {pid: p.command for pid, p in providers.items()},
        ids,
        {pid: configured_env(pid, p) for pid, p in providers.items()},
        {pid: tuple(p.pass_env) for pid, p in providers.items()},
        {pid: p.adapter for pid, p in providers.items() if p.adapter},
    )


def configured_env(provider_id: str, config: ProviderConfig) -> dict[str, str]:
    """What the configuration hands an agent: ``env`` plus its API-mode key, if any."""
    env = dict(config.env)
    key_env = adapter_class(config.adapter or provider_id).api_key_env
    for mode in config.access_modes:
        if key_env and mode.api is not None and mode.api.api_key is not None:
            env.setdefault(key_env, mode.api.api_key.get_secret_value())
    return env
