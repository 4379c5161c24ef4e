"""*Mina uppgifter*: everything one address is asked to do, across every agreement it belongs to.

My activities are those whose reminders come to me (the contact people of their organisations,
`workflow.reminders.recipients`), grouped as the page shows them; my meetings are the planned
ones I am invited to, with my answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import func, select
from sqlalchemy.orm import Session, joinedload, selectinload

from workflow.agreement.models import Person
from workflow.answers.views import ActivityView, activity_views
from workflow.meetings.models import Invitee, Meeting, MeetingStatus
from workflow.plan.models import Activity, ActivityState, ActivityStatusChange, Goal
from workflow.reminders.recipients import directory
from workflow.reminders.sweep import ACTIVE_STATES

DUE_SOON = timedelta(days=14)  # "due soon": the first reminder of the default stages comes 14 days before


@dataclass(frozen=True)
class MeetingSummary:
    """What /me lists of a meeting (the whole meeting, with agenda and invitees, is a link away)."""

    id: int
    key: str
    title: str
    kind: str
    starts_at: datetime
    ends_at: datetime
    location: str | None


@dataclass(frozen=True)
class MyMeeting:
    meeting: MeetingSummary
    answer: str | None  # "yes", "no" or None


@dataclass
class AgreementOverview:
    """One agreement as one person of it sees it."""

    agreement_id: int
    agreement_key: str
    agreement_title: str
    timezone: str
    person_id: int
    roles: list[str]
    overdue: list[ActivityView] = field(default_factory=list)
    due_soon: list[ActivityView] = field(default_factory=list)
    ongoing: list[ActivityView] = field(default_factory=list)
    done_this_year: list[ActivityView] = field(default_factory=list)
    meetings: list[MyMeeting] = field(default_factory=list)


@dataclass(frozen=True)
class MyOverview:
    email: str
    agreements: tuple[AgreementOverview, ...]


def people_of(session: Session, email: str) -> list[Person]:
    """Every active person record with this address (any case): one per agreement, usually; with
    their agreement and roles (read with them, not one query each)."""
    address = email.strip().lower()
    return list(
        session.scalars(
            select(Person)
            .where(func.lower(Person.email) == address, Person.active)
            .order_by(Person.id)
            .options(joinedload(Person.agreement), selectinload(Person.roles))
        )
    )


def my_overview(session: Session, email: str, now: datetime) -> MyOverview:
    """My activities (overdue / due soon / ongoing / done this year) and next meetings, per agreement."""
    return MyOverview(email, tuple(_overview(session, person, now) for person in people_of(session, email)))


def _overview(session: Session, person: Person, now: datetime) -> AgreementOverview:
    agreement = person.agreement
    today = now.astimezone(ZoneInfo(agreement.timezone)).date()
    out = AgreementOverview(
        agreement.id, agreement.key, agreement.title, agreement.timezone, person.id, person.role_names
    )
    activities = my_activities(session, person)
    done_at = _done_at(session, [a.id for a in activities if a.state == ActivityState.DONE])
    zone = ZoneInfo(agreement.timezone)
    for activity, view in zip(activities, activity_views(session, activities), strict=True):
        if activity.state == ActivityState.DONE:
            at = done_at.get(activity.id)
            if at is not None and at.astimezone(zone).year == today.year:
                out.done_this_year.append(view)
        elif view.deadline is not None and view.deadline < today:
            out.overdue.append(view)
        elif view.deadline is not None and view.deadline <= today + DUE_SOON:
            out.due_soon.append(view)
        else:
            out.ongoing.append(view)
    for group in (out.overdue, out.due_soon, out.ongoing, out.done_this_year):
        group.sort(key=lambda v: (v.deadline is None, v.deadline or today, v.title))
    out.meetings = my_meetings(session, person, now)
    return out


def my_activities(session: Session, person: Person) -> list[Activity]:
    """The active and done activities whose reminders go to `person`."""
    people = directory(session, person.agreement_id)
    activities = session.scalars(
        select(Activity)
        .where(
            Activity.agreement_id == person.agreement_id,
            Activity.state.in_((*ACTIVE_STATES, ActivityState.DONE.value)),
        )
        # Goal and area come in the same statement (one each per activity), the owners in one more.
        .options(
            selectinload(Activity.owners),
            joinedload(Activity.goal, innerjoin=True).joinedload(Goal.area, innerjoin=True),
        )
        .order_by(Activity.position)
    )
    return [a for a in activities if person.id in people.contacts_of([o.organisation_id for o in a.owners])]


def my_meetings(session: Session, person: Person, now: datetime, limit: int = 10) -> list[MyMeeting]:
    """The planned meetings ahead that I am invited to, with my answer (one statement)."""
    rows = session.execute(
        select(
            Meeting.id,
            Meeting.key,
            Meeting.title,
            Meeting.kind,
            Meeting.starts_at,
            Meeting.ends_at,
            Meeting.location,
            Invitee.answer,
        )
        .join(Invitee, Invitee.meeting_id == Meeting.id)
        .where(
            Invitee.person_id == person.id, Meeting.status == MeetingStatus.PLANNED, Meeting.ends_at >= now
        )
        .order_by(Meeting.starts_at)
        .limit(limit)
    ).all()
    return [MyMeeting(MeetingSummary(*row[:-1]), row.answer) for row in rows]


def _done_at(session: Session, activity_ids: list[int]) -> dict[int, datetime]:
    """When each of these activities was last marked done (one query)."""
    if not activity_ids:
        return {}
    return dict(
        session.execute(
            select(ActivityStatusChange.activity_id, func.max(ActivityStatusChange.at))
            .where(
                ActivityStatusChange.activity_id.in_(activity_ids),
                ActivityStatusChange.to_state == ActivityState.DONE.value,
            )
            .group_by(ActivityStatusChange.activity_id)
        ).all()
    )
