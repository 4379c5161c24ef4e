"""a cycle's next action: the year's meeting plan mailed to the council when its cycle opens

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workflow.db import UTCDateTime

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.add_column(sa.Column("next_action_at", UTCDateTime(timezone=True), nullable=True))
        batch_op.create_index("ix_cycles_next_action_at", ["next_action_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("cycles", schema=None) as batch_op:
        batch_op.drop_index("ix_cycles_next_action_at")
        batch_op.drop_column("next_action_at")
