"""agreements keep their calendar settings (school terms, deadlines on days off)

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreements") as batch_op:
        # Existing agreements get the defaults ({} reads as the documented defaults).
        batch_op.add_column(
            sa.Column("calendar_config", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("agreements") as batch_op:
        batch_op.alter_column("calendar_config", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("agreements") as batch_op:
        batch_op.drop_column("calendar_config")
