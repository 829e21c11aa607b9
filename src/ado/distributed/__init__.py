"""The celery executor: tasks queued by ``ado serve`` run on ``ado worker`` processes.

    settings.py   the broker URL, the shared-store check, which queue a task goes to
                  (no Celery import)
    app.py        the Celery app: acks_late, prefetch 1, the visibility timeout
    dispatch.py   ``ado serve``'s side: each queued task sent as one message; a sweep
                  sends again what the broker lost
    worker.py     ``ado worker``: a Celery worker whose messages are run by a
                  ``WorkerPool`` (``claims=False``), the same Runner as ``ado run``

The store stays the truth: a task is ``queued`` in PostgreSQL before its message is sent,
and a message only names it. Whoever receives the message claims the task in the store
(``writes.claim_task``, one conditional UPDATE) before starting an agent, so a message
delivered twice (Celery delivers at least once) never starts a second agent. See
docs/scaling.md.
"""
