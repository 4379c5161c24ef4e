"""One sweep: every due item (activities, then meetings) decided, then the due notices composed into mails.

Delivery follows.

The scheduler's tick, the Celery task, `trygg run` and `trygg sweep --now` all run this; what
is due comes from the database alone, so a sweep after downtime catches up once. An instant
outside the years trygg accepts is refused (ValueError): a sweep in year 9999 would park every
next action there.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

from workflow.clock import in_window
from workflow.cycle.meeting_plan import MEETING_PLANS
from workflow.cycle.models import Cycle
from workflow.db import transaction
from workflow.engine.ending import look_at_endings
from workflow.engine.weekly import look_at_weeks
from workflow.meetings.models import Meeting
from workflow.meetings.sweep import meeting_items
from workflow.outbox.batch import BatchResult, DueItems, run_batch
from workflow.outbox.compose import Composed, compose
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.plan.models import Activity
from workflow.reminders.sweep import ACTIVITIES
from workflow.report.attachment import evaluation_report

log = logging.getLogger(__name__)

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
    ended: list[str] = field(default_factory=list)  # agreements the engine stopped for in this sweep

    def as_json(self) -> dict[str, Any]:
        return {
            "now": self.now.isoformat(),
            "items": self.items,
            "meetings": self.meetings,
            "notices": self.notices,
            "mails": self.mails,
            "deferred": self.deferred,
            "errors": self.errors,
            "ended": self.ended,
        }

    def add(self, subject_type: str, done: BatchResult) -> None:
        if subject_type == "meeting":
            self.meetings += done.items
        else:
            self.items += done.items
        self.notices += done.notices
        self.errors += done.errors


def sweep(
    sessions: sessionmaker[Session],
    now: datetime,
    *,
    batch: int = BATCH,
    ran_at: datetime | None = None,
    composed: Callable[[list[int]], None] | None = None,
    helpers: Callable[[datetime], None] | None = None,
) -> SweepReport:
    """Decide due items in batches (each its own transaction), then compose; commits as it goes.

    `ran_at`: the real time when `now` is another instant (`trygg sweep --now`). `composed` is
    called with the mails of each compose batch once it committed, so delivery can start on them
    while the rest are composed (10,000 due at once: the first go out after 2,000, not after all).
    `helpers` is called (with `now`) when more activities are due than one batch: it may start
    other processes deciding them too (`decide_activities`; SKIP LOCKED splits the rows). The
    sweep then composes only once no activity is due any more, so a person's notices of the day
    still share one mail."""
    return _sweep(
        lambda: transaction(sessions), now, batch=batch, ran_at=ran_at, composed=composed, helpers=helpers
    )


def decide_activities(
    sessions: sessionmaker[Session], now: datetime, *, batch: int = BATCH, ran_at: datetime | None = None
) -> SweepReport:
    """A helper of a sweep at `now`: decide due activities, a batch at a time, until none is left
    that another process does not hold. Composing is the sweep's."""
    report = SweepReport(in_window(now))
    _decide_all(lambda: transaction(sessions), ACTIVITIES, now, batch=batch, ran_at=ran_at, report=report)
    return report


def sweep_in(
    session: Session,
    now: datetime,
    *,
    batch: int = BATCH,
    ran_at: datetime | None = None,
    agreement_id: int | None = None,
) -> SweepReport:
    """The same sweep inside the caller's transaction: `--dry-run` rolls it back afterwards.
    `agreement_id`: that agreement's items, notices and mails only (the desk's preview of one)."""
    return _sweep(lambda: nullcontext(session), now, batch=batch, ran_at=ran_at, only=agreement_id)


