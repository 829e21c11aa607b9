"""The quota ledger: the latest reading of each usage window per provider (and account).

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quota_windows",
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("used_ratio", sa.Float(), nullable=True),
        sa.Column("resets_at", sa.DateTime(), nullable=True),
        sa.Column("window_minutes", sa.Integer(), nullable=True),
        sa.Column("observed_at", sa.DateTime(), nullable=False),
        sa.Column("prev_used_ratio", sa.Float(), nullable=True),
        sa.Column("prev_observed_at", sa.DateTime(), nullable=True),
        sa.PrimaryKeyConstraint("provider", "kind", name=op.f("pk_quota_windows")),
    )


def downgrade() -> None:
    op.drop_table("quota_windows")
