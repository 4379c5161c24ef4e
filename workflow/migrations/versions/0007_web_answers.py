"""the web: used link tokens, calendar feeds, extension requests, answers to invitations, audit channel

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

from workflow.db import UTCDateTime

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("links_config", sa.JSON(), nullable=False, server_default=sa.text("'{}'"))
        )
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.alter_column("links_config", server_default=None)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("channel", sa.String(length=20), nullable=True))

    with op.batch_alter_table("meeting_invitees", schema=None) as batch_op:
        batch_op.add_column(sa.Column("answer", sa.String(length=10), nullable=True))
        batch_op.add_column(sa.Column("answered_at", UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column("deputy_for_id", sa.Integer(), nullable=True))
        batch_op.create_foreign_key(
            "fk_meeting_invitees_deputy_for_id_people", "people", ["deputy_for_id"], ["id"]
        )

    op.create_table(
        "used_tokens",
        sa.Column("jti", sa.String(length=64), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=30), nullable=False),
        sa.Column("subject_type", sa.String(length=30), nullable=False),
        sa.Column("subject_id", sa.Integer(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=False),
        sa.Column("outcome", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("jti"),
    )
    op.create_index("ix_used_tokens_person_id", "used_tokens", ["person_id"])

    op.create_table(
        "calendar_feeds",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("revoked_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(["person_id"], ["people.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_calendar_feeds_person_id", "calendar_feeds", ["person_id"])

    op.create_table(
        "extension_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("agreement_id", sa.Integer(), nullable=False),
        sa.Column("activity_id", sa.Integer(), nullable=False),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_deadline", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("requested_at", UTCDateTime(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("decided_at", UTCDateTime(), nullable=True),
        sa.Column("decided_by", sa.String(length=200), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(["agreement_id"], ["agreements.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["activity_id"], ["activities.id"], ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["requested_by_id"], ["people.id"]),
        sa.PrimaryKeyConstraint("id"),
    )
    for column in ("agreement_id", "activity_id", "requested_by_id", "status"):
        op.create_index(f"ix_extension_requests_{column}", "extension_requests", [column])


def downgrade() -> None:
    op.drop_table("extension_requests")
    op.drop_table("calendar_feeds")
    op.drop_table("used_tokens")
    with op.batch_alter_table("meeting_invitees", schema=None) as batch_op:
        batch_op.drop_constraint("fk_meeting_invitees_deputy_for_id_people", type_="foreignkey")
        batch_op.drop_column("deputy_for_id")
        batch_op.drop_column("answered_at")
        batch_op.drop_column("answer")
    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("channel")
    with op.batch_alter_table("agreements", schema=None) as batch_op:
        batch_op.drop_column("links_config")
