"""Tables of the cycle: one cycle per agreement year, each with its five steps."""

from __future__ import annotations

from datetime import date, datetime
from enum import StrEnum

from sqlalchemy import Date, ForeignKey, Integer, String, Text, UniqueConstraint
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
    agreement_id: Mapped[int] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    year: Mapped[int] = mapped_column(Integer)
    plan_version_id: Mapped[int | None] = mapped_column(ForeignKey("plan_versions.id"))
    opened_at: Mapped[datetime | None]
    closed_at: Mapped[datetime | None]

    steps: Mapped[list[CycleStep]] = relationship(
        back_populates="cycle", order_by="CycleStep.number", cascade="all, delete-orphan"
    )


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
