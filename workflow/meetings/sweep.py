"""The meetings in the sweep: what deciding one needs, and what its mails say.

The sweep itself is the one batch runner of `workflow.outbox.batch`, as for activities;
deciding is pure (`workflow.meetings.rules`). Everything a mail needs — the agenda, the
iCalendar part, the status report, the yearly report — goes into the notice's payload when it
is made, so every attempt to send it renders the same mail. The yearly report is made above
this package (`workflow.report`, which reads meetings): the sweep is handed a function for it.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.context import MeetingPolicy, meeting_policy, work_calendar
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.audit import AuditEntry
from workflow.i18n import gettext as _
from workflow.meetings.agenda import agenda
from workflow.meetings.invitation import meeting_ics
from workflow.meetings.models import Invitee, Meeting
from workflow.meetings.rules import MeetingFacts, decide_meeting, first_action_at
from workflow.outbox.batch import DueItems, PerAgreement
from workflow.outbox.models import Notice
from workflow.outbox.notices import Decision
from workflow.outbox.render import format_span
from workflow.plan.standing import STANDING_EN, STANDING_SV, progress_by_area
from workflow.workdays import WorkCalendar

log = logging.getLogger(__name__)

CALENDAR_RULES = ("invitation", "checkin_invitation", "meeting_update")
# Having had one of these means having been told of the meeting: a cancellation follows.
TOLD_RULES = (*CALENDAR_RULES, "agenda_call", "checkin_report", "evaluation")
# What a cancellation makes moot if it has not left yet: nobody needs an invitation to, or
# the report of, a meeting that will not take place. The cancellation itself still goes out.
MOOT_ON_CANCEL = (*TOLD_RULES, "minutes_request")


@dataclass
class MeetingRules:
    """What deciding a meeting needs of its agreement, read once per batch."""

    agreement: Agreement
    policy: MeetingPolicy
    calendar: WorkCalendar
    coordinators: tuple[int, ...]
    secretaries: tuple[int, ...]
    report_to: tuple[int, ...]


def meeting_rules(session: Session, agreement: Agreement) -> MeetingRules:
    report_keys = (agreement.cycle_config.get("evaluation") or {}).get("report_to", [])
    report_to = tuple(
        session.scalars(
            select(Person.id)
            .where(Person.agreement_id == agreement.id, Person.key.in_(report_keys), Person.active)
            .order_by(Person.key)
        )
    )
    return MeetingRules(
        agreement,
        meeting_policy(agreement.meetings_config, agreement.reminders_config),
        work_calendar(agreement.timezone, agreement.calendar_config),
        people_with_role(session, agreement.id, Role.COORDINATOR),
        people_with_role(session, agreement.id, Role.COUNCIL_SECRETARY),
        report_to,
    )


def told(session: Session, meeting_id: int) -> dict[int, int | None]:
    """Who has been told of a meeting (live notices only) and the calendar SEQUENCE they hold."""
    out: dict[int, int | None] = {}
    for person, payload in session.execute(
        select(Notice.recipient_id, Notice.payload).where(
            Notice.subject_type == "meeting",
            Notice.subject_id == meeting_id,
            Notice.cancelled_at.is_(None),
            Notice.rule.in_(CALENDAR_RULES),
        )
    ):
        seq, held = int(payload.get("sequence", 0)), out.get(person)
        out[person] = seq if held is None else max(held, seq)
    for person in session.scalars(
        select(Notice.recipient_id).where(
            Notice.subject_type == "meeting",
            Notice.subject_id == meeting_id,
            Notice.cancelled_at.is_(None),
            Notice.rule.in_(TOLD_RULES),
            Notice.rule.not_in(CALENDAR_RULES),
        )
    ):
        out.setdefault(person, None)
    return out


def held_version(session: Session, meeting_id: int, person_id: int) -> dict[str, Any] | None:
    """The payload of the latest calendar version a person was sent of a meeting (None: none yet)."""
    payloads = session.scalars(
        select(Notice.payload)
        .where(
            Notice.subject_type == "meeting",
            Notice.subject_id == meeting_id,
            Notice.recipient_id == person_id,
            Notice.cancelled_at.is_(None),
            Notice.rule.in_(CALENDAR_RULES),
        )
        .order_by(Notice.id)
    ).all()
    return max(payloads, key=lambda p: int(p.get("sequence", 0)), default=None)


def _instants(span: dict[str, Any]) -> tuple[datetime, datetime]:
    return datetime.fromisoformat(span["starts_at"]), datetime.fromisoformat(span["ends_at"])


def describe(agenda_lines: list[str], changes: list[dict[str, Any]], language: str, tz: str) -> str:
    """The calendar event's DESCRIPTION: what changed (old → new), then the agenda."""
    lines: list[str] = []
    if changes:
        lines.append(_("What has changed:", language))
        for change in changes:
            old, new = change["old"], change["new"]
            if change["what"] == "time":
                old = format_span(old["starts_at"], old["ends_at"], language, tz)
                new = format_span(new["starts_at"], new["ends_at"], language, tz)
            old = old or _("to be announced", language)
            new = new or _("to be announced", language)
            if change["what"] == "time":
                lines.append(_("Time: %(old)s → %(new)s", language, old=old, new=new))
            elif change["what"] == "place":
                lines.append(_("Place: %(old)s → %(new)s", language, old=old, new=new))
            else:
                lines.append(_("Title: %(old)s → %(new)s", language, old=old, new=new))
        lines.append("")
    lines.append(_("Agenda:", language))
    lines += [f"{n}. {line}" for n, line in enumerate(agenda_lines, 1)]
    return "\n".join(lines)


