"""The year's meeting plan: when a year's cycle opens, the council gets one `meeting_plan` mail each.

The council here is everyone its own meetings (council meetings, the yearly review) invite:
the members, the secretary and the convener.

It lists the year's meetings ahead that the member is invited to (date, time, place), attaches
them as one METHOD:PUBLISH calendar file with the UIDs the invitations will use (so a calendar
holds each slot months ahead, and the invitation later updates that same event), and gives the
member's calendar feed address. Deciding is pure (`decide_meeting_plan`); the cycle row's
`next_action_at` makes the sweep look at it once, at the first send slot after it opens.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.context import MeetingPolicy, meeting_policy, work_calendar
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.audit import SYSTEM, record
from workflow.clock import FixedClock
from workflow.cycle.models import Cycle
from workflow.i18n import _
from workflow.ical import uid
from workflow.links.feeds import live_feed, new_feed
from workflow.meetings.invitation import meetings_publish
from workflow.meetings.models import Invitee, Meeting, MeetingStatus
from workflow.meetings.rules import CALLED_KINDS
from workflow.outbox.batch import DueItems, PerAgreement
from workflow.outbox.notices import Decision, NoticeDraft
from workflow.workdays import WorkCalendar

RULE = "meeting_plan"


@dataclass(frozen=True)
class PlanFacts:
    """A cycle's year and, for each council member, the ids of the year's meetings still ahead."""

    year: int
    members: tuple[tuple[int, tuple[int, ...]], ...]


def decide_meeting_plan(
    facts: PlanFacts, cal: WorkCalendar, policy: MeetingPolicy, now: datetime
) -> Decision:
    """One notice per member with meetings ahead, at a working day's send time; then nothing more.

    The key names the rule, the member and the year: deciding again never mails a plan twice."""
    today = now.astimezone(cal.tz).date()
    if not (cal.is_working_day(today) and now >= cal.send_time(today, policy.hour, policy.minute)):
        return Decision((), cal.next_send_time(now, policy.hour, policy.minute))
    notices = tuple(
        NoticeDraft(RULE, person, f"year:{facts.year}", now, {"year": facts.year})
        for person, meetings in facts.members
        if meetings
    )
    return Decision(notices, None)


def plan_due_from(year_start: datetime, opened_at: datetime) -> datetime:
    """When a newly opened cycle's plan is due: at once, or from its year's start if that is earlier
    (a cycle opened for a year already running, say on a first load, plans what is left of it)."""
    return min(year_start, opened_at)


@dataclass
class _Agreement:
    agreement: Agreement
    calendar: WorkCalendar
    policy: MeetingPolicy
    organizer: Person | None


def _read(session: Session, agreement: Agreement) -> _Agreement:
    coordinators = people_with_role(session, agreement.id, Role.COORDINATOR)
    return _Agreement(
        agreement,
        work_calendar(agreement.timezone, agreement.calendar_config),
        meeting_policy(agreement.meetings_config, agreement.reminders_config),
        session.get(Person, coordinators[0]) if coordinators else None,
    )


class _Batch:
    def __init__(self, session: Session, cycles: Sequence[Cycle]) -> None:
        self.session = session
        self.agreements = PerAgreement(session, _read)
        self.meetings: dict[int, list[Meeting]] = {}

    def ahead(self, cycle: Cycle, now: datetime) -> dict[int, list[Meeting]]:
        """Each council member of the cycle's year: the year's planned meetings ahead they are invited to."""
        if cycle.id in self.meetings:
            return self.meetings[cycle.id]  # type: ignore[return-value]
        members = _members(self.session, cycle.agreement_id, cycle.year)
        rows = self.session.execute(
            select(Invitee.person_id, Meeting)
            .join(Meeting, Meeting.id == Invitee.meeting_id)
            .where(
                Meeting.agreement_id == cycle.agreement_id,
                Meeting.year == cycle.year,
                Meeting.status == MeetingStatus.PLANNED,
                Meeting.starts_at > now,
                Invitee.person_id.in_(members),
            )
            .order_by(Meeting.starts_at, Meeting.id)
        ).all()
        out: dict[int, list[Meeting]] = {p: [] for p in members}
        for person_id, meeting in rows:
            out[person_id].append(meeting)
        self.meetings[cycle.id] = out  # type: ignore[assignment]
        return out


def _members(session: Session, agreement_id: int, year: int) -> list[int]:
    """Who sits in the council's own meetings of `year` (members, secretary, the convener; not
    co-opted guests), active."""
    return sorted(
        set(
            session.scalars(
                select(Invitee.person_id)
                .join(Meeting, Meeting.id == Invitee.meeting_id)
                .join(Person, Person.id == Invitee.person_id)
                .where(
                    Meeting.agreement_id == agreement_id,
                    Meeting.year == year,
                    Meeting.kind.in_(CALLED_KINDS),
                    Invitee.co_opted.is_(False),
                    Person.active,
                )
            )
        )
    )


def _decide(batch: _Batch, cycle: Cycle, now: datetime) -> Decision:
    rules = batch.agreements(cycle)
    ahead = batch.ahead(cycle, now)
    facts = PlanFacts(cycle.year, tuple((p, tuple(m.id for m in ms)) for p, ms in ahead.items()))
    return decide_meeting_plan(facts, rules.calendar, rules.policy, now)


def _payloads(batch: _Batch, decided, now: datetime):
    def payload(cycle: Cycle, draft: NoticeDraft) -> dict[str, Any]:
        rules = batch.agreements(cycle)
        agreement = rules.agreement
        person = batch.session.get(Person, draft.recipient_id)
        language = "en" if person.language == "en" else "sv"
        meetings = batch.ahead(cycle, now)[person.id]
        name = _("%(council)s: meetings %(year)s", language, council=agreement.council_name, year=cycle.year)
        ics = meetings_publish(
            agreement,
            meetings,
            organizer=rules.organizer,
            stamp=now,
            name=name,
            descriptions={m.id: f"{agreement.title}\n{agreement.council_name}" for m in meetings},
        ).decode("utf-8")
        return {
            "year": cycle.year,
            "meetings": [
                {
                    "meeting": m.key,
                    "uid": uid(agreement.key, "meeting", m.key),
                    "title": m.title,
                    "kind": m.kind,
                    "day": m.starts_at.astimezone(rules.calendar.tz).date().isoformat(),
                    "starts_at": m.starts_at.isoformat(),
                    "ends_at": m.ends_at.isoformat(),
                    "location": m.location,
                }
                for m in meetings
            ],
            "organizer": {"name": rules.organizer.name} if rules.organizer else None,
            "feed_id": _feed(batch.session, agreement, person, now),
            "attachment": {
                "filename": _("meetings-%(year)s.ics", language, year=cycle.year),
                "content_type": "text/calendar",
                "content": ics,
            },
        }

    return payload


def _feed(session: Session, agreement: Agreement, person: Person, now: datetime) -> int:
    """The person's live calendar feed, made (and audited, by the engine) if they have none."""
    feed = live_feed(session, person.id)
    if feed is None:
        feed = new_feed(session, person.id, now)
        record(
            session,
            FixedClock(now),
            actor=SYSTEM,
            action="create_feed",
            entity="person",
            entity_key=person.key,
            agreement_id=agreement.id,
            after={"feed": feed.id, "for": RULE},
        )
    return feed.id


MEETING_PLANS = DueItems(
    subject_type="cycle",
    model=Cycle,
    due=lambda now: select(Cycle).where(Cycle.next_action_at <= now),
    prepare=_Batch,
    decide=_decide,
    payloads=_payloads,
)
