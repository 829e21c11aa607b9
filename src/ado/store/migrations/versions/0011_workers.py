"""The worker registry: live worker pools, their heartbeats and what they run; the
``worker-pool:`` key-value entries it replaces are removed.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "workers",
        sa.Column("hostname", sa.String(length=255), nullable=False),
        sa.Column("pid", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", sa.String(length=255), nullable=True),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("concurrency", sa.Integer(), nullable=False),
        sa.Column("queues", sa.JSON(), nullable=False),
        sa.Column("on_lost", sa.String(length=16), nullable=False),
        sa.Column("tasks_done", sa.BigInteger(), nullable=False),
        sa.Column("started_at", sa.DateTime(), nullable=False),
        sa.Column("heartbeat_at", sa.DateTime(), nullable=False),
        sa.Column("expires_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("hostname", "pid", name=op.f("pk_workers")),
    )
    op.create_index(op.f("ix_workers_expires_at"), "workers", ["expires_at"])
    # The key-value entries pools registered under before (the registry replaces them).
    op.execute("DELETE FROM kv WHERE key LIKE 'worker-pool:%'")


def downgrade() -> None:
    op.drop_index(op.f("ix_workers_expires_at"), table_name="workers")
    op.drop_table("workers")