def facts_of(session: Session, meeting: Meeting, rules: MeetingRules) -> MeetingFacts:
    invitees = tuple((i.person_id, i.co_opted) for i in meeting.invitees)
    invited = {p for p, _ in invitees}
    # The council's secretary takes the minutes where invited; else the coordinator who convenes.
    takers = (
        tuple(p for p in rules.secretaries if p in invited)
        or tuple(p for p in rules.coordinators if p in invited)
        or rules.coordinators
    )
    return MeetingFacts(
        meeting_id=meeting.id,
        kind=meeting.kind,
        status=meeting.status,
        starts_at=meeting.starts_at,
        ends_at=meeting.ends_at,
        sequence=meeting.sequence,
        invitees=invitees,
        told=told(session, meeting.id) if meeting.id else {},
        minutes_revision=max((r.revision for r in meeting.minutes), default=0),
        minutes_takers=takers,
        report_to=rules.report_to,
    )


def refresh_next_action(session: Session, meetings: Iterable[Meeting]) -> None:
    """Set next_action_at of meetings whose schedule may have changed (planned, moved, acted on).

    It becomes the earliest instant anything could be due; the next sweep decides afresh.
    """
    rules_of = PerAgreement(session, meeting_rules)
    for meeting in meetings:
        rules = rules_of(meeting)
        session.flush()
        meeting.next_action_at = first_action_at(
            facts_of(session, meeting, rules), rules.policy, rules.calendar
        )


# The evaluation's yearly report: (session, agreement, year, as of, language) -> the mail's part.
YearlyReport = Callable[[Session, Agreement, int, date, str], dict[str, Any]]


class _Batch:
    """What deciding a batch of meetings needs, read once: invitees, minutes, each agreement's rules."""

    def __init__(self, session: Session, meetings, yearly_report: YearlyReport) -> None:
        self.session, self.yearly_report = session, yearly_report
        session.scalars(
            select(Meeting)
            .where(Meeting.id.in_([m.id for m in meetings]))
            .options(
                selectinload(Meeting.invitees).selectinload(Invitee.person),
                selectinload(Meeting.minutes),
                selectinload(Meeting.agenda),
            )
        ).all()
        self.rules = PerAgreement(session, meeting_rules)


