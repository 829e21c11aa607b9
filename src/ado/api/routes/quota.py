"""``/api/quota``: the quota ledger, every usage window of every provider id (account)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from fastapi import APIRouter
from starlette.responses import Response

from ado.api import wire
from ado.api.deps import ConfigDep, StoreDep
from ado.api.responses import json_response
from ado.api.schemas import QuotaOut

router = APIRouter(prefix="/api/quota", tags=["providers"])


@router.get("", operation_id="getQuota", response_model=QuotaOut)
async def get_quota(store: StoreDep, config: ConfigDep) -> Response:
    """Each provider's usage windows: how much is used, when each resets, where the reading
    came from and how old it is, when at the current pace the window runs out, and the
    thresholds routing.quota.warnAt and stopAt (docs/routing.md, "The quota ledger")."""
    from ado.routing.quota import snapshot

    body = await asyncio.to_thread(snapshot, store, config, datetime.now(UTC))
    return json_response(wire.QUOTA(body))
