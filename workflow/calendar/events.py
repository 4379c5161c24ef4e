"""Every dated event of an agreement in a period: deadlines, follow-ups, step deadlines, meetings."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement
from workflow.cycle.models import Cycle, CycleStep
from workflow.i18n import _
from workflow.ical import uid
from workflow.meetings.models import Meeting, MeetingStatus
from workflow.plan.models import Activity, ActivityEvent, ActivityState
from workflow.plan_language.timing import follow_ups

# The kinds of event, in the order a day's events are listed.
KINDS = (
    "council",
    "check_in",
    "yearly_review",
    "evaluation",
    "step",
    "deadline",
    "follow_up",
    "event_follow_up",
)


@dataclass(frozen=True)
class CalendarEvent:
    uid: str  # stable across exports: calendars update an event instead of duplicating it
    kind: str
    summary: str
    start: date | datetime  # a date for all-day events, an aware datetime for meetings
    end: date | datetime
    description: str = ""
    location: str | None = None
    sequence: int = 0
    cancelled: bool = False
    refs: tuple[str, ...] = field(default=())

    @property
    def all_day(self) -> bool:
        return not isinstance(self.start, datetime)

    @property
    def day(self) -> date:
        return self.start if self.all_day else self.start.date()

    def as_json(self, tz: str) -> dict:
        def show(value: date | datetime) -> str:
            return value.isoformat() if self.all_day else value.astimezone(ZoneInfo(tz)).isoformat()

        return {
            "uid": self.uid,
            "kind": self.kind,
            "summary": self.summary,
            "start": show(self.start),
            "end": show(self.end),
            "all_day": self.all_day,
            "location": self.location,
            "cancelled": self.cancelled,
            "refs": list(self.refs),
        }


def calendar_events(session: Session, agreement: Agreement, start: date, end: date) -> list[CalendarEvent]:
    """Events from `start` to `end` inclusive, in date order."""
    events = _meetings(session, agreement, start, end)
    events += _steps(session, agreement, start, end)
    events += _planned_dates(session, agreement, start, end)
    events += _event_follow_ups(session, agreement, start, end)
    return sorted(events, key=lambda e: (e.day, KINDS.index(e.kind), e.uid))


def _meetings(session: Session, agreement: Agreement, start: date, end: date) -> list[CalendarEvent]:
    tz = ZoneInfo(agreement.timezone)
    lo = datetime(start.year, start.month, start.day, tzinfo=tz)
    hi = datetime(end.year, end.month, end.day, 23, 59, 59, tzinfo=tz)
    meetings = session.scalars(
        select(Meeting)
        .where(Meeting.agreement_id == agreement.id, Meeting.starts_at >= lo, Meeting.starts_at <= hi)
        .order_by(Meeting.starts_at)
    )
    return [
        CalendarEvent(
            uid=uid(agreement.key, "meeting", m.key),
            kind=m.kind,
            summary=m.title,
            start=m.starts_at,
            end=m.ends_at,
            location=m.location,
            sequence=m.sequence,
            cancelled=m.status == MeetingStatus.CANCELLED,
            refs=(m.key,),
            description=f"{agreement.title}\n{agreement.council_name}",
        )
        for m in meetings
    ]


def _steps(session: Session, agreement: Agreement, start: date, end: date) -> list[CalendarEvent]:
    steps = session.scalars(
        select(CycleStep)
        .join(Cycle)
        .where(Cycle.agreement_id == agreement.id, CycleStep.deadline >= start, CycleStep.deadline <= end)
    )
    return [
        CalendarEvent(
            uid=uid(agreement.key, "step", f"{s.cycle.year}-{s.number}"),
            kind="step",
            summary=_(
                "Step %(step)s (%(year)s) due: %(title)s",
                agreement.language,
                step=s.number,
                year=s.cycle.year,
                title=s.title,
            ),
            start=s.deadline,
            end=s.deadline,
            refs=(f"{s.cycle.year}/{s.number}",),
        )
        for s in steps
    ]


def _planned_dates(session: Session, agreement: Agreement, start: date, end: date) -> list[CalendarEvent]:
    """Each activity's deadline and the follow-ups of its timing that fall in the period."""
    context = context_of(agreement)
    ctx, days = context.timing, context.workdays
    out: list[CalendarEvent] = []
    activities = session.scalars(
        select(Activity).where(
            Activity.agreement_id == agreement.id, Activity.state != ActivityState.WITHDRAWN
        )
    )
    for act in activities:
        due = act.deadline
        if due is not None and start <= due <= end:
            out.append(
                CalendarEvent(
                    uid=uid(agreement.key, "deadline", act.key),
                    kind="deadline",
                    summary=_("Due: %(title)s", agreement.language, title=act.title),
                    start=due,
                    end=due,
                    refs=(act.key,),
                    description=_activity_description(act, agreement.language),
                )
            )
        if act.timing:
            for day in follow_ups(act.timing, ctx, days, start, end):
                out.append(
                    CalendarEvent(
                        uid=uid(agreement.key, "follow_up", f"{act.key}-{day.isoformat()}"),
                        kind="follow_up",
                        summary=_("Follow-up: %(title)s", agreement.language, title=act.title),
                        start=day,
                        end=day,
                        refs=(act.key,),
                        description=_activity_description(act, agreement.language),
                    )
                )
    return out


def _activity_description(act: Activity, language: str) -> str:
    return _(
        "When: %(when)s\nResponsible: %(responsible)s",
        language,
        when=act.when_text or "",
        responsible=act.responsible_text or "",
    )


def _event_follow_ups(session: Session, agreement: Agreement, start: date, end: date) -> list[CalendarEvent]:
    """The follow-ups due in the period after events reported on activities."""
    triggered = session.scalars(
        select(ActivityEvent)
        .join(Activity)
        .where(
            Activity.agreement_id == agreement.id, ActivityEvent.due_on >= start, ActivityEvent.due_on <= end
        )
    )
    return [
        CalendarEvent(
            uid=uid(agreement.key, "event", str(ev.id)),
            kind="event_follow_up",
            summary=_("Follow-up after an event: %(title)s", agreement.language, title=ev.activity.title),
            description=ev.note,
            start=ev.due_on,
            end=ev.due_on,
            refs=(ev.activity.key, f"event-{ev.id}"),
        )
        for ev in triggered
    ]
