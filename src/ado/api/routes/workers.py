"""``/api/workers``: the worker registry, every live worker pool and what it runs."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter
from starlette.responses import Response

from ado.api import wire
from ado.api.deps import StoreDep
from ado.api.responses import json_response
from ado.api.schemas import WorkerOut

router = APIRouter(prefix="/api/workers", tags=["workers"])


@router.get("", operation_id="listWorkers", response_model=list[WorkerOut])
async def list_workers(store: StoreDep) -> Response:
    """The live worker pools (`ado serve`'s, `ado worker`), by host and pid: concurrency,
    queues, heartbeat and its age, the tasks each runs, the tasks each finished. A pool
    missing its heartbeats for orchestration.workerTimeout is lost and leaves the list
    (docs/workers.md)."""
    workers = await asyncio.to_thread(store.list_workers)
    return json_response(wire.WORKER.many(workers))
