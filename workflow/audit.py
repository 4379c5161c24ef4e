"""The audit log: every change to an agreement's data, with who, when, what, before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, Session, mapped_column

from workflow.clock import Clock
from workflow.db import Base


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    agreement_id: Mapped[int | None] = mapped_column(
        ForeignKey("agreements.id", ondelete="CASCADE"), index=True
    )
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(40))  # create, update, retire, override, …
    entity: Mapped[str] = mapped_column(String(40))  # agreement, organisation, activity, …
    entity_key: Mapped[str] = mapped_column(String(200))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    reason: Mapped[str | None] = mapped_column(String(2000))


def record(
    session: Session,
    clock: Clock,
    *,
    actor: str,
    action: str,
    entity: str,
    entity_key: str,
    agreement_id: int | None,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
    reason: str | None = None,
) -> AuditEntry:
    """Add one audit row to the session's transaction (it commits or rolls back with the change)."""
    entry = AuditEntry(
        agreement_id=agreement_id,
        at=clock.now(),
        actor=actor,
        action=action,
        entity=entity,
        entity_key=entity_key,
        before=before,
        after=after,
        reason=reason,
    )
    session.add(entry)
    return entry
