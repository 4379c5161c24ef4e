"""Tables of the running system: leases (who may act) and heartbeats (who ran when)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from workflow.db import Base


class Lease(Base):
    """A named right to act, held until expires_at; an expired lease may be taken over."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(60), primary_key=True)  # "scheduler"
    holder: Mapped[str] = mapped_column(String(200))  # host:pid:random of the holding process
    acquired_at: Mapped[datetime]
    expires_at: Mapped[datetime]


class Heartbeat(Base):
    """When a process of a role (scheduler, worker) last did its work."""

    __tablename__ = "heartbeats"
    __table_args__ = (UniqueConstraint("role", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    role: Mapped[str] = mapped_column(String(30))  # scheduler, scheduler-standby, worker
    name: Mapped[str] = mapped_column(String(200))  # host:pid
    started_at: Mapped[datetime]
    last_seen_at: Mapped[datetime] = mapped_column(index=True)
