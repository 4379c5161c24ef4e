"""the meeting engine: an agreement's meeting settings, guests co-opted from outside the file

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        # Existing agreements get the defaults ({} reads as the documented defaults).
        batch_op.add_column(
            sa.Column("meetings_config", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.alter_column("meetings_config", server_default=None)

    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.add_column(sa.Column("is_guest", sa.Boolean(), server_default=sa.false(), nullable=False))

    # Meetings planned before this revision have no next_action_at; the next `trygg load`
    # (or a cycle opening) schedules them (workflow.meetings.schedule.reconcile_meetings).


def downgrade() -> None:
    with op.batch_alter_table("people", schema=None) as batch_op:
        batch_op.drop_column("is_guest")

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("meetings_config")
