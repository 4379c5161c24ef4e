"""Tables of the outbox: a notice is what someone must be told; a mail carries a day's notices."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, ForeignKey, Index, Integer, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base


class MailStatus(StrEnum):
    PENDING = "pending"  # waiting for next_attempt_at
    SENDING = "sending"  # claimed by a deliverer until claimed_until; claimable again after it
    SENT = "sent"
    FAILED = "failed"  # refused for good, or gave up after the retries; the coordinator is told
    CANCELLED = "cancelled"  # every notice it carried became moot before it left


class Notice(Base):
    """One thing one person must be told, once: deduplicated by its key (rule, recipient, occurrence)."""

    __tablename__ = "notices"
    # The composer's question, "which notices are due and not yet in a mail?", is one index range;
    # "which notices does this mail carry?" its leading column.
    __table_args__ = (
        Index("ix_notices_unmailed_due", "mail_id", "due_at"),
        Index("ix_notices_subject", "subject_type", "subject_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    # (rule, recipient, occurrence) spelled out: the same notice can never be made twice.
    key: Mapped[str] = mapped_column(String(300), unique=True)
    rule: Mapped[str] = mapped_column(String(60))  # reminder, overdue, escalation, delivery_failure, …
    recipient_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    occurrence: Mapped[str] = mapped_column(String(200))
    # What the notice is about ("activity", 17), so that acting on it can make its notices moot.
    subject_type: Mapped[str] = mapped_column(String(30))
    subject_id: Mapped[int] = mapped_column(Integer)
    payload: Mapped[dict[str, Any]] = mapped_column(JSON)  # everything the template needs
    due_at: Mapped[datetime]
    created_at: Mapped[datetime]
    # No index of its own: ix_notices_unmailed_due leads with it.
    mail_id: Mapped[int | None] = mapped_column(ForeignKey("mails.id"))
    cancelled_at: Mapped[datetime | None]  # moot before it was sent (done, extended, acknowledged)

    mail: Mapped[Mail | None] = relationship(back_populates="notices")


class Mail(Base):
    """One message to one recipient; it claims its notices, and delivery claims it."""

    __tablename__ = "mails"
    # Delivery's question, "which mails wait to go, earliest first?", is a range of this index:
    # it holds only the pending and sending rows, never the sent millions behind them.
    __table_args__ = (
        Index(
            "ix_mails_waiting",
            "next_attempt_at",
            "id",
            postgresql_where=text("status IN ('pending', 'sending')"),
            sqlite_where=text("status IN ('pending', 'sending')"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    # group/recipient/local day: a person gets at most one mail of a group a day.
    key: Mapped[str] = mapped_column(String(200), unique=True)
    recipient_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))  # X-Trygg-Kind, one of workflow.outbox.kinds.KINDS
    status: Mapped[str] = mapped_column(String(20), default=MailStatus.PENDING, index=True)
    created_at: Mapped[datetime]
    next_attempt_at: Mapped[datetime | None]
    claimed_until: Mapped[datetime | None]
    claim_token: Mapped[str | None] = mapped_column(String(64))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None]
    message_id: Mapped[str | None] = mapped_column(String(300))
    smtp_reply: Mapped[str | None] = mapped_column(Text)  # the server's answer, or the file written
    last_error: Mapped[str | None] = mapped_column(Text)

    notices: Mapped[list[Notice]] = relationship(back_populates="mail", order_by="Notice.id")
