"""The API's OpenAPI schema, as the dashboard's TypeScript client is generated from it.

``python -m ado.dashboard.openapi`` prints it; ``scripts/build_dashboard`` writes it to
``dashboard/openapi.json`` and generates ``dashboard/src/api/schema.ts`` from that file,
and a test checks the committed copy still matches the app.
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["openapi_json", "openapi_schema"]


def openapi_schema() -> dict[str, Any]:
    """The schema of ``create_app``, built over a throwaway store (the schema never reads it)."""
    from ado.api.app import create_app
    from ado.config.loader import LoadedConfig
    from ado.config.schema import AdoConfig
    from ado.store import Store

    with tempfile.TemporaryDirectory(prefix="ado-openapi-") as tmp:
        store = Store(f"sqlite:///{Path(tmp) / 'state.db'}")
        try:
            loaded = LoadedConfig(config=AdoConfig(), path=None, base_dir=Path(tmp))
            app = create_app(loaded_config=loaded, store=store)
            return app.openapi()
        finally:
            store.close()


def openapi_json() -> str:
    """The schema as ``dashboard/openapi.json`` holds it."""
    return json.dumps(openapi_schema(), indent=2, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    sys.stdout.write(openapi_json())
