"""delivery in batches: a partial index on the mails waiting to go, instead of one over every mail

Revision ID: 0010
Revises: 0008
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

WAITING = sa.text("status IN ('pending', 'sending')")


def upgrade() -> None:
    with op.batch_alter_table("mails", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mails_next_attempt_at"))
        batch_op.create_index(
            "ix_mails_waiting",
            ["next_attempt_at", "id"],
            unique=False,
            postgresql_where=WAITING,
            sqlite_where=WAITING,
        )


def downgrade() -> None:
    with op.batch_alter_table("mails", schema=None) as batch_op:
        batch_op.drop_index("ix_mails_waiting")
        batch_op.create_index(batch_op.f("ix_mails_next_attempt_at"), ["next_attempt_at"], unique=False)
