"""What every command shares: the configuration and the store, opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from ado.config.loader import LoadedConfig
    from ado.store import SqlStore, Store


@dataclass
class AppContext:
    config_path: str | None = None
    debug: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    _loaded: LoadedConfig | None = None
    _store: Store | None = None
    _reader: SqlStore | None = None

    @property
    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            from ado.config import load_config

            self._loaded = load_config(self.config_path, self.cwd)
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
        if self._reader is None:
            from ado.store.sqlstore import SqlStore

            self._reader = SqlStore.open(self.loaded.config, self.loaded.base_dir)
            if self._reader is None:
                return self.store
        return self._reader

    def close(self) -> None:
        if self._reader is not None:
            self._reader.close()
            self._reader = None
        if self._store is not None:
            self._store.close()
            self._store = None


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)
