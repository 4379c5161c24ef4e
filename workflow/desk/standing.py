"""How each activity of an agreement stands now, truthfully: late since when, how far up the ladder
the engine has gone (from the notices it made), what comes next and when, acknowledged, a pending
extension, the last report. One query set per agreement; `trygg status` and the desk both show it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.context import AgreementContext, context_of
from workflow.agreement.lifecycle import ends_on, has_ended
from workflow.agreement.models import Agreement, Person
from workflow.i18n import _pl
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.plan.models import (
    Activity,
    ActivityEvent,
    ActivityOwner,
    ActivityState,
    ActivityStatusChange,
    ExtensionRequest,
    ExtensionStatus,
    Goal,
    OwnerRole,
    PriorityArea,
)
from workflow.plan.standing import effective_deadline
from workflow.reminders.rules import Target, ladder
from workflow.reminders.targets import targets_of
from workflow.status import resolve_agreement, status

ACTIVE = (ActivityState.OPEN.value, ActivityState.IN_PROGRESS.value)
LADDER_RULES = ("overdue", "escalation")
# The ladder's stages an overdue item can stand at, in order: no step told yet, told its owners,
# the coordinator, management; or acknowledged by management (the ladder stops there).
STAGES = ("none", "owner", "coordinator", "management", "acknowledged")

# What the desk filters on, in the order it lists them.
STATUSES = ("overdue", "untimed", "open", "ongoing", "done", "cancelled")
STATUS_WORDS = {
    "overdue": _pl("standing", "overdue"),
    # Kept from a plan file although its När could not be read: no dates, no reminders.
    "untimed": _pl("standing", "needs a timing"),
    "open": _pl("standing", "open, on time"),
    "ongoing": _pl("standing", "ongoing"),
    "done": _pl("standing", "done"),
    "cancelled": _pl("standing", "cancelled"),
}
# Who a ladder step tells.
AUDIENCE_WORDS = {
    "owner": _pl("ladder", "owners"),
    "coordinator": _pl("ladder", "coordinator"),
    "management": _pl("ladder", "management"),
}


@dataclass(frozen=True)
class LadderStep:
    """A step of the overdue ladder: `after` working days past the deadline, told to `to`, `at`."""

    after: int
    to: str  # owner, coordinator, management
    at: datetime
    sent: bool = False  # reached: at least one of its mails has left


@dataclass(frozen=True)
class Report:
    """The last word on an activity: a status change with a note."""

    note: str
    at: datetime
    actor: str  # person:<id>, cli:<user>, system
    by: str  # the person's name; "" for the engine or a command line


@dataclass(frozen=True)
class PendingExtension:
    id: int
    requested_deadline: date
    reason: str
    requested_by: str  # the person's name
    requested_at: datetime


@dataclass(frozen=True)
class Standing:
    """One activity as it stands at `now` (withdrawn activities are left out)."""

    id: int
    key: str  # the id the CLI takes
    title: str
    area_key: str
    area: str
    goal: str
    owners: tuple[str, ...]  # lead organisations' names
    partners: tuple[str, ...]
    owner_keys: tuple[str, ...]  # lead and partner organisations' keys (the desk filters on them)
    when: str | None
    deadline: date | None  # effective: the extension when one was approved
    extended: bool
    state: str
    status: str  # one of STATUSES
    overdue_since: date | None  # the day after the (earliest) missed due date
    stage: LadderStep | None  # the highest ladder step the engine has made notices for
    overdue_stage: str | None  # one of STAGES while overdue, else None (the overview counts these)
    next_step: LadderStep | None  # what the ladder does next, and when (None: it has stopped)
    acknowledged_at: datetime | None  # the overdue notices were answered: the ladder stopped
    pending_extension: PendingExtension | None
    last_report: Report | None
    next_action_at: datetime | None


def activity_standing(session: Session, agreement: Agreement, now: datetime) -> list[Standing]:
    """Every activity of the agreement in plan order, as it stands at `now`."""
    ctx = context_of(agreement)
    activities = _activities(session, agreement)
    ids = [a.id for a, _, _ in activities]
    facts = _Facts(session, agreement, ids)
    today = now.astimezone(ctx.zone).date()
    ended = has_ended(agreement, today)
    return [_standing(a, goal, area, facts, ctx, now, today, ended) for a, goal, area in activities]


def _activities(session: Session, agreement: Agreement) -> list[tuple[Activity, Goal, PriorityArea]]:
    """The activities in plan order with their goals and areas (held here: the identity map is weak,
    and `activity.goal.area` of a collected row would be a query per activity). One statement for
    the three, one for the owners with their organisations."""
    rows = session.execute(
        select(Activity, Goal, PriorityArea)
        .join(Goal, Goal.id == Activity.goal_id)
        .join(PriorityArea, PriorityArea.id == Goal.area_id)
        .where(
            PriorityArea.agreement_id == agreement.id,
            PriorityArea.active,
            Activity.state != ActivityState.WITHDRAWN,
        )
        .order_by(
            PriorityArea.plan_position,
            PriorityArea.id,
            Goal.position,
            Goal.id,
            Activity.position,
            Activity.id,
        )
        .options(selectinload(Activity.owners).joinedload(ActivityOwner.organisation, innerjoin=True))
    ).all()
    return [(activity, goal, area) for activity, goal, area in rows]


class _LadderFacts:
    """What the ladder needs beyond the activities: open event dues and the notices the engine made,
    read at once for every activity of some agreements."""

    def __init__(self, session: Session, agreement_ids: Sequence[int]) -> None:
        self.events: dict[int, list[tuple[int, date]]] = {}
        self.notices: dict[int, dict[str, tuple[datetime, bool]]] = {}
        if not agreement_ids:
            return
        for activity_id, event_id, due_on in session.execute(
            select(ActivityEvent.activity_id, ActivityEvent.id, ActivityEvent.due_on)
            .join(Activity, Activity.id == ActivityEvent.activity_id)
            .where(Activity.agreement_id.in_(agreement_ids), ActivityEvent.done_at.is_(None))
            .order_by(ActivityEvent.id)
        ):
            self.events.setdefault(activity_id, []).append((event_id, due_on))
        # occurrence -> (when it was due, whether a mail of it left), per activity
        rows = session.execute(
            select(Notice.subject_id, Notice.occurrence, Notice.due_at, Mail.status)
            .outerjoin(Mail, Mail.id == Notice.mail_id)
            .where(
                Notice.agreement_id.in_(agreement_ids),
                Notice.subject_type == "activity",
                Notice.rule.in_(LADDER_RULES),
                Notice.cancelled_at.is_(None),
            )
        )
        for subject_id, occurrence, due_at, mail_status in rows:
            seen = self.notices.setdefault(subject_id, {})
            at, sent = seen.get(occurrence, (due_at, False))
            seen[occurrence] = (min(at, due_at), sent or mail_status == MailStatus.SENT)


class _Facts(_LadderFacts):
    """What the standings need beyond the activities, read for all of them at once."""

    def __init__(self, session: Session, agreement: Agreement, ids: list[int]) -> None:
        super().__init__(session, [agreement.id] if ids else [])
        self.names = dict(
            session.execute(select(Person.id, Person.name).where(Person.agreement_id == agreement.id)).all()
        )
        self.reports: dict[int, ActivityStatusChange] = {}
        self.requests: dict[int, ExtensionRequest] = {}
        if not ids:
            return
        for change in session.scalars(
            select(ActivityStatusChange)
            .where(ActivityStatusChange.activity_id.in_(ids), ActivityStatusChange.note.is_not(None))
            .order_by(ActivityStatusChange.at, ActivityStatusChange.id)
        ):
            if change.note.strip():
                self.reports[change.activity_id] = change  # ordered: the latest stays
        for request in session.scalars(
            select(ExtensionRequest)
            .where(ExtensionRequest.activity_id.in_(ids), ExtensionRequest.status == ExtensionStatus.PENDING)
            .order_by(ExtensionRequest.requested_at)
        ):
            self.requests[request.activity_id] = request

    def name_of(self, actor: str) -> str:
        """A person's name for `person:<id>`; "" for the engine or a command line (as the pages do)."""
        if actor.startswith("person:") and actor[7:].isdigit():
            return self.names.get(int(actor[7:]), "")
        return ""


