"""The coordinator's weekly summary: on Monday at the send hour, what went out last week, what is
overdue, what comes this week and which requests wait for her.

When it goes (a pure rule, `summary_day`): the week's Monday; when the Monday is a holiday (Easter
Monday, Whit Monday), the week's first working day, so that the overview still opens the week it
describes. A week whose first working day falls in a quiet week of the agreement gets none: the
reminders are held back then too, and the next summary covers what matters. A sweep later in the
same week catches up once; a week that has passed is not summarised afterwards. One notice per
(agreement, ISO week) and coordinator: the key makes it go once.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.context import AgreementContext, ReminderPolicy, context_of
from workflow.agreement.lifecycle import has_ended
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.meetings.models import Meeting, MeetingStatus
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.outbox.notices import NoticeDraft, add_notices, notice_row
from workflow.outbox.stand_ins import StandIns
from workflow.plan.models import Activity, ActivityOwner, ActivityState, ExtensionRequest, ExtensionStatus
from workflow.plan.standing import effective_deadline
from workflow.reminders.rules import ladder
from workflow.workdays import WorkCalendar

RULE = "weekly_summary"


def week_monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


def summary_day(monday: date, cal: WorkCalendar, policy: ReminderPolicy) -> date | None:
    """The day the summary of the week starting `monday` goes: its first working day, or None
    (no working day that week, or a quiet week)."""
    day = cal.next_working_day(monday)
    if day - monday >= timedelta(days=7):
        return None
    if policy.quiet_period_of(day) is not None:
        return None
    return day


def next_summary_day(agreement: Agreement, after: date) -> date | None:
    """The first day after `after` on which a weekly summary of `agreement` is due (within a
    year; None past its end): what a caller that skips quiet days must not skip."""
    ctx = context_of(agreement)
    monday = week_monday(after)
    for _ in range(53):
        day = summary_day(monday, ctx.workdays, ctx.reminders)
        if day is not None and day > after and day >= agreement.period_start:
            return None if has_ended(agreement, day) else day
        monday += timedelta(days=7)
    return None


def occurrence_of(agreement_id: int, monday: date) -> str:
    year, week, _ = monday.isocalendar()
    return f"agreement:{agreement_id}:week:{year}-W{week:02d}"


def look_at_weeks(session: Session, now: datetime) -> int:
    """Make this week's summary notices of every running agreement whose send time has come."""
    made = 0
    for agreement in session.scalars(select(Agreement).where(Agreement.archived_at.is_(None))):
        ctx = context_of(agreement)
        today = now.astimezone(ctx.zone).date()
        if today < agreement.period_start or has_ended(agreement, today):
            continue
        if not _sending(ctx, today, now):
            continue  # mail goes out on working days from the send hour, as every kind's does
        monday = week_monday(today)
        day = summary_day(monday, ctx.workdays, ctx.reminders)
        if day is None or day > today or day < agreement.period_start:
            continue
        if today > ctx.workdays.next_working_day(day + timedelta(days=1)):
            continue  # an engine down on the day catches up the next working day; later, the week is gone
        occurrence = occurrence_of(agreement.id, monday)
        told = select(Notice.id).where(Notice.agreement_id == agreement.id, Notice.occurrence == occurrence)
        if session.scalar(told.limit(1)) is not None:
            continue  # sent already: one query per agreement and sweep for the rest of the week
        coordinators = people_with_role(session, agreement.id, Role.COORDINATOR)
        if not coordinators:
            continue
        payload = week_payload(session, agreement, ctx, monday, now)
        stand_ins = StandIns(session, [agreement.id], now)  # a coordinator away: her deputy reads it
        rows = [
            stand_ins.route(
                notice_row(
                    agreement_id=agreement.id,
                    subject_type="agreement",
                    subject_id=agreement.id,
                    draft=NoticeDraft(RULE, person, occurrence, now),
                    payload=payload,
                    now=now,
                )
            )
            for person in coordinators
        ]
        made += add_notices(session, rows)
    return made


def _sending(ctx: AgreementContext, today: date, now: datetime) -> bool:
    """Is `now` within a working day's sending time of the agreement."""
    send_at = ctx.workdays.send_time(today, ctx.reminders.hour, ctx.reminders.minute)
    return ctx.workdays.is_working_day(today) and now >= send_at


