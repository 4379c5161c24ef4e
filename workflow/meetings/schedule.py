"""The meetings an agreement's cycle plans each year, and keeping their rows in step with it.

Council meetings, the two check-ins, the yearly review and the evaluation are rows (the
database is the truth about what is due). A meeting's key names its slot in the year
(`council-2012-2`), not its date, so moving it in the agreement file reschedules the same
meeting — same iCalendar UID, SEQUENCE raised — instead of making a new one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement, CouncilMembership, Organisation, Person
from workflow.audit import UnitOfWork
from workflow.i18n import _
from workflow.meetings.models import Invitee, Meeting, MeetingKind, MeetingStatus
from workflow.meetings.sweep import MOOT_ON_CANCEL, refresh_next_action
from workflow.outbox.notices import cancel_notices

_ORDINALS = {1: "1st", 2: "2nd", 3: "3rd", 4: "4th", 5: "last"}
_WEEKDAYS = {
    "monday": "mon",
    "tuesday": "tue",
    "wednesday": "wed",
    "thursday": "thu",
    "friday": "fri",
    "saturday": "sat",
    "sunday": "sun",
}


@dataclass(frozen=True)
class PlannedMeeting:
    key: str
    kind: MeetingKind
    year: int
    title: str
    starts_at: datetime  # aware UTC
    ends_at: datetime
    location: str | None


def slot(year: int, month: int, rule: Mapping[str, Any], tz: str) -> tuple[datetime, datetime]:
    """The n:th weekday of a month at a local time, as aware UTC start and end."""
    hour, minute = (int(x) for x in rule["time"].split(":"))
    trigger = CronTrigger(
        year=year,
        month=month,
        day=f"{_ORDINALS[rule['week_of_month']]} {_WEEKDAYS[rule['weekday']]}",
        hour=hour,
        minute=minute,
        timezone=ZoneInfo(tz),
    )
    start = trigger.get_next_fire_time(None, datetime(year, month, 1, tzinfo=ZoneInfo(tz)))
    start = start.astimezone(UTC)
    return start, start + timedelta(minutes=rule["duration_minutes"])


def planned_meetings(
    config: Mapping[str, Any], council_name: str, tz: str, year: int, language: str = "sv"
) -> list[PlannedMeeting]:
    """Every meeting the cycle's configuration plans in `year`, in date order, titled in `language`."""
    out: list[PlannedMeeting] = []

    def add(kind: MeetingKind, key: str, title: str, month: int, rule: Mapping[str, Any]) -> None:
        start, end = slot(year, month, rule, tz)
        out.append(PlannedMeeting(key, kind, year, title, start, end, rule.get("location")))

    council = config["council_meetings"]
    for n, month in enumerate(sorted(council["months"]), start=1):
        add(
            MeetingKind.COUNCIL,
            f"council-{year}-{n}",
            _(
                "%(council)s: council meeting %(n)s of %(of)s, %(year)s",
                language,
                council=council_name,
                n=n,
                of=len(council["months"]),
                year=year,
            ),
            month,
            council,
        )
    checks = config["check_ins"]
    for n, month in enumerate(sorted(checks["months"]), start=1):
        add(
            MeetingKind.CHECK_IN,
            f"check_in-{year}-{n}",
            _("Check-in municipality–police on the action plan %(n)s/2 %(year)s", language, n=n, year=year),
            month,
            checks,
        )
    review = config["yearly_review"]
    add(
        MeetingKind.YEARLY_REVIEW,
        f"yearly_review-{year}",
        _("Yearly review and revision of the action plan %(year)s", language, year=year),
        review["month"],
        review,
    )
    evaluation = config["evaluation"]
    add(
        MeetingKind.EVALUATION,
        f"evaluation-{year}",
        _("Evaluation %(year)s: report to police and municipal leadership", language, year=year),
        evaluation["month"],
        evaluation,
    )
    return sorted(out, key=lambda m: m.starts_at)


