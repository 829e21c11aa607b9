"""What every command shares: the configuration and the store, opened on first use."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from ado.config.loader import LoadedConfig
    from ado.config.overrides import KeyValues
    from ado.config.resolve import Resolved
    from ado.config.schema import AdoConfig
    from ado.store import SqlStore, Store


class AppContext:
    """A command's configuration and store (``ctx.obj``)."""

    def __init__(self, config_path: str | None = None, debug: bool = False) -> None:
        self.config_path = config_path
        self.debug = debug
        #: The working directory (a ``str``, as the configuration's paths: ``ado.config.loader``).
        self.cwd = os.getcwd()
        #: Print the configuration's warnings on stderr when it is loaded (once per
        #: command); ``ado config validate`` lists them itself.
        self.print_warnings = True
        #: Read the configuration through the cache of validated ones
        #: (``ado.config.cache``): ``ado run``, which needs no line numbers or origins, only
        #: the values.
        self.config_cache = False
        self._loaded: LoadedConfig | None = None
        self._store: Store | None = None
        self._reader: SqlStore | None = None
        self._reader_tried = False
        #: ``ado run``: the plain-SQL store's orphan sweep waits for ``sweep_orphans()``,
        #: called once its agent has spawned (off the exec → spawn path).
        self.sweep_later = False
        self._resolved: dict[bool, Resolved] = {}

    @property
    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            if self.config_cache:
                from ado.config.cache import load
            else:
                from ado.config import load_config as load

            self._loaded = load(self.config_path, self.cwd)
            if self.print_warnings:
                print_config_warnings(self._loaded.warnings)
        return self._loaded

    @property
    def store(self) -> Store:
        """The store, migrated, with tasks orphaned by a dead ADO process marked interrupted."""
        if self._store is None:
            from ado.store import Store

            self._store = Store.open(self.loaded.config, self.loaded.base_dir)
            self._store.mark_orphans_interrupted()
        return self._store

    @property
    def reader(self) -> SqlStore | Store:
        """What ``ado status`` reads and ``ado run`` writes its task through: a ``SqlStore``
        on a plain DB-API connection, without importing SQLAlchemy, orphaned tasks marked
        interrupted; the full ``store`` when that cannot serve (no database yet, schema to
        migrate)."""
        if self._store is not None:
            return self._store
        return self.reader_if_any() or self.store

    def resolve(self, *, decrypt: bool = False) -> Resolved:
        """The effective configuration (``ado.config.resolve``): the file with the settings
        and provider switches saved through the API applied. ``decrypt``: saved secrets
        usable (``ado run``), else masked (commands that only show them)."""
        if decrypt not in self._resolved:
            from ado.config.resolve import resolve

            self._resolved[decrypt] = resolve(
                self.loaded,
                self.reader if decrypt else self._saved_layer_or_warn(),
                decrypt=decrypt,
            )
        return self._resolved[decrypt]

    def forget_config(self) -> None:
        """Read the configuration again on next use (after ``ado config set`` wrote it)."""
        self._loaded = None
        self._resolved.clear()

    @property
    def config(self) -> AdoConfig:
        """The effective configuration, saved secrets masked (for commands that show it)."""
        config: AdoConfig = self.resolve().config
        return config

    def saved_layer(self) -> KeyValues | None:
        """Where the saved settings are read: the open store, else the plain-SQL reader;
        None when there is no database yet (nothing was saved)."""
        if self._store is not None:
            return self._store
        reader = self.reader_if_any()
        if reader is not None:
            return reader
        from ado.store.urls import DbUrl, store_url

        url = DbUrl.parse(store_url(self.loaded.config, self.loaded.base_dir))
        if url.dialect == "sqlite" and not (url.database and os.path.exists(url.database)):
            return None
        return self.store

    def _saved_layer_or_warn(self) -> KeyValues | None:
        from ado.errors import StoreError

        try:
            return self.saved_layer()
        except StoreError as exc:
            console(stderr=True).print(
                f"[yellow]⚠ the settings saved through the API cannot be read ({exc.message}); "
                "showing the file's values[/]",
                soft_wrap=True,
            )
            return None

    def reader_if_any(self) -> SqlStore | None:
        if self._reader is None and not self._reader_tried:
            from ado.store.sqlstore import SqlStore

            self._reader_tried = True
            self._reader = SqlStore.open(
                self.loaded.config, self.loaded.base_dir, sweep=not self.sweep_later
            )
        return self._reader

    def sweep_orphans(self) -> None:
        """The orphan sweep ``sweep_later`` put off (``SqlStore.mark_orphans_interrupted``),
        once. A store error is left for the next opening to meet: the task has begun."""
        if not self.sweep_later:
            return
        self.sweep_later = False
        if self._reader is not None:
            from ado.errors import StoreError

            try:
                self._reader.mark_orphans_interrupted()
            except StoreError:
                pass

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._store is not None:
            self._store.close()
            self._store = None


def print_config_warnings(warnings: list[str]) -> None:
    """The configuration's warnings, one line each, on stderr."""
    import sys

    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)
