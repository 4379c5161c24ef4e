"""What is due at an instant: reminders before a date, the overdue ladder after it. Pure functions.

Facts and a clock in, notices and the next instant to look again out; nothing here reads
the database or the time. Every notice carries the key that makes it unique, so deciding
twice (two sweeps, a re-run after a crash) never tells anyone twice.

The rules:
- Reminders go N working days before a target (`stages`; follow-ups of recurring work use
  `follow_up_stages`) at the send hour, on working days.
- Catch-up: a sweep sends, per target, only the latest stage whose time has passed; earlier
  missed stages are skipped. A target whose day is over gets no reminder: the ladder takes over.
- Quiet weeks defer every reminder except the one on the day itself until the first working
  day after them, where the catch-up rule applies again.
- Overdue: each ladder step (+1 working day: the owners, +5: the coordinator, +10: management)
  is told once; catch-up sends only the latest passed step. The ladder stops when the item is
  done, when the deadline moves (an approved extension is a new target), or when the overdue
  item is acknowledged.
- Nothing is sent outside a working day's send time: a sweep then defers to the next slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Literal

from workflow.agreement.context import Audience, EscalationStep, ReminderPolicy
from workflow.outbox.notices import Decision, NoticeDraft
from workflow.workdays import WorkCalendar

TargetKind = Literal["deadline", "follow_up", "event"]


@dataclass(frozen=True)
class Target:
    """A date an item must meet: its (effective) deadline, one follow-up, or an event's due date."""

    kind: TargetKind
    due: date
    ref: str  # unique within the item: "deadline:2012-12-28", "follow_up:2012-12-28", "event:7"
    escalates: bool = True
    answered: bool = False  # a follow-up already reported on


@dataclass(frozen=True)
class ItemFacts:
    """What the rules need to know about one activity; recipients are person ids."""

    subject_id: int
    active: bool  # open or in progress
    targets: tuple[Target, ...]
    owners: tuple[int, ...]  # the contact people of its organisations
    coordinators: tuple[int, ...] = ()
    management: tuple[int, ...] = ()
    acknowledged_at: datetime | None = None

    def audience(self, who: Audience) -> tuple[int, ...]:
        return {"owner": self.owners, "coordinator": self.coordinators, "management": self.management}[who]


class _Slots:
    """Send slots of one agreement: its working days at its send hour."""

    def __init__(self, cal: WorkCalendar, policy: ReminderPolicy) -> None:
        self.cal, self.policy = cal, policy

    def on(self, d: date) -> datetime:
        return self.cal.send_time(d, self.policy.hour, self.policy.minute)

    def next(self, now: datetime) -> datetime:
        return self.cal.next_send_time(now, self.policy.hour, self.policy.minute)

    def is_open(self, now: datetime) -> bool:
        """May mail go out now: a working day, at or after its send time."""
        today = now.astimezone(self.cal.tz).date()
        return self.cal.is_working_day(today) and now >= self.on(today)

    def day_over(self, d: date) -> datetime:
        """The instant the local day `d` ends: a deadline has passed from then on."""
        return datetime.combine(d + timedelta(days=1), time(), tzinfo=self.cal.tz)

    def before(self, d: date, working_days: int) -> datetime:
        return self.on(self.cal.add_working_days(d, -working_days))

    def after(self, d: date, working_days: int) -> datetime:
        return self.on(self.cal.add_working_days(d, working_days))


def decide(item: ItemFacts, policy: ReminderPolicy, cal: WorkCalendar, now: datetime) -> Decision:
    """The notices due for `item` at `now`, and when to look at it again."""
    if now.tzinfo is None:
        raise ValueError("decide needs an aware instant")
    if not item.active:
        return Decision((), None)
    slots = _Slots(cal, policy)
    notices: list[NoticeDraft] = []
    later: list[datetime] = []
    for target in item.targets:
        _remind(item, target, policy, slots, now, notices, later)
        if target.escalates:
            _escalate(item, target, policy, slots, now, notices, later)
    return Decision(tuple(notices), min(later, default=None))


