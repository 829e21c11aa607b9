"""The one composition root: a ``Runner`` with its configuration, notifier and telemetry.

``ado run``, the server's worker pool and (later) the distributed worker build every Runner
here, so a task reports to the same hooks whoever runs it:

    services = Services.for_run(config, store, base_dir, debug=False)   # once per process
    runner = build_runner(config, store, services, hooks=[view], confirm=view.confirm)
    result = await runner.run(spec)
    await services.aclose()                     # pending notifications, telemetry flushed

``config`` is the effective configuration, already resolved (``effective_config``: the file,
then what was saved through the API). ``Services`` are started once per process: telemetry
(None, and nothing of OpenTelemetry imported, when off) and notifications (nothing imported
when they are off or no channel is enabled). For ``ado run`` the notifier is built after the
agent's spawn, in a worker thread, and then sees every event of the task from its start:
the path from exec to spawn stays lean (docs/performance.md).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING

from ado.orchestrator.hooks import HookChain, OnUpdate, RunnerHooks

if TYPE_CHECKING:
    from ado.config.loader import LoadedConfig
    from ado.config.overrides import KeyValues
    from ado.config.schema import AdoConfig
    from ado.config.source import ConfigSource
    from ado.orchestrator.runner import Runner
    from ado.orchestrator.start import TaskStart
    from ado.server.reload import FollowingNotifier
    from ado.store import Store
    from ado.store.methods import SqlMethods
    from ado.telemetry.instrument import RunnerTelemetry

__all__ = ["Services", "build_runner", "build_start", "effective_config"]

#: Seconds a process waits, at most, for pending notifications before it exits.
NOTIFY_FLUSH_TIMEOUT = 5.0


def effective_config(
    source: LoadedConfig | AdoConfig | Callable[[], AdoConfig], store: KeyValues | None = None
) -> AdoConfig:
    """The configuration a Runner gets: the file with what was saved through the API in
    ``store`` (``ado.config.resolve``, secrets decrypted). The one resolution every runner
    path calls:

    - ``ado run``: the ``LoadedConfig`` and the store; served from the cache of validated
      configurations when nothing changed (``ado.config.cache``), so no pydantic model is
      built before the agent spawns;
    - the worker pool: its ``ConfigSource`` (``ado serve``'s current resolution), or any
      callable giving the configuration;
    - an ``AdoConfig`` built in code, resolved with ``store``.
    """
    from ado.config.loader import LoadedConfig

    if isinstance(source, LoadedConfig):
        from ado.config.cache import effective

        return effective(source, store)
    if callable(source):
        return source()
    from ado.config.resolve import resolve

    return resolve(source, store, decrypt=True).config


def build_runner(
    config: AdoConfig,
    store: SqlMethods,
    services: Services | None = None,
    *,
    hooks: Sequence[RunnerHooks] = (),
    confirm: Callable[[str], bool] | None = None,
) -> Runner:
    """A Runner on ``config`` (resolved), recording into ``store``, reporting to ``hooks``
    (a live view…) then to the process's ``services`` (notifications, telemetry)."""
    from ado.orchestrator.runner import Runner

    return Runner.from_start(build_start(config, store, services, hooks=hooks, confirm=confirm))


def build_start(
    config: AdoConfig,
    store: SqlMethods,
    services: Services | None = None,
    *,
    hooks: Sequence[RunnerHooks] = (),
    confirm: Callable[[str], bool] | None = None,
) -> TaskStart:
    """What ``build_runner``'s Runner starts tasks with, without the Runner (nor asyncio):
    ``ado run`` begins its task with it, then goes on with ``Runner.from_start``."""
    from functools import partial

    from ado.orchestrator.caps import EventCaps
    from ado.orchestrator.start import TaskStart
    from ado.providers import get_configured_adapter

    shared = services.hooks() if services is not None else []
    storage = config.storage
    return TaskStart(
        config,
        store,
        hooks=HookChain([*hooks, *shared]),
        adapters=partial(get_configured_adapter, config),
        caps=EventCaps(storage.max_events_per_task, storage.max_bytes_per_task),
        confirm=confirm,
    )


class Services:
    """What every Runner of one process reports to: notifications and telemetry."""

    def __init__(
        self,
        *,
        telemetry: RunnerTelemetry | None = None,
        notifier: RunnerHooks | None = None,
    ) -> None:
        self.telemetry = telemetry
        self.notifier = notifier
        #: ``ado serve``'s notifier (``ado.server.reload.FollowingNotifier``), else None.
        self.following: FollowingNotifier | None = None

    @classmethod
    def for_run(cls, config: AdoConfig, base_dir: str, *, debug: bool = False) -> Services:
        """For one ``ado run``: telemetry when enabled; the notifier, when notifications are
        on, built after the agent's spawn (``LateNotifier``) with its own ``Store`` for the
        alert history."""
        from ado.telemetry import start_for_run

        telemetry = start_for_run(config, debug=debug)
        notifier = None
        if _may_notify(config):
            from ado.orchestrator.notifier import LateNotifier

            notifier = LateNotifier(config, base_dir)
        return cls(telemetry=telemetry, notifier=notifier)

    @classmethod
    def for_server(cls, source: ConfigSource, store: Store) -> Services:
        """For ``ado serve``: the server's telemetry (``/metrics``, OTLP when enabled) and a
        notifier following the effective notifications settings (``FollowingNotifier``:
        each task gets the manager of the settings current when it starts)."""
        from ado.server.reload import FollowingNotifier
        from ado.telemetry import start_for_server

        services = cls(telemetry=start_for_server(source(), store))
        services.following = FollowingNotifier(source, store)
        return services

    def hooks(self) -> list[RunnerHooks]:
        """The hooks of one new Runner (from any thread: a pool builds its tasks' starts in
        worker threads)."""
        notifier = self.notifier
        if self.following is not None:
            notifier = OnUpdate(self.following.listener())
        return [h for h in (notifier, self.telemetry) if h is not None]

    async def aclose(self, grace: float = NOTIFY_FLUSH_TIMEOUT) -> None:
        """Deliver pending notifications (bounded by ``grace`` seconds)."""
        if (close := getattr(self.notifier, "aclose", None)) is not None:
            await close(grace)
        if self.following is not None:
            await self.following.aclose(grace)

    def shutdown(self) -> None:
        """Flush and stop telemetry (bounded by ``flushTimeout``)."""
        if self.telemetry is not None:
            self.telemetry.shutdown()


def _may_notify(config: AdoConfig) -> bool:
    """Notifications on and a channel enabled (whether it is fully set up is the manager's
    to say); read from the configuration alone, importing nothing of the channels."""
    from ado.config.snapshot import field_names

    settings = config.notifications
    if not settings.enabled:
        return False
    channels = settings.channels
    found = [getattr(channels, name) for name in field_names(channels)]
    found += (channels.model_extra or {}).values()
    return any(
        bool(c.get("enabled")) if isinstance(c, dict) else bool(getattr(c, "enabled", False))
        for c in found
    )