def _decide(batch: _Batch, meeting: Meeting, now: datetime) -> Decision:
    rules = batch.rules(meeting)
    return decide_meeting(facts_of(batch.session, meeting, rules), rules.policy, rules.calendar, now)


def _payloads(batch: _Batch, decided, now: datetime):
    contents = {
        m.id: MeetingContent(batch.session, batch.rules(m), m, now, batch.yearly_report) for m, _ in decided
    }
    return lambda meeting, draft: contents[meeting.id].for_notice(draft.rule, draft.recipient_id)


def meeting_items(yearly_report: YearlyReport) -> DueItems:
    """The meetings as the sweep reads them; `yearly_report` makes the evaluation's attachment."""
    return DueItems(
        subject_type="meeting",
        model=Meeting,
        due=lambda now: select(Meeting).where(Meeting.next_action_at <= now),
        prepare=lambda session, meetings: _Batch(session, meetings, yearly_report),
        decide=_decide,
        payloads=_payloads,
    )


class MeetingContent:
    """What the mails of one meeting say, made once per decision and shared by its notices."""

    def __init__(
        self,
        session: Session,
        rules: MeetingRules,
        meeting: Meeting,
        now: datetime,
        yearly_report: YearlyReport,
    ) -> None:
        self.session, self.rules, self.meeting, self.now = session, rules, meeting, now
        self.yearly_report = yearly_report
        self.agreement = rules.agreement
        self._cache: dict[str, Any] = {}

    def _once(self, name: str, make):
        if name not in self._cache:
            self._cache[name] = make()
        return self._cache[name]

    def for_notice(self, rule: str, person_id: int) -> dict[str, Any]:
        payload = dict(self._once("summary", self._summary))
        co_opted = {i.person_id: i.co_opted for i in self.meeting.invitees}
        payload["co_opted"] = co_opted.get(person_id, False)
        organizer = self._organizer()
        # The one who convenes gets her calendar's copy (PUBLISH), never a request to answer herself.
        payload["organizer_copy"] = own = organizer is not None and organizer.id == person_id
        if rule in CALENDAR_RULES or rule == "cancellation":
            language = self._language(person_id)
            changes = self._changes(person_id) if rule == "meeting_update" else []
            if rule == "meeting_update":
                payload["changes"] = changes
            method = "PUBLISH" if own else ("CANCEL" if rule == "cancellation" else "REQUEST")
            payload["ics"] = self._once(
                f"ics-{method}-{language}-{changes!r}", lambda: self._ics(method, language, changes)
            )
            payload["ics_method"] = method
        if rule == "cancellation":
            payload["reason"] = self._once("reason", self._cancel_reason)
        elif rule == "minutes":
            payload.update(self._once("minutes", self._minutes))
        elif rule == "checkin_report":
            payload["report"] = self._once("progress", self._progress)
        elif rule == "evaluation":
            language = self._language(person_id)
            payload.update(self._once(f"evaluation-{language}", lambda: self._evaluation(language)))
        return payload

    def _language(self, person_id: int) -> str:
        return "en" if self.session.get(Person, person_id).language == "en" else "sv"

    def _changes(self, person_id: int) -> list[dict[str, Any]]:
        """What changed since the version the person holds: time, place, title, each old → new."""
        held = held_version(self.session, self.meeting.id, person_id)
        if held is None:
            return []
        m = self.meeting
        now = {"starts_at": m.starts_at.isoformat(), "ends_at": m.ends_at.isoformat()}
        before = {"starts_at": held.get("starts_at"), "ends_at": held.get("ends_at")}
        out: list[dict[str, Any]] = []
        if before["starts_at"] and _instants(before) != _instants(now):
            out.append({"what": "time", "old": before, "new": now})
        if held.get("location", m.location) != m.location:
            out.append({"what": "place", "old": held.get("location"), "new": m.location})
        if held.get("title", m.title) != m.title:
            out.append({"what": "title", "old": held.get("title"), "new": m.title})
        return out

    def _summary(self) -> dict[str, Any]:
        m = self.meeting
        organizer = self._organizer()
        return {
            "meeting": m.key,
            "kind": m.kind,
            "title": m.title,
            "day": m.starts_at.astimezone(self.rules.calendar.tz).date().isoformat(),
            "starts_at": m.starts_at.isoformat(),
            "ends_at": m.ends_at.isoformat(),
            "location": m.location,
            "sequence": m.sequence,
            "agenda": agenda(self.session, self.agreement, m),
            "organizer": {"name": organizer.name, "email": organizer.email} if organizer else None,
            "invited": [
                {"name": i.person.name, "organisation": i.person.organisation.name, "co_opted": i.co_opted}
                for i in sorted(m.invitees, key=lambda i: (i.co_opted, i.person.name))
            ],
        }

    def _organizer(self) -> Person | None:
        """The coordinator convenes on the municipality's behalf; failing one, the first invited."""
        ids = self.rules.coordinators or tuple(i.person_id for i in self.meeting.invitees)
        return self.session.get(Person, ids[0]) if ids else None

    def _ics(self, method: str, language: str, changes: list[dict[str, Any]]) -> str:
        summary = self._once("summary", self._summary)
        return meeting_ics(
            self.agreement,
            self.meeting,
            organizer=self._organizer(),
            attendees=[(i.person, i.co_opted) for i in self.meeting.invitees],
            method=method,  # type: ignore[arg-type]
            stamp=self.now,
            description=describe(summary["agenda"], changes, language, self.agreement.timezone),
        ).decode("utf-8")

    def _cancel_reason(self) -> str | None:
        return self.session.scalar(
            select(AuditEntry.reason)
            .where(
                AuditEntry.agreement_id == self.agreement.id,
                AuditEntry.entity == "meeting",
                AuditEntry.entity_key == self.meeting.key,
                AuditEntry.action == "cancel",
            )
            .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
            .limit(1)
        )

    def _minutes(self) -> dict[str, Any]:
        """The latest minutes, and attendance: members against members, co-opted guests apart."""
        latest = self.meeting.minutes[-1]
        invitees = sorted(self.meeting.invitees, key=lambda i: i.person.name)
        members = [i for i in invitees if not i.co_opted]
        return {
            "revision": latest.revision,
            "text": latest.text,
            "recorded_at": latest.recorded_at.isoformat(),
            "attended": [i.person.name for i in members if i.attended],
            "absent": [i.person.name for i in members if i.attended is False],
            "members": len(members),
            "guests": [i.person.name for i in invitees if i.co_opted and i.attended],
        }

    def _progress(self) -> dict[str, Any]:
        """The check-in's status report: every activity's standing, by priority area."""
        day = self.now.astimezone(self.rules.calendar.tz).date()
        areas = []
        for title, standings in progress_by_area(self.session, self.agreement, day):
            areas.append(
                {
                    "title": title,
                    "counts": {k: sum(s.standing == k for s in standings) for k in STANDING_SV},
                    "activities": [
                        {
                            "activity": s.key,
                            "title": s.title,
                            "goal": s.goal,
                            "owners": list(s.owners),
                            "when": s.when,
                            "deadline": s.deadline.isoformat() if s.deadline else None,
                            "standing": s.standing,
                            "done_on": s.done_on.isoformat() if s.done_on else None,
                            "last_note": s.last_note,
                            "last_note_on": s.last_note_on.isoformat() if s.last_note_on else None,
                        }
                        for s in standings
                    ],
                }
            )
        return {"as_of": day.isoformat(), "areas": areas, "standings": {"sv": STANDING_SV, "en": STANDING_EN}}

    def _evaluation(self, language: str) -> dict[str, Any]:
        """The yearly report, in the reader's language, attached as an HTML file."""
        day = self.now.astimezone(self.rules.calendar.tz).date()
        lang = "en" if language == "en" else "sv"
        report = self.yearly_report(self.session, self.agreement, self.meeting.year, day, lang)
        return {"year": self.meeting.year, "as_of": day.isoformat(), **report}