def first_action_at(item: ItemFacts, policy: ReminderPolicy, cal: WorkCalendar) -> datetime | None:
    """The earliest instant anything could be due for `item`: where a new schedule starts.

    A sweep at any later instant applies the catch-up rule, so starting early never sends a
    stale burst; it only makes sure the first sweep looks at the item.
    """
    if not item.active:
        return None
    slots = _Slots(cal, policy)
    times = []
    for target in item.targets:
        stages = _stages(target, policy)
        if stages:
            times.append(slots.before(target.due, max(stages)))
        if target.escalates and policy.escalation:
            times.append(slots.after(target.due, policy.escalation[0].after))
    return min(times, default=None)


def ladder(due: date, policy: ReminderPolicy, cal: WorkCalendar) -> list[tuple[datetime, EscalationStep]]:
    """Each step of the overdue ladder of a target due on `due`, with the instant it is told."""
    slots = _Slots(cal, policy)
    return [(slots.after(due, step.after), step) for step in policy.escalation]


def _stages(target: Target, policy: ReminderPolicy) -> tuple[int, ...]:
    if target.answered:
        return ()
    return policy.follow_up_stages if target.kind == "follow_up" else policy.stages


def _occurrence(item: ItemFacts, target: Target, step: str) -> str:
    return f"activity:{item.subject_id}:{target.ref}:{step}"


def _remind(item, target, policy, slots: _Slots, now, notices, later) -> None:
    stages = _stages(target, policy)
    if not stages or now >= slots.day_over(target.due):
        return  # answered, or the day is over: the overdue ladder takes over
    times = sorted((slots.before(target.due, n), n) for n in stages)
    passed = [(t, n) for t, n in times if t <= now]
    later.extend(t for t, _ in times if t > now)
    if not passed:
        return
    at, stage = passed[-1]  # catch-up: only the latest stage whose time has passed
    if not slots.is_open(now):
        later.append(slots.next(now))
        return
    quiet = policy.quiet_period_of(now.astimezone(slots.cal.tz).date())
    if quiet is not None and stage > 0:
        later.append(slots.on(quiet.first_day_after(now.astimezone(slots.cal.tz).date())))
        return
    details: dict = {"target": target.kind, "due": target.due.isoformat(), "stage": stage}
    if target.kind == "event":
        details["event_id"] = int(target.ref.partition(":")[2])  # the mail names the event
    for person in item.owners:
        notices.append(
            NoticeDraft("reminder", person, _occurrence(item, target, f"stage:{stage}"), at, details)
        )


def _escalate(item, target, policy, slots: _Slots, now, notices, later) -> None:
    if not policy.escalation:
        return
    overdue_from = slots.day_over(target.due)
    if item.acknowledged_at is not None and item.acknowledged_at >= overdue_from:
        return  # this overdue episode was acknowledged
    steps = ladder(target.due, policy, slots.cal)
    passed = [(t, s) for t, s in steps if t <= now]
    later.extend(t for t, _ in steps if t > now)
    if not passed:
        return
    at, step = passed[-1]  # catch-up: the latest step only
    if not slots.is_open(now):
        later.append(slots.next(now))
        return
    rule = "overdue" if step.to == "owner" else "escalation"
    details = {
        "target": target.kind,
        "due": target.due.isoformat(),
        "after": step.after,
        "to": step.to,
        "overdue_since": (target.due + timedelta(days=1)).isoformat(),
        # The ladder's earlier steps, so that the reader sees who has been told already, and when.
        "told_before": [
            {"to": s.to, "on": t.astimezone(slots.cal.tz).date().isoformat()} for t, s in passed[:-1]
        ],
    }
    occurrence = _occurrence(item, target, f"after:{step.after}")
    for person in item.audience(step.to):
        notices.append(NoticeDraft(rule, person, occurrence, at, details))
