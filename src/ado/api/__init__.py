"""The REST API served by ``ado serve`` (FastAPI): see ``docs/api.md``.

from ado.api import create_app
app = create_app(loaded_config=loaded, store=store, require_auth=False)

Its modules load on first use: ``ado.api.schemas`` and ``ado.api.wire`` (the JSON shapes,
which every CLI ``--json`` shares) never import FastAPI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from ado._lazy import lazy_exports

if TYPE_CHECKING:
    from ado.api.app import create_app
    from ado.api.auth import verify_token
    from ado.api.ratelimit import RateLimit

__all__ = ["RateLimit", "create_app", "verify_token"]

__getattr__ = lazy_exports(
    __name__, {"RateLimit": "ratelimit", "create_app": "app", "verify_token": "auth"}
)
