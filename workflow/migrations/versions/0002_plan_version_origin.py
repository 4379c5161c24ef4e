"""plan versions remember where they came from (agreement file or plan import)

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch_op:
        # Every version before this revision was loaded from an agreement file.
        batch_op.add_column(
            sa.Column("origin", sa.String(length=20), nullable=False, server_default="agreement")
        )
    with op.batch_alter_table("plan_versions") as batch_op:
        batch_op.alter_column("origin", server_default=None)


def downgrade() -> None:
    with op.batch_alter_table("plan_versions") as batch_op:
        batch_op.drop_column("origin")