def reconcile_meetings(
    session: Session, unit: UnitOfWork, agreement: Agreement, years: Iterable[int]
) -> None:
    """Create the planned meetings of `years` that are missing, move the ones the agreement
    moved (SEQUENCE + 1) and cancel planned ones it no longer has. Held meetings are history."""
    wanted_years = sorted(set(years))
    existing = {
        m.key: m
        for m in session.scalars(
            select(Meeting).where(Meeting.agreement_id == agreement.id, Meeting.year.in_(wanted_years))
        )
    }
    planned = {
        p.key: p
        for year in wanted_years
        for p in planned_meetings(
            agreement.cycle_config, agreement.council_name, agreement.timezone, year, agreement.language
        )
    }
    touched: list[Meeting] = []
    for key, plan in planned.items():
        meeting = existing.get(key)
        if meeting is None:
            touched.append(_create_meeting(session, unit, agreement, plan))
        elif meeting.status == MeetingStatus.PLANNED and _snapshot(meeting) != _snapshot(plan):
            _move_meeting(unit, meeting, plan)
            touched.append(meeting)
    for key, meeting in existing.items():
        # Only the agreement's own slots are withdrawn; ad hoc meetings are someone's decision.
        if key not in planned and meeting.status == MeetingStatus.PLANNED and _is_slot(key):
            _withdraw_meeting(session, unit, meeting)
            touched.append(meeting)
        elif (
            meeting.status == MeetingStatus.PLANNED
            and meeting.next_action_at is None
            and meeting not in touched
        ):
            touched.append(meeting)  # planned before the engine scheduled meetings, or looked at again
    session.flush()
    # The engine finds them at their first notice: the agenda call, an update, a cancellation.
    for meeting in touched:
        session.refresh(meeting, ["invitees"])
    refresh_next_action(session, touched)


def _create_meeting(
    session: Session, unit: UnitOfWork, agreement: Agreement, plan: PlannedMeeting
) -> Meeting:
    """A new planned meeting in its slot, with the people its kind invites."""
    meeting = Meeting(
        agreement_id=agreement.id,
        key=plan.key,
        kind=plan.kind,
        year=plan.year,
        title=plan.title,
        starts_at=plan.starts_at,
        ends_at=plan.ends_at,
        location=plan.location,
        status=MeetingStatus.PLANNED,
        sequence=0,
    )
    session.add(meeting)
    session.flush()
    _invite(session, agreement, meeting)
    unit.audit("create", "meeting", plan.key, after=_snapshot(meeting))
    return meeting


def _move_meeting(unit: UnitOfWork, meeting: Meeting, plan: PlannedMeeting) -> None:
    """The agreement moved or renamed the slot: the same meeting, SEQUENCE + 1."""
    before = _snapshot(meeting)
    meeting.starts_at, meeting.ends_at = plan.starts_at, plan.ends_at
    meeting.title, meeting.location = plan.title, plan.location
    meeting.sequence += 1
    unit.audit("update", "meeting", meeting.key, before=before, after=_snapshot(meeting))


def _withdraw_meeting(session: Session, unit: UnitOfWork, meeting: Meeting) -> None:
    """The agreement no longer has the slot: cancel it and the notices a cancellation makes moot."""
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    unit.audit("cancel", "meeting", meeting.key, before={"status": "planned"}, after={"status": "cancelled"})
    cancel_notices(
        session,
        subject_type="meeting",
        subject_id=meeting.id,
        now=unit.clock.now(),
        rules=MOOT_ON_CANCEL,
    )


def _is_slot(key: str) -> bool:
    return key.split("-", 1)[0] in {k.value for k in MeetingKind}


def _snapshot(m: Meeting | PlannedMeeting) -> dict[str, Any]:
    return {
        "title": m.title,
        "starts_at": m.starts_at.isoformat(),
        "ends_at": m.ends_at.isoformat(),
        "location": m.location,
    }


def _invite(session: Session, agreement: Agreement, meeting: Meeting) -> None:
    """Who a planned meeting is for, by its kind (co-opted guests are added per meeting)."""
    day = meeting.starts_at.date()
    people = session.scalars(select(Person).where(Person.agreement_id == agreement.id, Person.active)).all()
    by_role = {
        role: [p for p in people if role in p.role_names]
        for role in ("coordinator", "management", "council_secretary")
    }
    members = [
        m.person
        for m in session.scalars(
            select(CouncilMembership).where(
                CouncilMembership.agreement_id == agreement.id, CouncilMembership.body == "council"
            )
        )
        if m.valid_from <= day and (m.valid_to is None or day <= m.valid_to)
    ]
    if meeting.kind in (MeetingKind.COUNCIL, MeetingKind.YEARLY_REVIEW):
        invited = members + by_role["council_secretary"] + by_role["coordinator"]
    elif meeting.kind == MeetingKind.CHECK_IN:
        party_keys = set(agreement.cycle_config["check_ins"]["parties"])
        parties = {
            o.id
            for o in session.scalars(select(Organisation).where(Organisation.agreement_id == agreement.id))
            if o.key in party_keys
        }
        invited = [p for p in people if p.is_contact and p.organisation_id in parties] + by_role[
            "coordinator"
        ]
    else:  # the evaluation is presented to both leaderships
        report_to = set(agreement.cycle_config["evaluation"]["report_to"])
        invited = [p for p in people if p.key in report_to] + by_role["coordinator"]
    seen: set[int] = set()
    for person in invited:
        if person.id not in seen:
            seen.add(person.id)
            session.add(Invitee(meeting_id=meeting.id, person_id=person.id, co_opted=False))


def period_years(agreement: Agreement) -> range:
    return range(agreement.period_start.year, agreement.period_end.year + 1)