def _standing(
    activity: Activity,
    goal: Goal,
    area: PriorityArea,
    facts: _Facts,
    ctx: AgreementContext,
    now: datetime,
    today: date,
    ended: bool,
) -> Standing:
    deadline = effective_deadline(activity.deadline, activity.extended_deadline)
    position = _position(activity, facts, ctx, now, today, ended)
    missed, stage = position.missed, position.stage
    request = facts.requests.get(activity.id)
    report = facts.reports.get(activity.id)
    leads = [o for o in activity.owners if o.role == OwnerRole.LEAD]
    partners = [o for o in activity.owners if o.role == OwnerRole.PARTNER]
    return Standing(
        id=activity.id,
        key=activity.key,
        title=activity.title,
        area_key=area.key,
        area=area.title,
        goal=goal.title,
        owners=tuple(o.organisation.name for o in leads),
        partners=tuple(o.organisation.name for o in partners),
        owner_keys=tuple(o.organisation.key for o in activity.owners),
        when=activity.when_text,
        deadline=deadline,
        extended=activity.extended_deadline is not None,
        state=activity.state,
        status=_status(activity, deadline, missed),
        overdue_since=min(t.due for t in missed) + timedelta(days=1) if missed else None,
        stage=stage,
        overdue_stage=position.overdue_stage,
        next_step=position.next_step,
        acknowledged_at=activity.acknowledged_at,
        pending_extension=PendingExtension(
            request.id,
            request.requested_deadline,
            request.reason,
            facts.names.get(request.requested_by_id, ""),
            request.requested_at,
        )
        if request
        else None,
        last_report=Report(report.note, report.at, report.actor, facts.name_of(report.actor))
        if report
        else None,
        next_action_at=activity.next_action_at,
    )


