"""What a page shows of the item a link acts on: an activity, a meeting, an extension request."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.models import Person
from workflow.meetings.models import Meeting
from workflow.outbox.models import Notice
from workflow.plan.models import Activity, ActivityStatusChange, ExtensionRequest
from workflow.plan.standing import effective_deadline
from workflow.reminders.sweep import ACTIVE_STATES

INVITATION_RULES = ("invitation", "checkin_invitation")


@dataclass(frozen=True)
class Report:
    """The last change of state of an activity, with its note."""

    state: str
    note: str | None
    at: datetime
    by: str


@dataclass(frozen=True)
class ActivityView:
    id: int
    key: str
    title: str
    area: str
    goal: str
    when: str | None
    state: str
    deadline: date | None  # the effective one (an approved extension when there is one)
    planned_deadline: date | None
    last_report: Report | None

    @property
    def actions(self) -> tuple[str, ...]:
        """What its people can answer (as the links of its reminders): an activity without a
        deadline (a recurring follow-up, a continuous duty) is only reported on."""
        if self.state not in ACTIVE_STATES:
            return ()
        return ("done", "progress", "extend") if self.deadline is not None else ("progress",)


@dataclass(frozen=True)
class InviteeView:
    person_id: int
    name: str
    organisation: str
    answer: str | None  # "yes", "no" or None
    deputy_for: str | None  # the name of whom they stand in for
    co_opted: bool


@dataclass(frozen=True)
class MeetingView:
    id: int
    key: str
    title: str
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    location: str | None
    agenda: tuple[str, ...]
    invitees: tuple[InviteeView, ...]
    # The invitations (with the agenda) have left: an item proposed now joins the agenda and the
    # minutes, but the agenda is not sent again.
    invitations_sent: bool = False


@dataclass(frozen=True)
class ExtensionView:
    id: int
    activity: ActivityView
    requested_deadline: date
    reason: str
    requested_by: str
    requested_at: datetime
    status: str
    decision_note: str | None


def activity_view(session: Session, activity: Activity) -> ActivityView:
    return activity_views(session, [activity])[0]


def activity_views(session: Session, activities: list[Activity]) -> list[ActivityView]:
    """The views of many activities in a fixed number of queries (a page of 20 or of 200 alike)."""
    lasts = last_reports(session, [a.id for a in activities])
    names = _actor_names(session, {c.actor for c in lasts.values()})
    return [
        ActivityView(
            id=activity.id,
            key=activity.key,
            title=activity.title,
            area=activity.goal.area.title,
            goal=activity.goal.title,
            when=activity.when_text,
            state=activity.state,
            deadline=effective_deadline(activity.deadline, activity.extended_deadline),
            planned_deadline=activity.deadline,
            last_report=Report(last.to_state, last.note, last.at, names.get(last.actor, ""))
            if (last := lasts.get(activity.id))
            else None,
        )
        for activity in activities
    ]


def last_reports(session: Session, activity_ids: list[int]) -> dict[int, ActivityStatusChange]:
    """Each activity's latest change someone made (the state a plan was loaded with is no report)."""
    if not activity_ids:
        return {}
    ranked = (
        select(
            ActivityStatusChange.id,
            func.row_number()
            .over(
                partition_by=ActivityStatusChange.activity_id,
                order_by=(ActivityStatusChange.at.desc(), ActivityStatusChange.id.desc()),
            )
            .label("rank"),
        )
        .where(
            ActivityStatusChange.activity_id.in_(activity_ids), ActivityStatusChange.from_state.is_not(None)
        )
        .subquery()
    )
    latest = session.scalars(
        select(ActivityStatusChange)
        .join(ranked, ranked.c.id == ActivityStatusChange.id)
        .where(ranked.c.rank == 1)
    )
    return {change.activity_id: change for change in latest}


def _actor_names(session: Session, actors: set[str]) -> dict[str, str]:
    """A person's name for each `person:<id>`; the engine and command lines stay unnamed (a login
    name means nothing to the reader; the coordinator recorded it)."""
    ids = {int(a.removeprefix("person:")) for a in actors if a.startswith("person:")}
    if not ids:
        return {}
    return {
        f"person:{pid}": name
        for pid, name in session.execute(select(Person.id, Person.name).where(Person.id.in_(ids)))
    }


def meeting_view(session: Session, meeting: Meeting, *, sent: bool | None = None) -> MeetingView:
    """A meeting as the pages show it; `sent`: whether its invitation went out, when the caller read
    that for many meetings at once (`invitations_sent_to`)."""
    names = {i.person_id: i.person.name for i in meeting.invitees}
    invitees = tuple(
        sorted(
            (
                InviteeView(
                    person_id=i.person_id,
                    name=i.person.name,
                    organisation=i.person.organisation.name,
                    answer=i.answer,
                    deputy_for=names.get(i.deputy_for_id) if i.deputy_for_id else None,
                    co_opted=i.co_opted,
                )
                for i in meeting.invitees
            ),
            key=lambda v: v.name,
        )
    )
    return MeetingView(
        id=meeting.id,
        key=meeting.key,
        title=meeting.title,
        kind=meeting.kind,
        status=meeting.status,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        location=meeting.location,
        agenda=tuple(item.title for item in meeting.agenda),
        invitees=invitees,
        invitations_sent=invitations_sent(session, meeting.id) if sent is None else sent,
    )


def invitations_sent(session: Session, meeting_id: int) -> bool:
    """Whether a live invitation to the meeting has been put in a mail."""
    return meeting_id in invitations_sent_to(session, [meeting_id])


def invitations_sent_to(session: Session, meeting_ids: list[int]) -> set[int]:
    """Those of the meetings whose live invitation has been put in a mail (one query for them all)."""
    if not meeting_ids:
        return set()
    return set(
        session.scalars(
            select(Notice.subject_id)
            .where(
                Notice.subject_type == "meeting",
                Notice.subject_id.in_(meeting_ids),
                Notice.rule.in_(INVITATION_RULES),
                Notice.mail_id.is_not(None),
                Notice.cancelled_at.is_(None),
            )
            .distinct()
        )
    )


def extension_view(session: Session, request: ExtensionRequest) -> ExtensionView:
    requester = session.get(Person, request.requested_by_id)
    return ExtensionView(
        id=request.id,
        activity=activity_view(session, request.activity),
        requested_deadline=request.requested_deadline,
        reason=request.reason,
        requested_by=requester.name if requester else "",
        requested_at=request.requested_at,
        status=request.status,
        decision_note=request.decision_note,
    )
