"""Notices: what deciding rules draft, the row each becomes (a duplicate key is skipped, never an
error), and making them moot."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import MetaData, Table, and_, or_, select, text, update
from sqlalchemy.dialects import sqlite
from sqlalchemy.orm import Session

from workflow.db import bulk_insert
from workflow.outbox.models import Mail, MailStatus, Notice


def notice_key(rule: str, recipient_id: int, occurrence: str) -> str:
    """The unique key of a notice: the same rule, person and occurrence is one notice."""
    return f"{rule}/{recipient_id}/{occurrence}"


@dataclass(frozen=True)
class NoticeDraft:
    """A notice to be made: rule, recipient, occurrence (the key), when it is due, and details."""

    rule: str
    recipient_id: int
    occurrence: str
    due_at: datetime
    details: dict[str, Any] = field(default_factory=dict, compare=False)

    @property
    def key(self) -> str:
        return notice_key(self.rule, self.recipient_id, self.occurrence)


@dataclass(frozen=True)
class Decision:
    """What deciding one item gave: the notices to make and when to look at it again."""

    notices: tuple[NoticeDraft, ...]
    next_action_at: datetime | None  # None: nothing is due until someone acts on the item


def notice_row(
    *,
    agreement_id: int,
    subject_type: str,
    subject_id: int,
    draft: NoticeDraft,
    payload: dict[str, Any],
    now: datetime,
) -> dict[str, Any]:
    """The row a drafted notice becomes; `payload` is what its mail says, with the draft's details."""
    return {
        "agreement_id": agreement_id,
        "key": draft.key,
        "rule": draft.rule,
        "recipient_id": draft.recipient_id,
        "occurrence": draft.occurrence,
        "subject_type": subject_type,
        "subject_id": subject_id,
        "payload": {**payload, **draft.details},
        "due_at": draft.due_at,
        "created_at": now,
    }


def add_notices(session: Session, rows: list[dict[str, Any]]) -> int:
    """Insert notices; those whose key exists are skipped. Returns how many were new."""
    if not rows:
        return 0
    if session.get_bind().dialect.name == "postgresql":
        return _add_through_copy(session, rows)
    stmt = sqlite.insert(Notice).on_conflict_do_nothing(index_elements=["key"]).returning(Notice.id)
    # Rows as parameters (executemany, "insertmanyvalues"), not .values(rows): the statement is
    # then compiled once and cached, instead of once per call for each number of rows.
    # Counted by RETURNING: a multi-row insert's rowcount is not reliable on every driver.
    return len(session.execute(stmt, rows).all())


# The columns a notice is made with; on PostgreSQL they are staged in a temporary table of this
# connection (COPY: one stream, no statement text the size of the batch to build and parse), then
# moved with one INSERT … SELECT that skips the keys already there.
_MADE_WITH = (
    "agreement_id", "key", "rule", "recipient_id", "occurrence", "subject_type", "subject_id", "payload",
    "due_at", "created_at",
)  # fmt: skip
_STAGING = Table("trygg_notices_in", MetaData(), *(Notice.__table__.c[name]._copy() for name in _MADE_WITH))
_COLUMNS = ", ".join(_MADE_WITH)


def _add_through_copy(session: Session, rows: list[dict[str, Any]]) -> int:
    session.execute(
        text(
            f"CREATE TEMPORARY TABLE IF NOT EXISTS trygg_notices_in AS SELECT {_COLUMNS} FROM notices WITH NO DATA"
        )
    )
    bulk_insert(session, _STAGING, [{name: row.get(name) for name in _MADE_WITH} for row in rows])
    made = session.execute(
        text(
            f"INSERT INTO notices ({_COLUMNS}) SELECT {_COLUMNS} FROM trygg_notices_in "
            "ON CONFLICT (key) DO NOTHING RETURNING id"
        )
    ).all()
    session.execute(text("DELETE FROM trygg_notices_in"))
    return len(made)


def cancel_notices(
    session: Session,
    *,
    subject_type: str,
    subject_id: int,
    now: datetime,
    rules: tuple[str, ...] | None = None,
    occurrence_prefix: str | None = None,
) -> int:
    """Mark moot the notices about a subject that have not left yet (unmailed or in a pending mail).

    A mail already claimed for sending cannot be called back; everything else can.
    """
    unsent = select(Mail.id).where(Mail.status == MailStatus.PENDING)
    conditions = [
        Notice.subject_type == subject_type,
        Notice.subject_id == subject_id,
        Notice.cancelled_at.is_(None),
        or_(Notice.mail_id.is_(None), Notice.mail_id.in_(unsent)),
    ]
    if rules is not None:
        conditions.append(Notice.rule.in_(rules))
    if occurrence_prefix is not None:
        conditions.append(Notice.occurrence.startswith(occurrence_prefix, autoescape=True))
    result = session.execute(
        update(Notice)
        .where(and_(*conditions))
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0


def cancel_notices_to(session: Session, recipient_ids: list[int], now: datetime) -> int:
    """Mark moot every notice to these people that has not left yet (they were retired)."""
    if not recipient_ids:
        return 0
    unsent = select(Mail.id).where(Mail.status == MailStatus.PENDING)
    result = session.execute(
        update(Notice)
        .where(
            Notice.recipient_id.in_(recipient_ids),
            Notice.cancelled_at.is_(None),
            or_(Notice.mail_id.is_(None), Notice.mail_id.in_(unsent)),
        )
        .values(cancelled_at=now)
        .execution_options(synchronize_session=False)
    )
    return result.rowcount or 0