@dataclass(frozen=True)
class _Position:
    """Where an activity stands on the overdue ladder."""

    missed: list[Target]
    stage: LadderStep | None
    next_step: LadderStep | None
    overdue_stage: str | None  # one of STAGES, None unless overdue


def _position(
    activity: Any, facts: _LadderFacts, ctx: AgreementContext, now: datetime, today: date, ended: bool
) -> _Position:
    """The one rule of the ladder's position, for the desk, `trygg status` and the overview alike.
    `activity` is an Activity or a row with its columns (id, state, deadline, extended_deadline,
    reported_at, acknowledged_at, next_action_at)."""
    deadline = effective_deadline(activity.deadline, activity.extended_deadline)
    missed = _missed(activity, deadline, facts, ctx, today) if activity.state in ACTIVE else []
    stage, next_step, acknowledged = _ladder(activity, missed, facts, ctx, now, ended)
    if not missed:
        overdue_stage = None
    elif acknowledged:
        overdue_stage = "acknowledged"
    else:
        overdue_stage = stage.to if stage is not None else "none"
    return _Position(missed, stage, next_step, overdue_stage)


def _missed(
    activity: Any, deadline: date | None, facts: _LadderFacts, ctx: AgreementContext, today: date
) -> list[Target]:
    """The escalating targets (deadline, event dues) whose day is over, earliest first. Follow-ups
    never escalate, so the timing's follow-up dates (the costly part) are not computed here."""
    events = facts.events.get(activity.id, ())
    if not events and (deadline is None or deadline >= today):
        return []  # nothing that escalates can be over (most activities, most days: a page of many)
    targets = targets_of(
        timing=None,
        deadline=deadline,
        open_events=events,
        reported_at=activity.reported_at,
        ctx=ctx.timing,
        cal=ctx.workdays,
        today=today,
    )
    return sorted((t for t in targets if t.escalates and t.due < today), key=lambda t: t.due)


def _ladder(
    activity: Any,
    missed: list[Target],
    facts: _LadderFacts,
    ctx: AgreementContext,
    now: datetime,
    ended: bool,
) -> tuple[LadderStep | None, LadderStep | None, bool]:
    """The highest step reached over the missed targets, the next step to come (the earliest), and
    whether management acknowledged this episode (the ladder stopped)."""
    made = facts.notices.get(activity.id, {})
    stage: LadderStep | None = None
    upcoming: list[LadderStep] = []
    for target in missed:
        steps = ladder(target.due, ctx.reminders, ctx.workdays)
        reached = None
        for _, step in steps:  # catch-up may have skipped earlier steps: the highest one made counts
            notice = made.get(f"activity:{activity.id}:{target.ref}:after:{step.after}")
            if notice is not None:
                reached = LadderStep(step.after, step.to, notice[0], notice[1])
        after = reached.after if reached else -1
        coming = next(((at, s) for at, s in steps if s.after > after), None)
        if coming is not None:
            at, step = coming
            upcoming.append(LadderStep(step.after, step.to, _not_before(at, activity.next_action_at)))
        if reached is not None and (stage is None or reached.after > stage.after):
            stage = reached
    acknowledged = _acknowledged(activity, missed, ctx)
    next_step = None if ended or acknowledged else min(upcoming, key=lambda s: s.at, default=None)
    return stage, next_step, acknowledged


