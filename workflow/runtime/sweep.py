"""One sweep: every due item (activities, then meetings) decided, then the due notices composed into mails.

Delivery follows.

The scheduler's tick, the Celery task, `trygg run` and `trygg sweep --now` all run this; what
is due comes from the database alone, so a sweep after downtime catches up once.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from workflow.db import transaction
from workflow.meetings.notices import meeting_batch
from workflow.outbox.compose import Composed, compose
from workflow.reminders.sweep import sweep_batch

BATCH = 200
COMPOSE_BATCH = 2000


@dataclass
class SweepReport:
    now: datetime
    items: int = 0  # activities decided
    meetings: int = 0  # meetings decided
    notices: int = 0
    mails: list[int] = field(default_factory=list)
    deferred: int = 0
    errors: list[str] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "items": self.items,
            "meetings": self.meetings,
            "notices": self.notices,
            "mails": self.mails,
            "deferred": self.deferred,
            "errors": self.errors,
        }


def sweep(sessions: sessionmaker[Session], now: datetime, *, batch: int = BATCH) -> SweepReport:
    """Decide due items in batches (each its own transaction), then compose; commits as it goes."""
    report = SweepReport(now)
    while True:
        with transaction(sessions) as session:
            done = sweep_batch(session, now, limit=batch)
        _add(report, done)
        if done.items < batch:
            break
    while True:
        with transaction(sessions) as session:
            met = meeting_batch(session, now, limit=batch)
        _add_meetings(report, met)
        if met.items < batch:
            break
    composed = Composed()
    while True:
        with transaction(sessions) as session:
            part = compose(session, now, limit=COMPOSE_BATCH)
        composed.add(part)
        if part.picked < COMPOSE_BATCH:
            break
    report.mails, report.deferred = composed.mails, composed.deferred
    return report


def sweep_in(session: Session, now: datetime, *, batch: int = BATCH) -> SweepReport:
    """The same sweep inside the caller's transaction: `--dry-run` rolls it back afterwards."""
    report = SweepReport(now)
    while True:
        done = sweep_batch(session, now, limit=batch)
        _add(report, done)
        if done.items < batch:
            break
    while True:
        met = meeting_batch(session, now, limit=batch)
        _add_meetings(report, met)
        if met.items < batch:
            break
    composed = Composed()
    while True:
        part = compose(session, now, limit=COMPOSE_BATCH)
        composed.add(part)
        if part.picked < COMPOSE_BATCH:
            break
    report.mails, report.deferred = composed.mails, composed.deferred
    return report


def _add(report: SweepReport, done) -> None:
    report.items += done.items
    report.notices += done.notices
    report.errors += done.errors


def _add_meetings(report: SweepReport, done) -> None:
    report.meetings += done.items
    report.notices += done.notices
    report.errors += done.errors
