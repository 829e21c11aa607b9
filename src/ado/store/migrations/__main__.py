"""Write a new migration by comparing the models with a database migrated to head."""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

from alembic import command
from alembic.config import Config

from ado.store.database import HEAD, MIGRATIONS_DIR, Store


def main() -> None:
    if len(sys.argv) != 2:
        sys.exit('usage: python -m ado.store.migrations "what the migration does"')
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'state.db'}")
        store.migrate()
        config = Config()
        config.set_main_option("script_location", str(MIGRATIONS_DIR))
        with store._engine.begin() as conn:
            config.attributes["connection"] = conn
            command.revision(
                config, message=sys.argv[1], autogenerate=True, rev_id=f"{int(HEAD) + 1:04d}"
            )
        store.close()


if __name__ == "__main__":
    main()
