"""Tables of the cycle: one cycle per agreement year, each with its five steps."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Boolean, Date, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from workflow.db import Base


class StepState(StrEnum):
    PENDING = "pending"
    OPEN = "open"
    CLOSED = "closed"


class Cycle(Base):
    __tablename__ = "cycles"
    __table_args__ = (UniqueConstraint("agreement_id", "year"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int] = mapped_column(ForeignKey("agreements.id", ondelete="CASCADE"), index=True)
    year: Mapped[int] = mapped_column(Integer)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]
    # When the sweep next looks at the cycle: the year's meeting plan, mailed once when it opens.
    next_action_at: Mapped[datetime | None] = mapped_column(index=True)

    steps: Mapped[list[CycleStep]] = relationship(
        back_populates="cycle", order_by="CycleStep.number", cascade="all, delete-orphan"
    )
    activities: Mapped[list[CycleActivity]] = relationship(
        back_populates="cycle", cascade="all, delete-orphan"
    )

    @property
    def key(self) -> str:
        """The year names the cycle (the sweep's logs name items by key)."""
        return str(self.year)


class CycleStep(Base):
    __tablename__ = "cycle_steps"
    __table_args__ = (UniqueConstraint("cycle_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    number: Mapped[int] = mapped_column(Integer)  # 1..5
    key: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(Text)
    window_start: Mapped[date | None] = mapped_column(Date)
    window_end: Mapped[date | None] = mapped_column(Date)
    deadline: Mapped[date | None] = mapped_column(Date)
    state: Mapped[str] = mapped_column(String(20), default=StepState.PENDING)
    closed_at: Mapped[datetime | None]
    closed_by: Mapped[str | None] = mapped_column(String(200))
    override_reason: Mapped[str | None] = mapped_column(Text)

    cycle: Mapped[Cycle] = relationship(back_populates="steps")
    deliverables: Mapped[list[Deliverable]] = relationship(
        back_populates="step", order_by="Deliverable.position", cascade="all, delete-orphan"
    )


class Deliverable(Base):
    """What a step must produce before it closes: a party's facts, the approved picture, …"""

    __tablename__ = "cycle_deliverables"
    __table_args__ = (UniqueConstraint("step_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    step_id: Mapped[int] = mapped_column(ForeignKey("cycle_steps.id", ondelete="CASCADE"), index=True)
    key: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(Text)
    position: Mapped[int] = mapped_column(Integer)
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("organisations.id"))
    # Done when the data says so (the year's plan version exists, the meetings were held),
    # rather than when someone marks it.
    automatic: Mapped[bool] = mapped_column(Boolean, default=False)
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(String(200))
    note: Mapped[str | None] = mapped_column(Text)

    step: Mapped[CycleStep] = relationship(back_populates="deliverables")


class CycleActivity(Base):
    """The activities a cycle works on: its plan's, and the unfinished ones carried over."""

    __tablename__ = "cycle_activities"
    __table_args__ = (UniqueConstraint("cycle_id", "activity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    cycle_id: Mapped[int] = mapped_column(ForeignKey("cycles.id", ondelete="CASCADE"), index=True)
    activity_id: Mapped[int] = mapped_column(ForeignKey("activities.id", ondelete="CASCADE"), index=True)
    carried_over: Mapped[bool] = mapped_column(Boolean, default=False)

    cycle: Mapped[Cycle] = relationship(back_populates="activities")
