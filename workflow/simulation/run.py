"""Running an agreement under a virtual clock: the real load, sweep and delivery, day by day.

A throwaway SQLite database, the file transport into the output folder, and simulated people
who act each morning before the engine's 08:00 sweep. A day on which nobody acts and nothing is
due (the rows' next action times, the cycle's deadline and the agreement's end say when) is
passed over: its sweep would find nothing, so the mails are the same. What comes out is every mail as `.eml`,
a `timeline.jsonl` (one object per mail), and the yearly report of every year simulated (sv and en).
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import event, select
from sqlalchemy.orm import Session, selectinload, sessionmaker

from workflow import migrate, work
from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.agreement.validate import read_agreement
from workflow.audit import SYSTEM, LoadResult, UnitOfWork, person_actor
from workflow.clock import FixedClock
from workflow.cycle.lifecycle import close_step, record_deliverable, refresh_automatic
from workflow.cycle.models import Cycle, StepState
from workflow.db import make_engine, session_factory, transaction
from workflow.engine.ending import ending_days
from workflow.engine.sweep import next_due, sweep
from workflow.engine.weekly import next_summary_day
from workflow.links.tokens import LinkSigner, throwaway_secret
from workflow.links.urls import LinkSettings
from workflow.loading import load_agreement
from workflow.meetings import actions as meeting_actions
from workflow.meetings.agenda import agenda
from workflow.meetings.models import Meeting, MeetingKind, MeetingStatus
from workflow.outbox.delivery import claim_lease, deliver
from workflow.outbox.models import Mail, Notice
from workflow.outbox.transport import FileTransport
from workflow.plan.models import Activity, ActivityState
from workflow.plan.triggers import TriggerError, event_parts
from workflow.plan_language.timing import follow_ups, parse_timing_spec
from workflow.reminders.recipients import directory
from workflow.report.render import render_report
from workflow.report.yearly import yearly_report
from workflow.simulation.behaviour import Behaviour

SENDER = "trygg (simulering) <trygg@simulering.example.org>"
MORNING = time(7, 30)  # people act before the engine's send hour
SEND = time(8, 0)
BASE_URL = "http://localhost:8000"  # where a simulated mail's links point unless told


@dataclass
class Simulation:
    """What one run produced."""

    timeline: list[dict[str, Any]] = field(default_factory=list)
    reports: list[Path] = field(default_factory=list)
    actions: int = 0
    days: int = 0


@dataclass
class _Plan:
    """What people will do, by day (drawn once, after the agreement is loaded)."""

    done: dict[date, list[str]] = field(default_factory=dict)
    reports: dict[date, list[tuple[str, date]]] = field(default_factory=dict)
    events: dict[date, list[str]] = field(default_factory=dict)
    meetings: dict[date, list[tuple[str, str]]] = field(default_factory=dict)  # (action, meeting key)

    def add(self, table: dict, day: date, item: Any) -> None:
        table.setdefault(day, []).append(item)

    def next_day(self, after: date) -> date | None:
        """The first day after `after` on which someone acts."""
        days = [
            d for table in (self.done, self.reports, self.events, self.meetings) for d in table if d > after
        ]
        return min(days) if days else None


def simulate(
    agreement_file: str | Path,
    start: date,
    end: date,
    out: Path,
    behaviour: Behaviour,
    *,
    on_day: Callable[[date], None] | None = None,
    base_url: str = BASE_URL,
    transport: FileTransport | None = None,
) -> Simulation:
    """Run the agreement from `start` to `end` inclusive; write mails, timeline and reports to `out`.

    The mails go to `out`/mail, or through `transport` when given (a file transport of the caller's).
    """
    if end < start:
        raise ValueError(f"the simulation ends ({end}) before it starts ({start})")
    parsed = read_agreement(agreement_file)  # an InputError here names the file's problems
    out.mkdir(parents=True, exist_ok=True)
    mail_dir = out / "mail"
    result = Simulation()
    tz = ZoneInfo(parsed.spec.timezone)
    links = LinkSettings(base_url, LinkSigner(throwaway_secret()))  # a simulated link acts on nothing real
    with tempfile.TemporaryDirectory(prefix="trygg-sim-") as scratch:
        engine = _scratch_engine(Path(scratch) / "simulation.db")
        try:
            migrate.upgrade(engine)
            sessions = session_factory(engine)
            clock = FixedClock(datetime.combine(start, time(0, 0), tzinfo=tz))
            with transaction(sessions) as session:
                load_agreement(session, parsed, clock=clock, actor=SYSTEM)
            with sessions() as session:
                plan = _draw(session, _agreement(session), behaviour, start, end)
            transport = transport or FileTransport(mail_dir)
            timeline_file = out / "timeline.jsonl"
            with timeline_file.open("w", encoding="utf-8") as timeline:
                day, busy = start, start
                while day <= end:
                    if day == busy:
                        clock.instant = datetime.combine(day, MORNING, tzinfo=tz).astimezone(UTC)
                        result.actions += _morning(sessions, clock, behaviour, plan, day)
                        clock.instant = datetime.combine(day, SEND, tzinfo=tz).astimezone(UTC)
                        sweep(sessions, clock.now())
                        lease = claim_lease(30.0)
                        sent = deliver(
                            sessions, clock, transport, sender=SENDER, lease=lease, links=links, limit=10**5
                        )
                        for entry in _entries(sessions, [s["mail"] for s in sent.sent], tz):
                            timeline.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
                            result.timeline.append(entry)
                        busy = _next_busy_day(sessions, plan, day, tz)
                    result.days += 1
                    if on_day is not None:
                        on_day(day)
                    day += timedelta(days=1)
            result.reports = _reports(sessions, out, start, end, tz)
        finally:
            engine.dispose()
    return result


def _scratch_engine(path: Path):
    """The simulation's own SQLite database, deleted at the end: its commits need not wait for the disk."""
    engine = make_engine(f"sqlite:///{path}")
    event.listen(engine, "connect", _no_sync)
    return engine


def _no_sync(dbapi_connection, _record) -> None:
    dbapi_connection.execute("PRAGMA synchronous=OFF")


def _next_busy_day(sessions: sessionmaker[Session], plan: _Plan, after: date, tz: ZoneInfo) -> date:
    """The first day after `after` on which someone acts or the engine has something due at 08:00."""
    with sessions() as session:
        agreement = _agreement(session)
        days = [plan.next_day(after), *ending_days(agreement), next_summary_day(agreement, after)]
        overdue = [_cycle_deadline(session, agreement)]  # acted on every day from its day on
        due = next_due(session)
    if due is not None:
        local = due.astimezone(tz)
        overdue.append(local.date() if local.time() <= SEND else local.date() + timedelta(days=1))
    tomorrow = after + timedelta(days=1)
    days += [max(d, tomorrow) for d in overdue if d is not None]
    return min((d for d in days if d is not None and d > after), default=tomorrow)


def _cycle_deadline(session: Session, agreement: Agreement) -> date | None:
    """The open step's deadline: the coordinator closes it that day (`_cycle`)."""
    cycle = session.scalar(
        select(Cycle)
        .where(Cycle.agreement_id == agreement.id, Cycle.closed_at.is_(None))
        .order_by(Cycle.year)
    )
    step = next((s for s in cycle.steps if s.state == StepState.OPEN), None) if cycle else None
    return step.deadline if step is not None else None


def _agreement(session: Session) -> Agreement:
    return session.scalars(select(Agreement)).one()


def _draw(session: Session, agreement: Agreement, behaviour: Behaviour, start: date, end: date) -> _Plan:
    plan = _Plan()
    context = context_of(agreement)
    ctx, days = context.timing, context.workdays
    for activity in session.scalars(
        select(Activity).where(Activity.agreement_id == agreement.id).order_by(Activity.key)
    ):
        if activity.deadline is not None:
            done = behaviour.done_on(activity.key, activity.deadline)
            if done is not None:
                plan.add(plan.done, max(done, start), activity.key)
        if activity.timing:
            for due in follow_ups(activity.timing, ctx, days, start, end):
                reported = behaviour.reported_on(activity.key, due)
                if reported is not None:
                    plan.add(plan.reports, max(reported, start), (activity.key, due))
            if event_parts(parse_timing_spec(activity.timing)):
                for year in range(start.year, end.year + 1):
                    for day in behaviour.event_days(activity.key, year):
                        plan.add(plan.events, day, activity.key)
    tz = ZoneInfo(agreement.timezone)
    for meeting in session.scalars(
        select(Meeting).where(Meeting.agreement_id == agreement.id).order_by(Meeting.key)
    ):
        held_on = meeting.starts_at.astimezone(tz).date()
        if meeting.kind == MeetingKind.COUNCIL:
            if behaviour.proposes_item(meeting.key):
                plan.add(plan.meetings, held_on - timedelta(days=10), ("agenda_item", meeting.key))
            if behaviour.coopts(meeting.key):
                plan.add(plan.meetings, held_on - timedelta(days=12), ("coopt", meeting.key))
        plan.add(
            plan.meetings,
            held_on + timedelta(days=behaviour.minutes_after(meeting.key)),
            ("minutes", meeting.key),
        )
    return plan


def _morning(
    sessions: sessionmaker[Session], clock: FixedClock, behaviour: Behaviour, plan: _Plan, day: date
) -> int:
    """Everything simulated people do this morning, each in its own transaction."""
    count = 0

    def act(
        who: Callable[[Session, Agreement], str], fn: Callable[[Session, Agreement, UnitOfWork], Any]
    ) -> None:
        nonlocal count
        with transaction(sessions) as session:
            agreement = _agreement(session)
            unit = UnitOfWork(
                session, clock, who(session, agreement), LoadResult(agreement.key, created=False)
            )
            unit.agreement_id = agreement.id
            acted = fn(session, agreement, unit)
        count += acted is not False  # the coordinator's daily look at the cycle counts when it closes a step

    def activity(session: Session, agreement: Agreement, key: str) -> Activity:
        return work.find_activity(session, agreement, key)

    for key in plan.done.get(day, []):
        act(_owner(key), lambda s, a, unit, key=key: _done(unit, activity(s, a, key)))
    for key, due in plan.reports.get(day, []):
        note = f"Lägesrapport för uppföljningen {due.isoformat()}"
        act(_owner(key), lambda s, a, unit, key=key, note=note: _report(unit, activity(s, a, key), note))
    for key in plan.events.get(day, []):
        act(_owner(key), lambda s, a, unit, key=key: _trigger(s, unit, a, key, day))
    for what, key in plan.meetings.get(day, []):
        act(_coordinator, lambda s, a, unit, what=what, key=key: _meeting(s, unit, a, behaviour, what, key))
    act(_coordinator, lambda s, a, unit: _cycle(s, unit, a, behaviour, day))
    return count


def _coordinator(session: Session, agreement: Agreement) -> str:
    """The coordinator acts for the municipality (meetings, the cycle); the engine if there is none."""
    ids = people_with_role(session, agreement.id, Role.COORDINATOR)
    return person_actor(ids[0]) if ids else SYSTEM


def _owner(key: str) -> Callable[[Session, Agreement], str]:
    """An activity's first contact person acts on it (the coordinator if it has none)."""

    def who(session: Session, agreement: Agreement) -> str:
        activity = work.find_activity(session, agreement, key)
        people = directory(session, agreement.id).contacts_of([o.organisation_id for o in activity.owners])
        return person_actor(people[0]) if people else _coordinator(session, agreement)

    return who


def _done(unit: UnitOfWork, activity: Activity) -> None:
    if activity.state in (ActivityState.OPEN, ActivityState.IN_PROGRESS):
        work.mark_done(unit, activity, note="Genomfört")


def _report(unit: UnitOfWork, activity: Activity, note: str) -> None:
    if activity.state in (ActivityState.OPEN, ActivityState.IN_PROGRESS):
        work.report_progress(unit, activity, note=note)


def _trigger(session: Session, unit: UnitOfWork, agreement: Agreement, key: str, day: date) -> None:
    try:
        work.trigger(unit, agreement, key, day, "Remiss inkommen (simulerad)")
    except TriggerError:
        pass  # withdrawn since the plan was drawn


def _meeting(
    session: Session, unit: UnitOfWork, agreement: Agreement, behaviour: Behaviour, what: str, key: str
) -> None:
    meeting = session.scalar(select(Meeting).where(Meeting.agreement_id == agreement.id, Meeting.key == key))
    if meeting is None or meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.CLOSED):
        return
    invited = {i.person_id for i in meeting.invitees}
    people = {
        p.key: p
        for p in session.scalars(select(Person).where(Person.agreement_id == agreement.id, Person.active))
    }
    if what == "agenda_item":
        members = sorted(p.key for p in people.values() if p.id in invited)
        proposer = people[behaviour.pick(members, "proposer", key)]
        meeting_actions.add_agenda_item(
            session,
            unit,
            meeting,
            f"Fråga från {proposer.name}: läget i {proposer.organisation.name}",
            proposer,
        )
    elif what == "coopt":
        outside = sorted(
            p.key for p in people.values() if p.id not in invited and p.organisation.kind == "external"
        )
        if outside:
            meeting_actions.coopt(session, unit, meeting, people[behaviour.pick(outside, "guest", key)])
    elif what == "minutes":
        present = [i.person for i in meeting.invitees if behaviour.attends(key, i.person.key)]
        # The minutes speak of the agenda; who attended is recorded beside them (the mail lists it).
        points = "\n".join(
            f"{n}. {point}: noterades." for n, point in enumerate(agenda(session, agreement, meeting), 1)
        )
        text = f"Mötesanteckningar: {meeting.title}\n\n{points}\n"
        meeting_actions.record_minutes(session, unit, meeting, text, present, unit.clock.now())


