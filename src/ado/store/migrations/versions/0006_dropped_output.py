"""Output caps: what was dropped per task and attempt; the mark of an agent's group.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    for table in ("tasks", "attempts"):
        with op.batch_alter_table(table) as batch:
            batch.add_column(
                sa.Column("dropped_events", sa.BigInteger(), nullable=False, server_default="0")
            )
            batch.add_column(
                sa.Column("dropped_bytes", sa.BigInteger(), nullable=False, server_default="0")
            )
    with op.batch_alter_table("attempts") as batch:
        batch.add_column(sa.Column("agent_mark", sa.String(length=32), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("attempts") as batch:
        batch.drop_column("agent_mark")
    for table in ("attempts", "tasks"):
        with op.batch_alter_table(table) as batch:
            batch.drop_column("dropped_bytes")
            batch.drop_column("dropped_events")
