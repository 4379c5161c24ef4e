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

from workflow.agreement.models import Agreement, Person
from workflow.answers.views import ActivityView, activity_views
from workflow.meetings.models import Invitee, Meeting, MeetingStatus
from workflow.plan.models import Activity, ActivityOwner, ActivityState, ActivityStatusChange, Goal
from workflow.reminders.recipients import directories
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
            # Of the agreement only what the page names (its settings are JSON, parsed when read).
            .options(
                joinedload(Person.agreement).load_only(
                    Agreement.id, Agreement.key, Agreement.title, Agreement.timezone
                ),
                selectinload(Person.roles),
            )
        )
    )


def my_overview(session: Session, email: str, now: datetime) -> MyOverview:
    """My activities (overdue / due soon / ongoing / done this year) and next meetings, per agreement.

    Read set-based: the same statements for an officer of one agreement and a regional police chief
    of ten."""
    people = people_of(session, email)
    mine = _my_activities(session, people)
    everything = [a for activities in mine.values() for a in activities]
    done_at = _done_at(session, [a.id for a in everything if a.state == ActivityState.DONE])
    views = dict(zip((a.id for a in everything), activity_views(session, everything), strict=True))
    meetings = _my_meetings(session, [p.id for p in people], now)
    return MyOverview(
        email,
        tuple(
            _overview(person, mine[person.id], views, done_at, meetings.get(person.id, []), now)
            for person in people
        ),
    )


def _overview(
    person: Person,
    activities: list[Activity],
    views: dict[int, ActivityView],
    done_at: dict[int, datetime],
    meetings: list[MyMeeting],
    now: datetime,
) -> AgreementOverview:
    agreement = person.agreement
    zone = ZoneInfo(agreement.timezone)
    today = now.astimezone(zone).date()
    out = AgreementOverview(
        agreement.id, agreement.key, agreement.title, agreement.timezone, person.id, person.role_names
    )
    for activity in activities:
        view = views[activity.id]
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
    out.meetings = meetings
    return out


def my_activities(session: Session, person: Person) -> list[Activity]:
    """The active and done activities whose reminders go to `person`."""
    return _my_activities(session, [person])[person.id]


def _my_activities(session: Session, people: list[Person]) -> dict[int, list[Activity]]:
    """Per person: the active and done activities of their agreement whose reminders go to them."""
    agreement_ids = {p.agreement_id for p in people}
    if not agreement_ids:
        return {}
    found = directories(session, agreement_ids)
    # Whose each activity is, from plain rows; then only those activities are read whole (a regional
    # police chief's ten agreements hold two hundred activities, a few dozen of them theirs).
    owners: dict[int, tuple[int, list[int]]] = {}
    for activity_id, agreement_id, organisation_id in session.execute(
        select(Activity.id, Activity.agreement_id, ActivityOwner.organisation_id)
        .join(ActivityOwner, ActivityOwner.activity_id == Activity.id)
        .where(
            Activity.agreement_id.in_(agreement_ids),
            Activity.state.in_((*ACTIVE_STATES, ActivityState.DONE.value)),
        )
        .order_by(ActivityOwner.activity_id, ActivityOwner.position)
    ):
        owners.setdefault(activity_id, (agreement_id, []))[1].append(organisation_id)
    theirs = {
        person.id: {
            activity_id
            for activity_id, (agreement_id, organisations) in owners.items()
            if agreement_id == person.agreement_id
            and person.id in found[agreement_id].contacts_of(organisations)
        }
        for person in people
    }
    wanted = set().union(*theirs.values())
    activities = (
        session.scalars(
            select(Activity)
            .where(Activity.id.in_(sorted(wanted)))
            # Goal and area come in the same statement (one each per activity).
            .options(joinedload(Activity.goal, innerjoin=True).joinedload(Goal.area, innerjoin=True))
            .order_by(Activity.agreement_id, Activity.position)
        ).all()
        if wanted
        else []
    )
    return {person.id: [a for a in activities if a.id in theirs[person.id]] for person in people}


def _my_meetings(
    session: Session, person_ids: list[int], now: datetime, limit: int = 10
) -> dict[int, list[MyMeeting]]:
    """Per person: the next `limit` planned meetings they are invited to, with their answer (one statement)."""
    if not person_ids:
        return {}
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
            Invitee.person_id,
        )
        .join(Invitee, Invitee.meeting_id == Meeting.id)
        .where(
            Invitee.person_id.in_(person_ids),
            Meeting.status == MeetingStatus.PLANNED,
            Meeting.ends_at >= now,
        )
        .order_by(Meeting.starts_at, Meeting.id)
    ).all()
    out: dict[int, list[MyMeeting]] = {}
    for row in rows:
        theirs = out.setdefault(row.person_id, [])
        if len(theirs) < limit:
            theirs.append(MyMeeting(MeetingSummary(*row[:7]), row.answer))
    return out


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
