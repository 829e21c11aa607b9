"""The REST API served by ``ado serve`` (FastAPI): see ``docs/api.md``.

from ado.api import create_app
app = create_app(loaded_config=loaded, store=store, require_auth=False)
"""

from __future__ import annotations

from ado.api.app import create_app
from ado.api.auth import verify_token
from ado.api.ratelimit import RateLimit

__all__ = ["RateLimit", "create_app", "verify_token"]
