"""Alerts: the process that owns an unfinished notification, and an index to find those.

A row ``queued`` or ``retrying`` whose owner (host and pid) is gone is marked ``abandoned``
at the next start (``ado.store.alert_orphans``).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("owner_host", sa.String(length=255), nullable=True))
        batch.add_column(sa.Column("owner_pid", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_alerts_status"), "alerts", ["status"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_alerts_status"), table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("owner_pid")
        batch.drop_column("owner_host")
