"""What every command shares: the configuration and the store, opened on first use."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rich.console import Console

    from ado.config.loader import LoadedConfig
    from ado.store import Store, StoreReader


@dataclass
class AppContext:
    config_path: str | None = None
    debug: bool = False
    cwd: Path = field(default_factory=Path.cwd)
    #: Print the configuration's warnings on stderr when it is loaded (once per command);
    #: ``ado config validate`` lists them itself.
    print_warnings: bool = True
    _loaded: LoadedConfig | None = None
    _store: Store | None = None
    _reader: StoreReader | None = None

    @property
    def loaded(self) -> LoadedConfig:
        if self._loaded is None:
            from ado.config import load_config

            self._loaded = load_config(self.config_path, self.cwd)
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
    def reader(self) -> StoreReader | Store:
        """What read-only commands (``ado status``) query: a ``StoreReader`` on a plain DB-API
        connection, without importing SQLAlchemy, orphaned tasks marked interrupted; the
        full ``store`` when the reader cannot serve (no database yet, schema to migrate)."""
        if self._store is not None:
            return self._store
        if self._reader is None:
            from ado.store.reader import StoreReader

            self._reader = StoreReader.open(self.loaded.config, self.loaded.base_dir)
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


def print_config_warnings(warnings: list[str]) -> None:
    """The configuration's warnings, one line each, on stderr."""
    import sys

    for line in warnings:
        print(f"warning: {line}", file=sys.stderr)


def console(stderr: bool = False) -> Console:
    from rich.console import Console

    return Console(stderr=stderr, highlight=False, soft_wrap=False)