def overdue_by_stage(
    session: Session,
    agreements: Sequence[Agreement],
    contexts: Mapping[int, AgreementContext],
    rows: Iterable[Any],
    now: datetime,
) -> dict[int, dict[str, int]]:
    """Per agreement, its overdue activities counted by ladder stage (STAGES), by the standings' own
    rule; `rows` are the activities' columns (see `_position`) with their agreement_id, of any
    number of agreements: the facts are read once for all of them."""
    out = {a.id: dict.fromkeys(STAGES, 0) for a in agreements}
    facts = _LadderFacts(session, list(out))
    today = {a.id: now.astimezone(contexts[a.id].zone).date() for a in agreements}
    ended = {a.id: has_ended(a, today[a.id]) for a in agreements}
    for row in rows:
        if row.state not in ACTIVE:
            continue
        aid = row.agreement_id
        stage = _position(row, facts, contexts[aid], now, today[aid], ended[aid]).overdue_stage
        if stage is not None:
            out[aid][stage] += 1
    return out


def _acknowledged(activity: Any, missed: list[Target], ctx: AgreementContext) -> bool:
    """The overdue notices of this episode were answered: the ladder stops (as the rules say)."""
    if activity.acknowledged_at is None or not missed:
        return False
    overdue_from = datetime.combine(missed[0].due + timedelta(days=1), time(), tzinfo=ctx.zone)
    return activity.acknowledged_at >= overdue_from


def _not_before(at: datetime, next_action_at: datetime | None) -> datetime:
    """A step whose time has passed is told at the next sweep that looks (next_action_at), not before."""
    return max(at, next_action_at) if next_action_at is not None else at


def _status(activity: Activity, deadline: date | None, missed: Iterable[Target]) -> str:
    if activity.state == ActivityState.DONE:
        return "done"
    if activity.state == ActivityState.CANCELLED:
        return "cancelled"
    if any(True for _ in missed):
        return "overdue"
    if activity.timing is None:
        return "untimed"
    return "open" if deadline is not None else "ongoing"


def standing_json(s: Standing) -> dict[str, Any]:
    """A standing as plain data (`trygg status --json`, the desk's exports)."""
    return {
        "status": s.status,
        "overdue_since": _iso(s.overdue_since),
        "stage": _step_json(s.stage),
        "next_step": _step_json(s.next_step),
        "acknowledged_at": _iso(s.acknowledged_at),
        "pending_extension": {
            "id": s.pending_extension.id,
            "requested_deadline": s.pending_extension.requested_deadline.isoformat(),
            "reason": s.pending_extension.reason,
            "requested_by": s.pending_extension.requested_by,
            "requested_at": s.pending_extension.requested_at.isoformat(),
        }
        if s.pending_extension
        else None,
        "last_report": {
            "note": s.last_report.note,
            "at": s.last_report.at.isoformat(),
            "actor": s.last_report.actor,
            "by": s.last_report.by,
        }
        if s.last_report
        else None,
    }


def _step_json(step: LadderStep | None) -> dict[str, Any] | None:
    if step is None:
        return None
    return {"after": step.after, "to": step.to, "at": step.at.isoformat(), "sent": step.sent}


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def status_with_standing(session: Session, agreement_key: str | None, now: datetime) -> dict[str, Any]:
    """`trygg status --json`: each agreement's areas and activities, each activity with its standing,
    and when the agreement ends (period and grace) or was archived."""
    data = status(session, agreement_key)
    for agr in data["agreements"]:
        agreement = resolve_agreement(session, agr["id"])
        standings = {s.key: s for s in activity_standing(session, agreement, now)}
        agr["ends_on"] = ends_on(agreement).isoformat()
        agr["archived_at"] = _iso(agreement.archived_at)
        agr["ended"] = has_ended(agreement, now.astimezone(context_of(agreement).zone).date())
        for area in agr["areas"]:
            for act in area["activities"]:
                if act["id"] in standings:
                    act.update(standing_json(standings[act["id"]]))
    return data