def _cycle(session: Session, unit: UnitOfWork, agreement: Agreement, behaviour: Behaviour, day: date) -> bool:
    """The coordinator closes the open step on its deadline: with its deliverables when people
    delivered, overridden with a reason when they did not."""
    cycle = session.scalar(
        select(Cycle)
        .where(Cycle.agreement_id == agreement.id, Cycle.closed_at.is_(None))
        .order_by(Cycle.year)
    )
    step = next((s for s in cycle.steps if s.state == StepState.OPEN), None) if cycle else None
    if step is None or step.deadline is None or day < step.deadline:
        return False
    for d in step.deliverables:
        if d.done_at is None and not d.automatic and behaviour.delivers(cycle.year, step.number, d.key):
            record_deliverable(session, unit, cycle, step.number, d.key, "Levererat (simulerat)")
    refresh_automatic(session, unit, agreement, cycle)
    missing = [d.title for d in step.deliverables if d.done_at is None]
    reason = f"Sista dagen; saknas: {'; '.join(missing)} (simulerat)" if missing else None
    close_step(session, unit, agreement, cycle, step.number, override_reason=reason)
    return True


def _entries(sessions: sessionmaker[Session], mail_ids: list[int], tz: ZoneInfo) -> list[dict[str, Any]]:
    """The timeline's objects for mails just sent, in the order they were sent."""
    if not mail_ids:
        return []
    out = []
    with sessions() as session:
        mails: dict[int, Mail] = {}
        for start in range(0, len(mail_ids), 500):  # read together: a day's mails, their notices
            mails.update(
                (mail.id, mail)
                for mail in session.scalars(
                    select(Mail)
                    .where(Mail.id.in_(mail_ids[start : start + 500]))
                    .options(selectinload(Mail.notices))
                )
            )
        steps: dict[int, int | None] = {}  # the step is the same for every mail of the morning
        for mail_id in mail_ids:
            mail = mails[mail_id]
            person = session.get(Person, mail.recipient_id)
            if mail.agreement_id not in steps:
                steps[mail.agreement_id] = _step(session, mail.agreement_id)
            out.append(
                {
                    "at": mail.sent_at.astimezone(tz).isoformat(),
                    "kind": mail.kind,
                    "to": [f"{person.name} <{person.email}>"],
                    "subject": _subject(mail),
                    "refs": _refs(session, mail.notices),
                    "step": steps[mail.agreement_id],
                }
            )
    return out


