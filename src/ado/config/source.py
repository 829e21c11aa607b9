"""The effective configuration of a long-running process (``ado serve``).

    source = ConfigSource(loaded, store, reload=lambda: load_config(path, cwd))
    source()                  # the effective AdoConfig (blocks: a store read when stale)
    await source.aget()       # the same, the store read in a worker thread
    source.latest             # the last one resolved, without I/O
    source.reload_file()      # re-read ado.config.yaml; an invalid file keeps the last good one

One ``ConfigSource`` serves the API's routes, the worker pool, the notifier and telemetry, so
they all see the same resolution (``ado.config.resolve``). What was saved through this
server applies at once (``invalidate``); what another process saved within ``ttl`` seconds.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ado.config.overrides import SETTINGS_KEY, SWITCHES_KEY, KeyValues
from ado.config.resolve import Resolved, resolve
from ado.config.secrets import SecretBox
from ado.errors import ConfigError

if TYPE_CHECKING:
    from ado.config.loader import LoadedConfig
    from ado.config.schema import AdoConfig

__all__ = ["ConfigSource", "SavedLayer"]


class ConfigSource:
    def __init__(
        self,
        loaded: LoadedConfig,
        store: KeyValues,
        *,
        reload: Callable[[], LoadedConfig] | None = None,
        ttl: float = 1.0,
        box: SecretBox | None = None,
    ) -> None:
        self.loaded = loaded
        self.store = store
        self.ttl = ttl
        self.box = box or SecretBox()
        #: Incremented each time the file is reloaded.
        self.generation = 0
        self._reload = reload
        self._lock = threading.Lock()
        #: Held while a save reads, changes and writes the saved layer (no lost update
        #: between two saves through this process).
        self.saving = threading.Lock()
        self._resolved: Resolved | None = None
        self._key: tuple[Any, ...] | None = None
        self._at = 0.0

    def __call__(self) -> AdoConfig:
        return self.resolved().config

    async def aget(self) -> AdoConfig:
        return (await self.aresolved()).config

    async def aresolved(self) -> Resolved:
        """``resolved()``, the store read (when stale) in a worker thread."""
        resolved = self._fresh()
        if resolved is not None:
            return resolved
        import anyio.to_thread

        return await anyio.to_thread.run_sync(self.resolved)

    def resolved(self) -> Resolved:
        """The resolution; the same object as long as neither the file nor the saved layer
        changed (consumers may compare it with ``is``)."""
        fresh = self._fresh()
        if fresh is not None:
            return fresh
        settings = self.store.get_value(SETTINGS_KEY)
        switches = self.store.get_value(SWITCHES_KEY)
        with self._lock:
            loaded, generation = self.loaded, self.generation
            key = (generation, settings, switches)
            if self._resolved is not None and self._key == key:
                self._at = time.monotonic()
                return self._resolved
        resolved = resolve(loaded, SavedLayer(settings, switches), decrypt=self.box)
        with self._lock:
            if self.generation == generation:
                self._resolved, self._key, self._at = resolved, key, time.monotonic()
        return resolved

    @property
    def latest(self) -> AdoConfig:
        """The last effective configuration resolved (resolving once if none was)."""
        resolved = self._resolved
        return resolved.config if resolved is not None else self()

    def invalidate(self) -> None:
        with self._lock:
            self._at = 0.0

    def reload_file(self) -> ConfigError | None:
        """Read the configuration file again. On success the new file applies to what comes
        next (requests, tasks); an invalid file is refused: the error is returned and the
        last good configuration stays."""
        if self._reload is None:
            return None
        try:
            loaded = self._reload()
        except ConfigError as exc:
            return exc
        if loaded.path is None and self.loaded.path is not None:
            return ConfigError(
                "the configuration file is gone; the last one read stays in force",
                file=str(self.loaded.path),
                fix="restore the file (or restart `ado serve` to run on the defaults)",
            )
        with self._lock:
            self.loaded = loaded
            self.generation += 1
            self._at = 0.0
        return None

    def _fresh(self) -> Resolved | None:
        resolved = self._resolved
        if resolved is not None and time.monotonic() - self._at < self.ttl:
            return resolved
        return None


class SavedLayer:
    """The saved layer already read (``ConfigSource``: one read per refresh, outside the
    lock)."""

    def __init__(self, settings: Any, switches: Any) -> None:
        self._values = {SETTINGS_KEY: settings, SWITCHES_KEY: switches}

    def get_value(self, key: str) -> dict[str, Any] | None:
        value: dict[str, Any] | None = self._values.get(key)
        return value
