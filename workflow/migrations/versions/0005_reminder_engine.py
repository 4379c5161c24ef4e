"""the reminder engine: notice subjects and cancellation, mail keys and claims, leases,
heartbeats, an activity's extension/acknowledgement/report, an agreement's reminder settings

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import workflow.db

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "heartbeats",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=30), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("started_at", workflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("last_seen_at", workflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_heartbeats")),
        sa.UniqueConstraint("role", "name", name=op.f("uq_heartbeats_role_name")),
    )
    with op.batch_alter_table("heartbeats", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_heartbeats_last_seen_at"), ["last_seen_at"], unique=False)

    op.create_table(
        "leases",
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("holder", sa.String(length=200), nullable=False),
        sa.Column("acquired_at", workflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", workflow.db.UTCDateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("name", name=op.f("pk_leases")),
    )
    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.add_column(sa.Column("extended_deadline", sa.Date(), nullable=True))
        batch_op.add_column(
            sa.Column("acknowledged_at", workflow.db.UTCDateTime(timezone=True), nullable=True)
        )
        batch_op.add_column(sa.Column("reported_at", workflow.db.UTCDateTime(timezone=True), nullable=True))

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        # Existing agreements get the defaults ({} reads as the documented defaults).
        batch_op.add_column(
            sa.Column("reminders_config", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.alter_column("reminders_config", server_default=None)

    # Nothing wrote notices or mails before this revision, so their new NOT NULL columns
    # need no defaults.

    with op.batch_alter_table("mails", schema=None) as batch_op:
        batch_op.add_column(sa.Column("key", sa.String(length=200), nullable=False))
        batch_op.add_column(sa.Column("claim_token", sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column("smtp_reply", sa.Text(), nullable=True))
        batch_op.create_index(batch_op.f("ix_mails_status"), ["status"], unique=False)
        batch_op.create_unique_constraint(batch_op.f("uq_mails_key"), ["key"])

    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("subject_type", sa.String(length=30), nullable=False))
        batch_op.add_column(sa.Column("subject_id", sa.Integer(), nullable=False))
        batch_op.add_column(sa.Column("cancelled_at", workflow.db.UTCDateTime(timezone=True), nullable=True))
        batch_op.alter_column(
            "occurrence",
            existing_type=sa.VARCHAR(length=100),
            type_=sa.String(length=200),
            existing_nullable=False,
        )
        batch_op.create_index("ix_notices_subject", ["subject_type", "subject_id"], unique=False)
        batch_op.create_index("ix_notices_unmailed_due", ["mail_id", "due_at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("notices", schema=None) as batch_op:
        batch_op.drop_index("ix_notices_unmailed_due")
        batch_op.drop_index("ix_notices_subject")
        batch_op.alter_column(
            "occurrence",
            existing_type=sa.String(length=200),
            type_=sa.VARCHAR(length=100),
            existing_nullable=False,
        )
        batch_op.drop_column("cancelled_at")
        batch_op.drop_column("subject_id")
        batch_op.drop_column("subject_type")

    with op.batch_alter_table("mails", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("uq_mails_key"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_mails_status"))
        batch_op.drop_column("smtp_reply")
        batch_op.drop_column("claim_token")
        batch_op.drop_column("key")

    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("reminders_config")

    with op.batch_alter_table("activities", schema=None) as batch_op:
        batch_op.drop_column("reported_at")
        batch_op.drop_column("acknowledged_at")
        batch_op.drop_column("extended_deadline")

    op.drop_table("leases")
    with op.batch_alter_table("heartbeats", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_heartbeats_last_seen_at"))

    op.drop_table("heartbeats")
