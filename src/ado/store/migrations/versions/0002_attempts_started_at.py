"""Index attempts.started_at: ``ado status`` and reports count today's attempts by it.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index(op.f("ix_attempts_started_at"), "attempts", ["started_at"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_attempts_started_at"), table_name="attempts")
