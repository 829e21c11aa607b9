"""``ado serve``: the API, the dashboard, the worker pool and the live bus in one process.

- ``workers.WorkerPool`` runs queued tasks through the ``Runner`` the composition root
  (``ado.orchestrator.compose``) builds; cancelling is ``ado.orchestrator.cancel``.
- ``live.LiveBus`` polls the store and streams events, task and provider changes.
- ``serve.serve`` runs it all under uvicorn, with a graceful shutdown.
"""

from __future__ import annotations

from ado.server.live import LiveBus, Subscription
from ado.server.workers import WorkerPool

__all__ = ["LiveBus", "Subscription", "WorkerPool"]
