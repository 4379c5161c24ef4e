"""Agreements that end: sixty days before the end the coordinator and management are told (renew or
archive); past the period and its grace (or archived) the engine stops for the agreement.

Run at the start of every sweep, before the due items: an ended agreement's activities and
meetings get no next action (so no sweep reads them again), and its notices that have not left
are cancelled, the reason in the audit log. Renewing gives the agreement a new period, and
`trygg agreement renew` schedules its items afresh.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from workflow.agreement.context import context_of
from workflow.agreement.lifecycle import ends_on, has_ended
from workflow.agreement.models import Agreement, Role
from workflow.agreement.roles import people_with_role
from workflow.audit import SYSTEM, record
from workflow.clock import FixedClock
from workflow.i18n import _
from workflow.meetings.models import Meeting
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.outbox.notices import NoticeDraft, add_notices, notice_row
from workflow.plan.models import Activity

# How long before its period ends an agreement's coordinator and management are told.
ENDING_NOTICE = timedelta(days=60)
ENDED_REASON = (
    "the agreement ended %(day)s (period %(end)s and %(grace)s days' grace): nothing more is sent for it"
)


@dataclass
class Ending:
    """What one sweep's look at ending agreements did."""

    closed: list[str] = field(default_factory=list)  # agreements the engine stopped for now
    cancelled: int = 0  # notices that will not be sent
    told: int = 0  # agreement_ending notices made


def ending_notice_day(agreement: Agreement) -> date:
    return agreement.period_end - ENDING_NOTICE


def ending_days(agreement: Agreement) -> tuple[date, date]:
    """The days a sweep acts on an agreement's end by itself: the day it is told, the day it stops."""
    return ending_notice_day(agreement), ends_on(agreement) + timedelta(days=1)


def tell_ending(agreement: Agreement, today: date) -> bool:
    """Is it time to tell that the agreement ends: from sixty days before its end until it has ended."""
    return ending_notice_day(agreement) <= today and not has_ended(agreement, today)


def look_at_endings(session: Session, now: datetime, *, only: int | None = None) -> Ending:
    """Tell of agreements about to end, and stop the engine for those that have ended (`only`: look
    at that agreement alone)."""
    done = Ending()
    query = select(Agreement).order_by(Agreement.id)
    if only is not None:
        query = query.where(Agreement.id == only)
    for agreement in session.scalars(query):
        today = now.astimezone(ZoneInfo(agreement.timezone)).date()
        if has_ended(agreement, today):
            cancelled = stop_agreement(session, agreement, now)
            if cancelled is not None:
                done.closed.append(agreement.key)
                done.cancelled += cancelled
        elif tell_ending(agreement, today):
            done.told += _tell(session, agreement, now)
    return done


def stop_agreement(session: Session, agreement: Agreement, now: datetime) -> int | None:
    """The engine stops for an ended or archived agreement: no next action for its items, its
    unsent notices cancelled, why in the audit log. None when it had stopped before."""
    scheduled = [
        session.scalar(
            select(model.id)
            .where(model.agreement_id == agreement.id, model.next_action_at.is_not(None))
            .limit(1)
        )
        for model in (Activity, Meeting)
    ]
    unsent = _unsent(agreement.id)
    waiting = session.scalar(select(Notice.id).where(unsent).limit(1))
    if not any(scheduled) and waiting is None:
        return None
    for model in (Activity, Meeting):
        session.execute(
            update(model)
            .where(model.agreement_id == agreement.id, model.next_action_at.is_not(None))
            .values(next_action_at=None)
            .execution_options(synchronize_session="fetch")
        )
    cancelled = session.execute(
        update(Notice).where(unsent).values(cancelled_at=now).execution_options(synchronize_session=False)
    ).rowcount
    if agreement.archived_at is not None:
        reason = _("the agreement is archived: nothing more is sent for it", agreement.language)
    else:
        reason = _(
            "the agreement ended %(day)s (its period %(end)s and %(grace)s days' grace): "
            "nothing more is sent for it",
            agreement.language,
            day=ends_on(agreement).isoformat(),
            end=agreement.period_end.isoformat(),
            grace=agreement.grace_days,
        )
    record(
        session,
        FixedClock(now),
        actor=SYSTEM,
        action="ended",
        entity="agreement",
        entity_key=agreement.key,
        agreement_id=agreement.id,
        after={"notices_cancelled": cancelled or 0, "ends_on": ends_on(agreement).isoformat()},
        reason=reason,
    )
    return cancelled or 0


def _unsent(agreement_id: int):
    """Notices of the agreement that have not left: unmailed, or in a mail still pending."""
    pending = select(Mail.id).where(Mail.agreement_id == agreement_id, Mail.status == MailStatus.PENDING)
    return and_(
        Notice.agreement_id == agreement_id,
        Notice.cancelled_at.is_(None),
        or_(Notice.mail_id.is_(None), Notice.mail_id.in_(pending)),
    )


def _tell(session: Session, agreement: Agreement, now: datetime) -> int:
    """One agreement_ending notice to each coordinator and member of management, once per period end."""
    occurrence = f"agreement:{agreement.id}:ending:{agreement.period_end.isoformat()}"
    told = select(Notice.id).where(Notice.agreement_id == agreement.id, Notice.occurrence == occurrence)
    if session.scalar(told.limit(1)) is not None:
        return 0  # told already: a sweep a minute costs one query per agreement in its last sixty days
    ctx = context_of(agreement)
    people = dict.fromkeys(
        people_with_role(session, agreement.id, Role.COORDINATOR)
        + people_with_role(session, agreement.id, Role.MANAGEMENT)
    )
    hour, minute = ctx.reminders.hour, ctx.reminders.minute
    first = ctx.workdays.send_time(ending_notice_day(agreement), hour, minute)
    today_slot = ctx.workdays.send_time(now.astimezone(ctx.zone).date(), hour, minute)
    if first > now:
        due = first
    elif today_slot <= now and today_slot.astimezone(ctx.zone).date() == now.astimezone(ctx.zone).date():
        due = now  # a sweep within today's send time: it goes today
    else:
        due = ctx.workdays.next_send_time(now, hour, minute)
    payload = {
        "agreement": agreement.key,
        "title": agreement.title,
        "period_start": agreement.period_start.isoformat(),
        "period_end": agreement.period_end.isoformat(),
        "ends_on": ends_on(agreement).isoformat(),
        "grace_days": agreement.grace_days,
        "next_start": (agreement.period_end + timedelta(days=1)).isoformat(),
    }
    rows = [
        notice_row(
            agreement_id=agreement.id,
            subject_type="agreement",
            subject_id=agreement.id,
            draft=NoticeDraft("agreement_ending", person, occurrence, due),
            payload=payload,
            now=now,
        )
        for person in people
    ]
    return add_notices(session, rows)
