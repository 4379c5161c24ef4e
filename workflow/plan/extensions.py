"""Extension requests that nobody needs to decide any more (the activity was done, withdrawn or
extended otherwise): made moot. The caller cancels their notices (the outbox sits above plan)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.plan.models import ExtensionRequest, ExtensionStatus


def moot_pending(session: Session, activity_ids: Iterable[int], now: datetime, actor: str) -> list[int]:
    """Mark the pending requests about these activities moot; returns their ids."""
    ids = list(activity_ids)
    if not ids:
        return []
    moot = list(
        session.scalars(
            select(ExtensionRequest).where(
                ExtensionRequest.activity_id.in_(ids),
                ExtensionRequest.status == ExtensionStatus.PENDING,
            )
        )
    )
    for request in moot:
        request.status = ExtensionStatus.MOOT
        request.decided_at = now
        request.decided_by = actor
    return [r.id for r in moot]
