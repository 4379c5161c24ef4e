"""Tables of meetings: agenda items, invitees (co-opted guests too), attendance and minutes."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from sqlalchemy import Boolean, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.agreement.models import Person
from workflow.db import Base


class MeetingKind(StrEnum):
    COUNCIL = "council"  # Rådet för trygghet och hälsa
    CHECK_IN = "check_in"  # avstämning kommun–polis, twice a year
    YEARLY_REVIEW = "yearly_review"  # översyn och revidering av handlingsplanen
    EVALUATION = "evaluation"  # redovisning till polis- och kommunledning


class MeetingStatus(StrEnum):
    PLANNED = "planned"
    HELD = "held"
    CLOSED = "closed"  # held and its minutes recorded
    CANCELLED = "cancelled"


class Meeting(Base):
    __tablename__ = "meetings"
    __table_args__ = (UniqueConstraint("agreement_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))  # stable: also the iCalendar UID's local part
    kind: Mapped[str] = mapped_column(String(20))
    year: Mapped[int] = mapped_column(Integer, index=True)  # the cycle year it belongs to
    title: Mapped[str] = mapped_column(String(300))
    starts_at: Mapped[datetime] = mapped_column(index=True)
    ends_at: Mapped[datetime]
    location: Mapped[str | None] = mapped_column(String(300))
    status: Mapped[str] = mapped_column(String(20), default=MeetingStatus.PLANNED)
    sequence: Mapped[int] = mapped_column(Integer, default=0)  # iCalendar SEQUENCE
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)

    agenda: Mapped[list[AgendaItem]] = relationship(
        back_populates="meeting", order_by="AgendaItem.position", cascade="all, delete-orphan"
    )
    invitees: Mapped[list[Invitee]] = relationship(back_populates="meeting", cascade="all, delete-orphan")
    minutes: Mapped[list[MinutesRevision]] = relationship(
        back_populates="meeting", order_by="MinutesRevision.revision", cascade="all, delete-orphan"
    )


class AgendaItem(Base):
    __tablename__ = "agenda_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)
    title: Mapped[str] = mapped_column(Text)
    proposed_by_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="agenda")


class Invitee(Base):
    __tablename__ = "meeting_invitees"
    __table_args__ = (UniqueConstraint("meeting_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    co_opted: Mapped[bool] = mapped_column(Boolean, default=False)  # adjungerad to this meeting
    attended: Mapped[bool | None] = mapped_column(Boolean)
    # The invitee's answer to the invitation (Jag kommer / Jag kommer inte): "yes", "no" or None.
    answer: Mapped[str | None] = mapped_column(String(10))
    answered_at: Mapped[datetime | None]
    # Sent in the place of another invitee who cannot come (a deputy from the same organisation).
    deputy_for_id: Mapped[int | None] = mapped_column(ForeignKey("people.id"))

    meeting: Mapped[Meeting] = relationship(back_populates="invitees")
    person: Mapped[Person] = relationship(foreign_keys=[person_id])


class MinutesRevision(Base):
    """Minutes are public records: a correction is a new revision, never an edit."""

    __tablename__ = "minutes_revisions"
    __table_args__ = (UniqueConstraint("meeting_id", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    meeting_id: Mapped[int] = mapped_column(ForeignKey("meetings.id", ondelete="CASCADE"), index=True)
    revision: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))

    meeting: Mapped[Meeting] = relationship(back_populates="minutes")
