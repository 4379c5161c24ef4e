"""What a meeting needs said at an instant: calls, invitations, updates, reports, minutes. Pure functions.

Facts and a clock in, notices and the next instant to look again out. Who has been told what
is itself a fact (read from the meeting's notices), so deciding twice never tells anyone twice,
and every notice carries the key (rule, recipient, occurrence) that makes it unique.

The rules, with the agreement's `meetings` settings (defaults in brackets):
- Council meetings and the yearly review: an `agenda_call` to the invited members [14 days
  before]; skipped once the invitation is due, because the invitation carries the agenda.
- Every meeting: its invitation [7 days before] — `checkin_invitation` for a check-in,
  `invitation` otherwise — to everyone invited, co-opted guests too, with a calendar part.
  Someone invited later (a guest co-opted after the invitations left) gets theirs at the next
  sweep. Nothing is sent for a meeting that has begun.
- A change (new time or place: a higher SEQUENCE) sends a `meeting_update` to everyone already
  holding an older version; a cancellation sends a `cancellation` to everyone told anything.
- Check-ins: a `checkin_report` to the invited [2 days before]; the evaluation: the
  `evaluation` mail with the yearly report to both leaderships [2 days before].
- After the meeting: a `minutes_request` to whoever takes the minutes [1 day after], then
  again [7 days after, and every 7 days] until the minutes are recorded — only for meetings
  trygg convened (someone was told of it): a meeting from before trygg knew of it is not
  chased. Catch-up sends the latest chase only.
- Recorded minutes (each revision) go in a `minutes` mail to everyone invited.
- Days before a meeting that are days off move to the working day before; days after, to the
  working day after. Nothing is sent outside a working day's send time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from workflow.agreement.context import MeetingPolicy
from workflow.meetings.models import MeetingKind, MeetingStatus
from workflow.outbox.notices import Decision, NoticeDraft
from workflow.workdays import WorkCalendar

CALLED_KINDS = (MeetingKind.COUNCIL, MeetingKind.YEARLY_REVIEW)  # the council's own meetings


@dataclass(frozen=True)
class MeetingFacts:
    """What the rules need to know about one meeting; people are person ids."""

    meeting_id: int
    kind: str
    status: str
    starts_at: datetime
    ends_at: datetime
    sequence: int
    invitees: tuple[tuple[int, bool], ...]  # (person, co-opted)
    # Who has been told of the meeting, and the SEQUENCE of the calendar version they hold
    # (None: told, but without a calendar part yet — the agenda call, a report).
    told: Mapping[int, int | None] = field(default_factory=dict)
    minutes_revision: int = 0  # the latest recorded revision, 0: none
    minutes_takers: tuple[int, ...] = ()
    report_to: tuple[int, ...] = ()  # the evaluation's leaderships

    @property
    def invited(self) -> tuple[int, ...]:
        return tuple(p for p, _ in self.invitees)

    @property
    def members(self) -> tuple[int, ...]:
        return tuple(p for p, co_opted in self.invitees if not co_opted)


@dataclass(frozen=True)
class Timeline:
    """The instants of one meeting's phases."""

    agenda_call: datetime | None
    invitation: datetime
    report: datetime | None
    minutes_request: datetime
    minutes_due: datetime
    chase_every: int
    _cal: WorkCalendar
    _policy: MeetingPolicy
    _end_day: date

    @property
    def propose_by(self) -> date:
        """The last day to propose agenda items: the working day before the invitation goes out."""
        day = self.invitation.astimezone(self._cal.tz).date()
        return self._cal.previous_working_day(day - timedelta(days=1))

    def chase(self, n: int) -> datetime:
        """The n:th time the minutes are asked for: 0 the request, 1 … the chases."""
        if n == 0:
            return self.minutes_request
        days = self._policy.minutes_due_days + (n - 1) * self.chase_every
        return _after(self._cal, self._policy, self._end_day, days)


def timeline(facts: MeetingFacts, policy: MeetingPolicy, cal: WorkCalendar) -> Timeline:
    start_day = facts.starts_at.astimezone(cal.tz).date()
    end_day = facts.ends_at.astimezone(cal.tz).date()
    called = facts.kind in CALLED_KINDS and policy.agenda_call_days > 0
    reported = facts.kind in (MeetingKind.CHECK_IN, MeetingKind.EVALUATION)
    return Timeline(
        agenda_call=_before(cal, policy, start_day, policy.agenda_call_days) if called else None,
        invitation=_before(cal, policy, start_day, policy.invitation_days),
        report=_before(cal, policy, start_day, policy.report_days) if reported else None,
        minutes_request=_after(cal, policy, end_day, policy.minutes_request_days),
        minutes_due=_after(cal, policy, end_day, policy.minutes_due_days),
        chase_every=policy.chase_every_days,
        _cal=cal,
        _policy=policy,
        _end_day=end_day,
    )


def _before(cal: WorkCalendar, policy: MeetingPolicy, day: date, days: int) -> datetime:
    return cal.send_time(cal.previous_working_day(day - timedelta(days=days)), policy.hour, policy.minute)


