"""The worker registry: every live worker pool (``ado serve``'s, ``ado worker``) in the
``workers`` table, with its heartbeat, and what becomes of one that is lost.

    register_worker(sql, hostname=..., pid=..., kind=..., ...)  # at the pool's start
    beat(sql, hostname, pid, ...)      # every third of its timeout; False: found lost meanwhile
    take_lost_workers(sql)             # every live pool at each beat, and each store opening
    unregister_worker(sql, hostname, pid)                       # at a clean stop
    list_workers(sql)                  # ado workers, GET /api/workers

A worker is lost when its ``expires_at`` (its last beat + its ``orchestration.workerTimeout``)
has passed, or at once when it ran on this host and its process is gone. Whoever sees it
first takes it, in one transaction: a DELETE of its row that only matches the row it saw
(the same heartbeat), then the worker's own ``onWorkerLost`` applied to the tasks it ran
(``running``, owned by its host and pid): ``interrupted``, or queued again. Of two pools
racing, the second's DELETE matches nothing and it does nothing. The running attempts end
``interrupted`` and their agents, when on this host, are stopped
(``ado.store.orphans.release_task``). A worker's running tasks are not copied into its row:
they are the tasks it owns, read when listed.

Times come from each process's clock: the hosts of one store keep theirs in sync (NTP).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from ado.host import hostname
from ado.records import Record
from ado.store.codec import decode, encode_json, utcnow
from ado.store.orphans import pid_alive, release_task
from ado.store.sql import SqlConnection
from ado.vocab import TaskStatus, WorkerLostPolicy

if TYPE_CHECKING:
    from ado.store.views import WorkerView

__all__ = [
    "LostWorker",
    "beat",
    "is_worker",
    "list_workers",
    "register_worker",
    "take_lost_workers",
    "unregister_worker",
]

_COLUMNS = (
    "hostname",
    "pid",
    "name",
    "kind",
    "concurrency",
    "queues",
    "on_lost",
    "tasks_done",
    "started_at",
    "heartbeat_at",
    "expires_at",
)


#: Why a pool on this host whose process is gone counts as lost.
_EXITED = "exited"


class LostWorker(Record):
    """A worker found lost, and what was done with the tasks it ran."""

    __slots__ = ("hostname", "pid", "on_lost", "task_ids", "why")

    def __init__(
        self, hostname: str, pid: int, on_lost: str, task_ids: tuple[int, ...], why: str
    ) -> None:
        self.hostname = hostname
        self.pid = pid
        #: a WorkerLostPolicy value: how its tasks were released
        self.on_lost = on_lost
        self.task_ids = task_ids
        #: Why it counts as lost, for the log and the tasks' error: ``exited``, or ``went
        #: silent (no heartbeat for 31 s)``.
        self.why = why


def register_worker(
    sql: SqlConnection,
    *,
    hostname: str,
    pid: int,
    kind: str,
    concurrency: int,
    queues: Sequence[str],
    on_lost: str,
    timeout: float,
    name: str | None = None,
) -> list[LostWorker]:
    """Register the pool of process ``pid`` on ``hostname``. A row already there under the
    same host and pid belongs to a process that is gone (its pid reused: a restarted
    container) and is taken as lost first; returned."""
    now = utcnow()
    with sql.transaction(write=True):
        lost = [
            worker
            for (seen,) in sql.rows(
                "SELECT heartbeat_at FROM workers WHERE hostname = :hostname AND pid = :pid",
                {"hostname": hostname, "pid": pid},
            )
            if (worker := _lose(sql, hostname, pid, seen, _EXITED, now))
        ]
        sql.execute(
            "INSERT INTO workers (hostname, pid, name, kind, concurrency, queues, on_lost,"
            " tasks_done, started_at, heartbeat_at, expires_at) VALUES (:hostname, :pid, :name,"
            f" :kind, :concurrency, {sql.json('queues')}, :on_lost, 0, :now, :now, :expires)",
            {
                "hostname": hostname,
                "pid": pid,
                "name": name,
                "kind": str(kind),
                "concurrency": concurrency,
                "queues": encode_json(list(queues)),
                "on_lost": str(on_lost),
                "now": sql.time(now),
                "expires": sql.time(now + timedelta(seconds=timeout)),
            },
        )
    return lost


def beat(
    sql: SqlConnection,
    hostname: str,
    pid: int,
    *,
    concurrency: int,
    tasks_done: int,
    timeout: float,
) -> bool:
    """The pool's heartbeat, with what changed since; False when its row is gone: another
    process found it lost (its tasks were released) and it must register again."""
    now = utcnow()
    with sql.transaction(write=True):
        changed = sql.execute(
            "UPDATE workers SET heartbeat_at = :now, expires_at = :expires,"
            " concurrency = :concurrency, tasks_done = :tasks_done"
            " WHERE hostname = :hostname AND pid = :pid",
            {
                "now": sql.time(now),
                "expires": sql.time(now + timedelta(seconds=timeout)),
                "concurrency": concurrency,
                "tasks_done": tasks_done,
                "hostname": hostname,
                "pid": pid,
            },
        )
    return changed == 1


def unregister_worker(sql: SqlConnection, hostname: str, pid: int) -> None:
    """The pool stopped cleanly (its tasks finished or were recorded cancelled)."""
    with sql.transaction(write=True):
        sql.execute(
            "DELETE FROM workers WHERE hostname = :hostname AND pid = :pid",
            {"hostname": hostname, "pid": pid},
        )


def is_worker(sql: SqlConnection, hostname: str, pid: int) -> bool:
    """Whether process ``pid`` on ``hostname`` runs a registered worker pool (which takes
    stored cancel requests)."""
    return bool(
        sql.rows(
            "SELECT 1 FROM workers WHERE hostname = :hostname AND pid = :pid",
            {"hostname": hostname, "pid": pid},
        )
    )


def take_lost_workers(sql: SqlConnection) -> list[LostWorker]:
    """Take every lost worker nobody took first (never this process's own pool): its row
    deleted, its running tasks released per its ``on_lost``. Reads only when none is lost."""
    now = utcnow()
    here, me = hostname(), os.getpid()
    with sql.transaction(write=False):
        rows = sql.rows(
            "SELECT hostname, pid, heartbeat_at, expires_at FROM workers"
            " WHERE expires_at < :now OR hostname = :here",
            {"now": sql.time(now), "here": here},
        )
    found: list[tuple[str, int, Any, str]] = []
    for host, pid, seen, expires in rows:
        if host == here and pid == me:
            continue
        if decode("expires_at", expires) < now:
            age = (now - decode("heartbeat_at", seen)).total_seconds()
            found.append((host, pid, seen, f"went silent (no heartbeat for {age:.0f} s)"))
        elif host == here and not pid_alive(pid):
            found.append((host, pid, seen, _EXITED))
    if not found:
        return []
    with sql.transaction(write=True):
        return [
            worker
            for host, pid, seen, why in found
            if (worker := _lose(sql, host, pid, seen, why, now))
        ]


def list_workers(sql: SqlConnection) -> list[WorkerView]:
    """The registered workers by host and pid, each with the ids of the tasks it runs."""
    from ado.store.views import WorkerView  # not before ado run's spawn (its orphan sweep)

    with sql.transaction(write=False):
        rows = sql.rows(f"SELECT {', '.join(_COLUMNS)} FROM workers ORDER BY hostname, pid")
        running: dict[tuple[str, int], list[int]] = {}
        for task_id, hostname, pid in sql.rows(
            "SELECT id, owner_host, owner_pid FROM tasks"
            f" WHERE status = '{TaskStatus.RUNNING}' AND owner_pid IS NOT NULL ORDER BY id"
        ):
            running.setdefault((hostname, pid), []).append(task_id)
    workers = []
    for row in rows:
        values = sql.values(_COLUMNS, row)
        values["queues"] = tuple(values["queues"] or ())
        key = (values["hostname"], values["pid"])
        workers.append(WorkerView(**values, running=tuple(running.get(key, ()))))
    return workers


def _lose(
    sql: SqlConnection, hostname: str, pid: int, seen: Any, why: str, now: datetime
) -> LostWorker | None:
    """Take worker (``hostname``, ``pid``) as lost if its row is still the one seen (its
    heartbeat ``seen``, as stored); None when another process took it, or it beat since."""
    key = {"hostname": hostname, "pid": pid}
    rows = sql.rows(
        "DELETE FROM workers WHERE hostname = :hostname AND pid = :pid AND heartbeat_at = :seen"
        " RETURNING on_lost",
        {**key, "seen": seen},
    )
    if not rows:
        return None
    on_lost = WorkerLostPolicy(rows[0][0])
    task_ids = tuple(
        task_id
        for (task_id,) in sql.rows(
            "SELECT id FROM tasks WHERE owner_host = :hostname AND owner_pid = :pid"
            f" AND status = '{TaskStatus.RUNNING}' ORDER BY id",
            key,
        )
    )
    error = f"ADO worker pool {pid} on {hostname} {why} while the task was running"
    for task_id in task_ids:
        release_task(
            sql,
            task_id,
            now=sql.time(now),
            error=error,
            requeue=on_lost == WorkerLostPolicy.REQUEUE,
        )
    return LostWorker(hostname, pid, on_lost, task_ids, why)