def _sweep(
    step: Callable[[], AbstractContextManager[Session]],
    now: datetime,
    *,
    batch: int,
    ran_at: datetime | None,
    only: int | None = None,
    composed: Callable[[list[int]], None] | None = None,
    helpers: Callable[[datetime], None] | None = None,
) -> SweepReport:
    """Every due item in batches, then the day's mails composed; `step` gives each batch its session;
    `only`: one agreement's, else every agreement's."""
    report = SweepReport(in_window(now))
    with step() as session:  # first: an ended agreement's items are then not due any more
        ending = look_at_endings(session, now, only=only)
    report.ended, report.notices = ending.closed, ending.told
    with step() as session:  # the coordinators' weekly summaries, on the week's first working day
        report.notices += look_at_weeks(session, now)
    helped = False

    def ask_for_help() -> None:  # once, when more activities are due than a batch
        nonlocal helped
        if helpers is not None and not helped:
            helpers(now)
            helped = True

    for items in due_items():
        more = ask_for_help if items is ACTIVITIES else None
        _decide_all(step, items, now, batch=batch, ran_at=ran_at, only=only, report=report, more=more)
    if helped:
        _until_decided(step, now, batch, ran_at, report)
    mails = Composed()
    while True:
        with step() as session:
            part = compose(session, now, limit=COMPOSE_BATCH, only=only)
        mails.add(part)
        if composed is not None and part.mails:
            composed(part.mails)
        if part.picked < COMPOSE_BATCH:
            break
    report.mails, report.deferred = mails.mails, mails.deferred
    return report


def _decide_all(
    step,
    items: DueItems,
    now: datetime,
    *,
    batch: int,
    ran_at: datetime | None,
    report: SweepReport,
    only: int | None = None,
    more: Callable[[], None] | None = None,
) -> None:
    """Decide `items` due at `now` a batch at a time until none is left that another process does
    not hold; `more` is called after each full batch (more may be due)."""
    while True:
        with step() as session:
            done = run_batch(session, items, now, limit=batch, ran_at=ran_at, only=only)
        report.add(items.subject_type, done)
        if done.items < batch:
            return
        if more is not None:
            more()


HELPERS_WAIT = timedelta(minutes=10)  # a bound: a helper's batch takes seconds


def _until_decided(step, now: datetime, batch: int, ran_at: datetime | None, report: SweepReport) -> None:
    """Wait until no activity is due at `now` any more: the helpers' batches are committed (a helper
    that died released its rows, and they are decided here)."""
    give_up = time.monotonic() + HELPERS_WAIT.total_seconds()
    while time.monotonic() < give_up:
        with step() as session:
            done = run_batch(session, ACTIVITIES, now, limit=batch, ran_at=ran_at)
            report.add(ACTIVITIES.subject_type, done)
            if done.items:
                continue
            waiting = session.scalar(select(func.count()).select_from(ACTIVITIES.due(now).subquery()))
        if not waiting:
            return
        time.sleep(0.05)  # held by a helper: its batch commits in a moment
    log.warning("activities due at %s are still held after %s; composing what is decided", now, HELPERS_WAIT)


def due_items() -> tuple[DueItems, ...]:
    """What a sweep decides, in order: activities, then meetings (whose evaluation carries the
    report), then the cycles whose year's meeting plan is due."""
    return (ACTIVITIES, meeting_items(evaluation_report), MEETING_PLANS)


def next_due(session: Session) -> datetime | None:
    """The earliest instant a sweep or delivery has work: an item's next action, a notice waiting for
    its mail, a mail waiting for its attempt. None: nothing is scheduled at all. (Ending agreements
    are told and stopped on days of their own: `workflow.engine.ending`.)"""
    instants = [
        session.scalar(select(func.min(Activity.next_action_at))),
        session.scalar(select(func.min(Meeting.next_action_at))),
        session.scalar(select(func.min(Cycle.next_action_at))),  # the year's meeting plan
        session.scalar(
            select(func.min(Notice.due_at)).where(Notice.mail_id.is_(None), Notice.cancelled_at.is_(None))
        ),
        session.scalar(select(func.min(Mail.next_attempt_at)).where(Mail.status == MailStatus.PENDING)),
        # A claim whose worker died is claimable again when its lease runs out.
        session.scalar(select(func.min(Mail.claimed_until)).where(Mail.status == MailStatus.SENDING)),
    ]
    known = [instant for instant in instants if instant is not None]
    return min(known) if known else None