def _after(cal: WorkCalendar, policy: MeetingPolicy, day: date, days: int) -> datetime:
    return cal.send_time(day + timedelta(days=days), policy.hour, policy.minute)


def first_action_at(facts: MeetingFacts, policy: MeetingPolicy, cal: WorkCalendar) -> datetime | None:
    """The earliest instant anything could be due for the meeting: where a new schedule starts.

    Starting early is harmless: a sweep applies the catch-up rules, and keys and the told
    facts keep anything already said from being said again.
    """
    line = timeline(facts, policy, cal)
    if facts.status == MeetingStatus.CANCELLED:
        return line.agenda_call or line.invitation if facts.told else None
    if facts.status == MeetingStatus.CLOSED:
        return facts.starts_at  # minutes are recorded after the start; they go out at once
    return min(t for t in (line.agenda_call, line.invitation, line.report) if t is not None)


def decide_meeting(facts: MeetingFacts, policy: MeetingPolicy, cal: WorkCalendar, now: datetime) -> Decision:
    """The notices due for a meeting at `now`, and when to look at it again."""
    if now.tzinfo is None:
        raise ValueError("decide_meeting needs an aware instant")
    line = timeline(facts, policy, cal)
    notices: list[NoticeDraft] = []
    later: list[datetime] = []
    occurrence = f"meeting:{facts.meeting_id}"
    if facts.status == MeetingStatus.CANCELLED:
        for person in facts.told:
            notices.append(
                NoticeDraft("cancellation", person, f"{occurrence}:cancel", now, {"sequence": facts.sequence})
            )
    elif facts.status == MeetingStatus.CLOSED:
        if facts.minutes_revision:
            rev = facts.minutes_revision
            for person in facts.invited:
                notices.append(
                    NoticeDraft("minutes", person, f"{occurrence}:minutes:{rev}", now, {"revision": rev})
                )
    elif now < facts.starts_at:
        _before_meeting(facts, line, now, occurrence, notices, later)
    elif facts.told:  # convened by trygg, held, minutes not yet recorded: ask until they are
        _chase_minutes(facts, line, now, occurrence, notices, later)
    if notices and not _open(cal, policy, now):
        # Deciding again at the next send slot gives the same notices (or fewer, if moot).
        return Decision((), cal.next_send_time(now, policy.hour, policy.minute))
    return Decision(tuple(notices), min(later, default=None))


def _before_meeting(facts, line: Timeline, now, occurrence, notices, later) -> None:
    if line.agenda_call is not None:
        if line.agenda_call <= now < line.invitation:
            for person in facts.members:
                notices.append(
                    NoticeDraft(
                        "agenda_call",
                        person,
                        f"{occurrence}:agenda_call",
                        line.agenda_call,
                        {
                            "invitation_at": line.invitation.isoformat(),
                            "propose_by": line.propose_by.isoformat(),
                        },
                    )
                )
        elif now < line.agenda_call:
            later.append(line.agenda_call)
    if line.invitation <= now:
        rule = "checkin_invitation" if facts.kind == MeetingKind.CHECK_IN else "invitation"
        for person in facts.invited:
            if facts.told.get(person) is None:
                notices.append(
                    NoticeDraft(
                        rule,
                        person,
                        f"{occurrence}:invitation",
                        line.invitation,
                        {"sequence": facts.sequence},
                    )
                )
    else:
        later.append(line.invitation)
    # A change reaches whoever holds an older calendar version at once, invitation day or not.
    for person in facts.invited:
        held = facts.told.get(person)
        if held is not None and held < facts.sequence:
            notices.append(
                NoticeDraft(
                    "meeting_update",
                    person,
                    f"{occurrence}:update:{facts.sequence}",
                    now,
                    {"sequence": facts.sequence},
                )
            )
    if line.report is not None:
        if line.report <= now:
            rule, people = (
                ("checkin_report", facts.invited)
                if facts.kind == MeetingKind.CHECK_IN
                else ("evaluation", facts.report_to)
            )
            for person in people:
                notices.append(NoticeDraft(rule, person, f"{occurrence}:{rule}", line.report))
        else:
            later.append(line.report)
    later.append(line.minutes_request)


def _chase_minutes(facts, line: Timeline, now, occurrence, notices, later) -> None:
    if now < line.minutes_request:
        later.append(line.minutes_request)
        return
    n = 0
    while line.chase(n + 1) <= now:
        n += 1
    # Catch-up: only the latest request whose time has passed.
    at = line.chase(n)
    for person in facts.minutes_takers:
        notices.append(
            NoticeDraft(
                "minutes_request",
                person,
                f"{occurrence}:minutes_request:{n}",
                at,
                {"chase": n, "minutes_due": line.minutes_due.isoformat()},
            )
        )
    later.append(line.chase(n + 1))


def _open(cal: WorkCalendar, policy: MeetingPolicy, now: datetime) -> bool:
    today = now.astimezone(cal.tz).date()
    return cal.is_working_day(today) and now >= cal.send_time(today, policy.hour, policy.minute)