def _subject(mail: Mail) -> str:
    """The subject as written in the .eml file the transport wrote."""
    from email import policy
    from email.parser import BytesHeaderParser

    path = Path((mail.smtp_reply or "").removeprefix("file "))
    if not path.is_file():
        return ""
    with path.open("rb") as handle:  # the headers only: parsing the parts (and a PDF) is most of the cost
        return str(BytesHeaderParser(policy=policy.default).parse(handle)["Subject"] or "")


def _refs(session: Session, notices: list[Notice]) -> list[str]:
    refs: set[str] = set()
    for notice in notices:
        if notice.subject_type == "activity":
            activity = session.get(Activity, notice.subject_id)
            if activity is not None:
                refs.add(activity.key)
        elif notice.subject_type == "meeting":
            meeting = session.get(Meeting, notice.subject_id)
            if meeting is not None:
                refs.add(meeting.key)
        else:
            refs.add(f"{notice.subject_type}-{notice.subject_id}")
    return sorted(refs)


def _step(session: Session, agreement_id: int) -> int | None:
    """The open step of the open cycle: where in the five steps the mail went out."""
    cycle = session.scalar(
        select(Cycle)
        .where(Cycle.agreement_id == agreement_id, Cycle.closed_at.is_(None))
        .order_by(Cycle.year)
    )
    if cycle is None:
        return None
    return next((s.number for s in cycle.steps if s.state == StepState.OPEN), None)


def _reports(sessions: sessionmaker[Session], out: Path, start: date, end: date, tz: ZoneInfo) -> list[Path]:
    paths = []
    with sessions() as session:
        agreement = _agreement(session)
        for year in range(start.year, end.year + 1):
            data = yearly_report(session, agreement, year, end)
            # Swedish first, as the leaderships read it; the English one beside it.
            for lang, name in (("sv", "rapport"), ("en", "annual-report")):
                path = out / f"{name}-{agreement.key}-{year}.html"
                path.write_text(render_report(data, lang), encoding="utf-8")
                paths.append(path)
    return paths
