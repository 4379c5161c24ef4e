"""notices: one index on mail_id, not two (the (mail_id, due_at) index serves both questions)

Revision ID: 0011
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # "Which notices does this mail carry?" is the leading column of ix_notices_unmailed_due, so the
    # single-column index only cost every notice INSERT and every claim UPDATE one more write.
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_mail_id")


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.create_index("ix_notices_mail_id", ["mail_id"], unique=False)
