"""Group commit for ``POST /api/tasks``: queued-task INSERTs of concurrent requests share
one transaction.

A request hands its task to ``TaskWriter.create`` and awaits the id. One writer thread
takes everything pending, inserts it in a single transaction (plain SQL,
``Store.insert_queued_tasks``) and resolves the requests' futures; tasks arriving meanwhile
form the next batch. Under load a commit serves tens of requests; alone, a request waits
for one small transaction, as before. The event loop never blocks on the database.
"""

from __future__ import annotations

import asyncio
import threading
from collections import defaultdict
from typing import TYPE_CHECKING

from ado.errors import StoreError

if TYPE_CHECKING:
    from ado.store import Store
    from ado.store.browse import NewTask

__all__ = ["TaskWriter"]

_Pending = tuple["NewTask", "asyncio.Future[int]"]


class TaskWriter:
    def __init__(self, store: Store) -> None:
        self.store = store
        self._pending: list[_Pending] = []
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._closed = False
        #: Batches committed and tasks written (for the benchmark's report).
        self.batches = 0
        self.written = 0

    async def create(self, task: NewTask) -> int:
        """Insert ``task`` as queued (with others pending now); its id."""
        future: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        with self._lock:
            if self._closed:
                raise StoreError("the server is shutting down; no new tasks are taken")
            self._pending.append((task, future))
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="ado-task-writer", daemon=True
                )
                self._thread.start()
        self._wake.set()
        return await future

    def close(self, timeout: float = 10.0) -> None:
        """Write what is pending, then stop the thread."""
        with self._lock:
            self._closed = True
            thread = self._thread
        self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self) -> None:
        while True:
            self._wake.wait()
            with self._lock:
                batch, self._pending = self._pending, []
                self._wake.clear()
                closed = self._closed
            if batch:
                self._write(batch)
            elif closed:
                return

    def _write(self, batch: list[_Pending]) -> None:
        ids: list[int] = []
        error: BaseException | None = None
        try:
            ids = self.store.insert_queued_tasks([task for task, _ in batch])
        except Exception as exc:
            error = exc
        else:
            self.batches += 1
            self.written += len(ids)
        by_loop: dict[asyncio.AbstractEventLoop, list[tuple[asyncio.Future[int], int]]]
        by_loop = defaultdict(list)
        for index, (_, future) in enumerate(batch):
            by_loop[future.get_loop()].append((future, ids[index] if error is None else 0))
        for loop, results in by_loop.items():
            try:
                loop.call_soon_threadsafe(_resolve, results, error)
            except RuntimeError:
                pass  # that loop is closed: nobody waits any more


def _resolve(results: list[tuple[asyncio.Future[int], int]], error: BaseException | None) -> None:
    for future, task_id in results:
        if future.done():
            continue
        if error is not None:
            future.set_exception(error)
        else:
            future.set_result(task_id)
