"""Tables of the action plan: priority areas, goals, activities (the workflow items) and versions."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base


class ActivityState(StrEnum):
    OPEN = "open"  # decided, not started
    IN_PROGRESS = "in_progress"
    DONE = "done"
    CANCELLED = "cancelled"
    WITHDRAWN = "withdrawn"  # no longer in the plan; kept with its history


class OwnerRole(StrEnum):
    LEAD = "lead"  # X in "X i samverkan med Y"
    PARTNER = "partner"  # Y


class PlanVersion(Base):
    """One decided version of the action plan (the yearly revision); earlier ones stay readable."""

    __tablename__ = "plan_versions"
    __table_args__ = (UniqueConstraint("agreement_id", "year", "revision"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    revision: Mapped[int] = mapped_column(Integer)
    # "agreement": the plan inline in the agreement file; "import": `trygg plan import`.
    origin: Mapped[str] = mapped_column(String(20))
    title: Mapped[str] = mapped_column(String(500))
    source: Mapped[str] = mapped_column(String(1000))
    source_sha256: Mapped[str] = mapped_column(String(64))
    content: Mapped[dict[str, Any]] = mapped_column(JSON)  # the plan as read, areas → activities
    created_at: Mapped[datetime]


class PriorityArea(Base):
    __tablename__ = "priority_areas"
    __table_args__ = (UniqueConstraint("agreement_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    # The seed numbers areas differently in its priority list and in its action plan.
    priority_rank: Mapped[int | None] = mapped_column(Integer)
    plan_position: Mapped[int] = mapped_column(Integer)
    background: Mapped[str | None] = mapped_column(Text)
    footnotes: Mapped[list[str]] = mapped_column(JSON)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    goals: Mapped[list[Goal]] = relationship(
        back_populates="area", order_by="Goal.position", cascade="all, delete-orphan"
    )


class Goal(Base):
    __tablename__ = "goals"
    __table_args__ = (UniqueConstraint("area_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    area_id: Mapped[int] = mapped_column(ForeignKey("priority_areas.id", ondelete="CASCADE"))
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    area: Mapped[PriorityArea] = relationship(back_populates="goals")
    activities: Mapped[list[Activity]] = relationship(back_populates="goal", order_by="Activity.position")


class Activity(Base):
    """A workflow item: who does what, when; its raw När/Ansvarig text beside the parsed form."""

    __tablename__ = "activities"
    __table_args__ = (UniqueConstraint("agreement_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    goal_id: Mapped[int] = mapped_column(ForeignKey("goals.id"), index=True)
    key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    when_text: Mapped[str | None] = mapped_column(String(500))
    responsible_text: Mapped[str | None] = mapped_column(String(500))
    timing: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # workflow.plan_language.timing, as JSON
    starts_on: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date, index=True)
    footnotes: Mapped[list[str]] = mapped_column(JSON)
    state: Mapped[str] = mapped_column(String(20), default=ActivityState.OPEN)
    # When the engine next has to look at this item (reminder, overdue step): sweeps read
    # only rows whose next_action_at has passed.
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)
    # An approved extension lives beside `deadline`, which every load recomputes from the
    # timing: the effective deadline is the extension when one is set.
    extended_deadline: Mapped[date | None] = mapped_column(Date)
    # Someone answered the overdue notices ("we know, it is handled"): escalation stops.
    acknowledged_at: Mapped[datetime | None]
    # The last progress report: it answers the follow-up that is due.
    reported_at: Mapped[datetime | None]

    goal: Mapped[Goal] = relationship(back_populates="activities")
    owners: Mapped[list[ActivityOwner]] = relationship(
        back_populates="activity", order_by="ActivityOwner.position", cascade="all, delete-orphan"
    )
    history: Mapped[list[ActivityStatusChange]] = relationship(
        back_populates="activity", order_by="ActivityStatusChange.at", cascade="all, delete-orphan"
    )


class ActivityOwner(Base):
    __tablename__ = "activity_owners"
    __table_args__ = (UniqueConstraint("activity_id", "organisation_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int] = mapped_column(ForeignKey("organisations.id"), index=True)
    role: Mapped[str] = mapped_column(String(10))
    position: Mapped[int] = mapped_column(Integer)

    activity: Mapped[Activity] = relationship(back_populates="owners")
    organisation: Mapped[Organisation] = relationship()  # noqa: F821 (agreement.models)


class ActivityStatusChange(Base):
    __tablename__ = "activity_status_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    at: Mapped[datetime]
    actor: Mapped[str] = mapped_column(String(200))
    from_state: Mapped[str | None] = mapped_column(String(20))
    to_state: Mapped[str] = mapped_column(String(20))
    note: Mapped[str | None] = mapped_column(Text)

    activity: Mapped[Activity] = relationship(back_populates="history")


class ActivityEvent(Base):
    """The event of an event-triggered duty happened ("vid remissförfarande"): its follow-up is due."""

    __tablename__ = "activity_events"

    id: Mapped[int] = mapped_column(primary_key=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    occurred_on: Mapped[date] = mapped_column(Date)
    due_on: Mapped[date] = mapped_column(Date, index=True)
    note: Mapped[str] = mapped_column(Text)
    recorded_at: Mapped[datetime]
    recorded_by: Mapped[str] = mapped_column(String(200))
    done_at: Mapped[datetime | None]

    activity: Mapped[Activity] = relationship()


class ExtensionStatus(StrEnum):
    PENDING = "pending"  # waiting for the coordinator; the ladder goes on meanwhile
    APPROVED = "approved"  # the activity's extended_deadline is the requested day
    DECLINED = "declined"
    MOOT = "moot"  # the activity was done, withdrawn or extended otherwise before a decision


class ExtensionRequest(Base):
    """An owner asks for a new deadline (*Begär ny slutdag*); the coordinator approves or declines."""

    __tablename__ = "extension_requests"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    requested_by_id: Mapped[int] = mapped_column(ForeignKey("people.id"), index=True)
    requested_deadline: Mapped[date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    requested_at: Mapped[datetime]
    status: Mapped[str] = mapped_column(String(20), default=ExtensionStatus.PENDING, index=True)
    decided_at: Mapped[datetime | None]
    decided_by: Mapped[str | None] = mapped_column(String(200))  # an actor (person:<id>, cli:…)
    decision_note: Mapped[str | None] = mapped_column(Text)

    activity: Mapped[Activity] = relationship()
