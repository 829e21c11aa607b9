"""Notifications left unfinished by a process that is gone: marked ``abandoned``.

A row of the alert history is ``queued`` or ``retrying`` only while the process that owns it
(``owner_host``, ``owner_pid``) can still deliver it. The owner marks what it gives up when
it exits (``NotificationManager.aclose``); after a crash, the next start on the same host
does (``reader.mark_orphans_interrupted`` calls ``abandon_orphaned_alerts``). Rows with no
owner (written before owners were recorded) count as orphaned. Plain SQL, like the reader:
``ado status`` runs it without importing SQLAlchemy.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from ado.host import hostname
from ado.vocab import AlertStatus

if TYPE_CHECKING:
    from ado.store.sql import SqlConnection

__all__ = ["UNFINISHED", "abandon_orphaned_alerts", "abandoned_error"]

#: The statuses of a notification that still has a delivery ahead of it.
UNFINISHED = (AlertStatus.QUEUED.value, AlertStatus.RETRYING.value)
_UNFINISHED_SQL = f"status IN ({', '.join(repr(s) for s in UNFINISHED)})"


def abandoned_error(pid: int | None) -> str:
    owner = pid if pid is not None else "(unknown)"
    return f"ADO process {owner} exited before the notification was delivered"


def abandon_orphaned_alerts(sql: SqlConnection, alive: Callable[[int], bool]) -> int:
    """Mark ``abandoned`` the unfinished alerts of this host whose process is not ``alive``
    (and those with no owner); how many. Takes the write lock only when there are some."""
    host = hostname()
    with sql.transaction(write=False):
        rows = sql.rows(f"SELECT id, owner_host, owner_pid FROM alerts WHERE {_UNFINISHED_SQL}")
    orphans = [
        (alert_id, pid)
        for alert_id, owner_host, pid in rows
        if pid is None or owner_host is None or (owner_host == host and not alive(int(pid)))
    ]
    if not orphans:
        return 0
    now = sql.time(datetime.now(UTC))
    with sql.transaction(write=True):
        for alert_id, pid in orphans:
            sql.execute(
                f"UPDATE alerts SET status = '{AlertStatus.ABANDONED}', error = :error,"
                " updated_at = :now"
                f" WHERE id = :id AND {_UNFINISHED_SQL}",
                {"id": alert_id, "now": now, "error": abandoned_error(pid)},
            )
    return len(orphans)
