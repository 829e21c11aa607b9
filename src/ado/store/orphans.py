"""Tasks left ``running`` by an ADO process that is gone (kill -9, a crash, power loss).

Each opening of the store (``ado run``, ``ado status``, a worker pool's start) marks the
running tasks of this host whose process is dead as ``interrupted``, and stops the process
groups of their agents. The tasks of a registered worker pool found lost go first, by its
``orchestration.onWorkerLost`` (``ado.store.registry``). A task with no owner counts as
orphaned too. A parked task is an orphan only when it has an owner (an ``ado run --wait``,
gone): one parked in the queue has none, and a pool resumes it at its time.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from typing import Any

from ado.host import hostname
from ado.providers.orphans import kill_orphaned_group
from ado.store.sql import SqlConnection
from ado.vocab import OutcomeKind, TaskStatus

__all__ = ["mark_orphans_interrupted", "pid_alive", "release_task"]


def mark_orphans_interrupted(sql: SqlConnection) -> int:
    """Mark 'interrupted' the running tasks of this host whose ADO process is gone.

    A task with no owner counts as orphaned too; the process groups of their running agents
    are stopped. Returns how many tasks were marked. Takes the write lock only when there
    are some, so ``ado status`` does not queue behind a running ``ado run`` for nothing.
    Their unfinished notifications are marked abandoned too (``ado.store.alert_orphans``).
    """
    from ado.store.alert_orphans import abandon_orphaned_alerts
    from ado.store.registry import take_lost_workers

    abandon_orphaned_alerts(sql, pid_alive)
    # First the registered worker pools found lost: their tasks follow their onWorkerLost.
    lost = sum(len(worker.task_ids) for worker in take_lost_workers(sql))
    with sql.transaction(write=False):
        if not _orphans(sql):
            return lost
    now = sql.time(datetime.now(UTC))
    with sql.transaction(write=True):
        orphans = _orphans(sql)
        for task_id, pid in orphans:
            owner = pid if pid is not None else "(unknown)"
            error = f"ADO process {owner} exited while the task was running"
            release_task(sql, task_id, now=now, error=error)
        return lost + len(orphans)


def release_task(
    sql: SqlConnection, task_id: int, *, now: Any, error: str, requeue: bool = False
) -> None:
    """Take task ``task_id`` from a process that is gone (or lost): its running attempts
    end ``interrupted`` and their agents' process groups on this host are stopped; the task
    is marked ``interrupted`` with ``error``, or (``requeue``) queued again for any pool.
    ``now`` is in the store's form (``sql.time``); call it inside a write transaction."""
    params = {"now": now, "id": task_id, "error": error}
    if requeue:
        sql.execute(
            f"UPDATE tasks SET status = '{TaskStatus.QUEUED}', owner_host = NULL,"
            " owner_pid = NULL, updated_at = :now"
            f" WHERE id = :id AND status = '{TaskStatus.RUNNING}'",
            params,
        )
    else:
        sql.execute(
            f"UPDATE tasks SET status = '{TaskStatus.INTERRUPTED}', finished_at = :now,"
            " updated_at = :now, error = :error"
            f" WHERE id = :id AND status IN ('{TaskStatus.RUNNING}', '{TaskStatus.PARKED}')",
            params,
        )
    running = f"task_id = :id AND outcome = '{OutcomeKind.RUNNING}'"
    for agent_pid, mark in sql.rows(
        f"SELECT agent_pid, agent_mark FROM attempts WHERE {running} AND agent_pid IS NOT NULL",
        {"id": task_id},
    ):
        kill_orphaned_group(int(agent_pid), mark)
    sql.execute(
        f"UPDATE attempts SET outcome = '{OutcomeKind.INTERRUPTED}', finished_at = :now"
        f" WHERE {running}",
        {"now": now, "id": task_id},
    )


def _orphans(sql: SqlConnection) -> list[tuple[int, int | None]]:
    host = hostname()
    return [
        (task_id, pid)
        for task_id, owner_host, pid in sql.rows(
            "SELECT id, owner_host, owner_pid FROM tasks"
            f" WHERE status = '{TaskStatus.RUNNING}'"
            f" OR (status = '{TaskStatus.PARKED}' AND owner_pid IS NOT NULL) ORDER BY id"
        )
        if pid is None or owner_host is None or (owner_host == host and not pid_alive(pid))
    ]


def pid_alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # it exists, under another user
    except OSError:
        return False
    return True