def week_payload(
    session: Session, agreement: Agreement, ctx: AgreementContext, monday: date, now: datetime
) -> dict[str, Any]:
    """What the summary of the week starting `monday` says, read at `now`."""
    start = datetime.combine(monday, time(), tzinfo=ctx.zone)
    overdue, coming = _activities(session, agreement, ctx, monday, now)
    year, week, _ = monday.isocalendar()
    return {
        "agreement": agreement.key,
        "week": week,
        "week_year": year,
        "monday": monday.isoformat(),
        "last_monday": (monday - timedelta(days=7)).isoformat(),
        "last_sunday": (monday - timedelta(days=1)).isoformat(),
        "sent": _mails(session, agreement, start, MailStatus.SENT, Mail.sent_at),
        "failed": _mails(session, agreement, start, MailStatus.FAILED, Mail.created_at),
        "overdue": overdue,
        "coming": coming,
        "meetings": _meetings(session, agreement, start),
        "requests": _requests(session, agreement),
    }


def _mails(session: Session, agreement: Agreement, start: datetime, status: str, at) -> dict[str, int]:
    """The agreement's mails of a status in the week before `start`, counted by kind (the summary
    itself left out: she has read it)."""
    kinds = session.scalars(
        select(Mail.kind).where(
            Mail.agreement_id == agreement.id,
            Mail.kind != RULE,
            Mail.status == status,
            at >= start - timedelta(days=7),
            at < start,
        )
    )
    return dict(sorted(Counter(kinds).items()))


def _activities(
    session: Session, agreement: Agreement, ctx: AgreementContext, monday: date, now: datetime
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The open activities past their deadline (with the ladder's step), and those due this week."""
    today = now.astimezone(ctx.zone).date()
    activities = session.scalars(
        select(Activity)
        .where(
            Activity.agreement_id == agreement.id,
            Activity.state.in_((ActivityState.OPEN.value, ActivityState.IN_PROGRESS.value)),
        )
        .options(selectinload(Activity.owners).selectinload(ActivityOwner.organisation))
        .order_by(Activity.id)
    ).all()
    overdue, coming = [], []
    for activity in activities:
        due = effective_deadline(activity.deadline, activity.extended_deadline)
        if due is None or due >= monday + timedelta(days=7):
            continue
        row = {
            "activity": activity.key,
            "title": activity.title,
            "owners": [o.organisation.name for o in activity.owners],
            "due": due.isoformat(),
        }
        if due >= today:
            coming.append(row)
            continue
        steps = [step.to for at, step in ladder(due, ctx.reminders, ctx.workdays) if at <= now]
        acknowledged = activity.acknowledged_at
        overdue.append(
            {
                **row,
                "days_late": max(ctx.workdays.working_days_between(due, today), 1),
                "stage": steps[-1] if steps else None,
                "acknowledged": acknowledged is not None and acknowledged.astimezone(ctx.zone).date() > due,
            }
        )
    order = lambda r: (r["due"], r["title"])  # noqa: E731
    return sorted(overdue, key=order), sorted(coming, key=order)


def _meetings(session: Session, agreement: Agreement, start: datetime) -> list[dict[str, str]]:
    """The planned meetings of the week starting at `start`."""
    meetings = session.scalars(
        select(Meeting)
        .where(
            Meeting.agreement_id == agreement.id,
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.starts_at >= start,
            Meeting.starts_at < start + timedelta(days=7),
        )
        .order_by(Meeting.starts_at)
    )
    return [
        {"title": m.title, "key": m.key, "start": m.starts_at.isoformat(), "end": m.ends_at.isoformat()}
        for m in meetings
    ]


def _requests(session: Session, agreement: Agreement) -> list[dict[str, str]]:
    """The requests for a new date that wait for the coordinator's decision, oldest first."""
    rows = session.execute(
        select(ExtensionRequest, Person.name)
        .join(Person, Person.id == ExtensionRequest.requested_by_id)
        .where(
            ExtensionRequest.agreement_id == agreement.id,
            ExtensionRequest.status == ExtensionStatus.PENDING,
        )
        .options(selectinload(ExtensionRequest.activity))
        .order_by(ExtensionRequest.requested_at)
    ).all()
    return [
        {
            "title": r.activity.title,
            "by": name,
            "requested_deadline": r.requested_deadline.isoformat(),
            "reason": r.reason,
        }
        for r, name in rows
    ]
