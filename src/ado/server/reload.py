"""What keeps ``ado serve`` on the current configuration without a restart.

- ``ConfigWatcher`` polls ``ado.config.yaml`` (its size, mtime and inode, once a second) and
  reloads it when it changes or on SIGHUP. A file that became invalid is refused with the
  usual ``file:line`` error, logged, and the last good configuration stays in force. Storage
  and observability changes are noted as taking effect at the next start (the database and
  the exporters are opened once).
- ``FollowingNotifier`` gives each task the notification manager of the effective
  configuration at the time: a new one when the ``notifications`` settings changed (an
  edited file or a save in the dashboard); the replaced ones are closed on shutdown.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ado.errors import ConfigError

if TYPE_CHECKING:
    from ado.config.source import ConfigSource
    from ado.notifications import NotificationManager
    from ado.store import Store

__all__ = ["POLL_INTERVAL", "ConfigWatcher", "FollowingNotifier"]

log = logging.getLogger("ado.server")

#: Seconds between two looks at the configuration file.
POLL_INTERVAL = 1.0
#: A change is read once the file stayed the same this long (an editor still writing).
SETTLE = 0.1
#: Sections read once at start-up (the database, the exporters, the listening rules).
_AT_START = ("storage", "observability", "server")

Fingerprint = tuple[tuple[str, int, int, int] | None, ...]


class ConfigWatcher:
    def __init__(
        self,
        source: ConfigSource,
        paths: list[Path],
        *,
        say: Callable[[str], None],
        interval: float = POLL_INTERVAL,
    ) -> None:
        self.source = source
        self.paths = paths
        self.say = say
        self.interval = interval
        self._poke = asyncio.Event()
        self._hup = False
        self._stopping = False

    def hangup(self) -> None:
        """SIGHUP: reload now, changed or not."""
        self._hup = True
        self._poke.set()

    def stop(self) -> None:
        self._stopping = True
        self._poke.set()

    async def run(self) -> None:
        last = await asyncio.to_thread(self.fingerprint)
        while not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._poke.wait(), self.interval)
            self._poke.clear()
            if self._stopping:
                return
            hup, self._hup = self._hup, False
            now = await asyncio.to_thread(self.fingerprint)
            if now == last and not hup:
                continue
            while True:  # let a writer finish
                await asyncio.sleep(SETTLE)
                settled = await asyncio.to_thread(self.fingerprint)
                if settled == now:
                    break
                now = settled
            last = now
            await asyncio.to_thread(self.reload, "SIGHUP" if hup else "the file changed")

    def fingerprint(self) -> Fingerprint:
        out: list[tuple[str, int, int, int] | None] = []
        for path in self.paths:
            try:
                st = os.stat(path)
            except OSError:
                out.append(None)
                continue
            out.append((str(path), st.st_mtime_ns, st.st_size, st.st_ino))
        return tuple(out)

    def reload(self, why: str) -> bool:
        """Read the file again; False (logged) when it is refused."""
        before = self.source.loaded
        error = self.source.reload_file()
        if error is not None:
            log.error("configuration not reloaded (%s); the last good one stays: %s", why, error)
            return False
        after = self.source.loaded
        self.say(f"configuration reloaded from {after.path or 'the defaults'} ({why})")
        for section in _AT_START:
            if getattr(before.config, section) != getattr(after.config, section):
                log.warning("%s changed: it takes effect at the next start of ado serve", section)
        try:
            self.source.resolved()
        except ConfigError as exc:  # the saved settings do not fit the new file
            log.error("the saved settings do not apply over the new file: %s", exc)
        return True


class FollowingNotifier:
    """The notifier of the effective configuration, rebuilt when its settings change."""

    def __init__(self, source: ConfigSource, store: Store) -> None:
        self.source = source
        self.store = store
        self._settings: Any = None
        self._current: NotificationManager | None = None
        self._listener: Any = None
        self._all: list[NotificationManager] = []
        #: A pool begins its tasks in worker threads (``WorkerPool._begin``), several at once.
        self._lock = threading.Lock()

    def listener(self) -> Callable[[Any], None]:
        """The ``on_update`` of the notifier current now (from any thread; the manager works
        in the event loop that calls it)."""
        from ado.notifications import NotificationManager

        latest = self.source.latest
        settings = (latest.notifications, latest.routing.quota)
        with self._lock:
            if self._current is None or settings != self._settings:
                if self._current is not None:
                    log.info("notification settings changed: new tasks use the new ones")
                self._current = NotificationManager(
                    latest.notifications, store=self.store, quota=latest.routing.quota
                )
                self._settings = settings
                self._listener = self._current.listener().on_update
                self._all.append(self._current)
            on_update: Callable[[Any], None] = self._listener
        return on_update

    async def aclose(self, grace: float = 5.0) -> None:
        with self._lock:
            managers = list(self._all)
        for manager in managers:
            await manager.aclose(grace=grace)
