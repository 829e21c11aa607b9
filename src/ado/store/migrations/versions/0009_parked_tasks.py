"""Parked tasks: waiting for the earliest known reset when every candidate is limited.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("parked_until", sa.DateTime(), nullable=True))
        batch.add_column(sa.Column("park_reason", sa.Text(), nullable=True))
        batch.add_column(sa.Column("parks", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("parks")
        batch.drop_column("park_reason")
        batch.drop_column("parked_until")
