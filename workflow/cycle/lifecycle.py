"""The cycle's rules: opening a year, what each step must deliver, closing steps, the next year.

Steps run in order 1–5. A step closes when its deliverables are done, or when the coordinator
overrides it with a reason (audited). Closing step 5 closes the year and opens the next cycle
on the revised plan, carrying unfinished activities over: the cycle never stops.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement, Organisation
from workflow.audit import UnitOfWork
from workflow.cycle.meeting_plan import plan_due_from
from workflow.cycle.models import Cycle, CycleActivity, CycleStep, Deliverable, StepState
from workflow.i18n import LazyText, _l, _pl, render
from workflow.meetings.held import HELD
from workflow.meetings.models import Meeting, MeetingKind
from workflow.meetings.schedule import reconcile_meetings
from workflow.plan.load import latest_version
from workflow.plan.models import Activity, ActivityState, PlanVersion

UNFINISHED = (ActivityState.OPEN, ActivityState.IN_PROGRESS)


# Short names of the steps, for calendars and mails; the agreement's own words are the titles.
STEP_NAMES = {
    "facts": _l("Facts on the crime situation collected"),
    "situation_picture": _l("Joint situation picture"),
    "action_plan": _l("Action plan decided"),
    "operations": _l("Operational work"),
    "evaluation": _l("Follow-up and evaluation"),
}


class CycleError(ValueError):
    """An action the cycle's rules do not allow (closing a step out of order, …)."""


@dataclass(frozen=True)
class DeliverableSpec:
    key: str
    title: LazyText  # stored in the agreement's language when the cycle opens
    owner: str | None = None  # organisation key
    automatic: bool = False


def deliverables_for(step_key: str, owners: list[str], party_names: dict[str, str]) -> list[DeliverableSpec]:
    """What a step must produce, as the agreement describes the five steps."""
    if step_key == "facts":
        return [
            DeliverableSpec(
                f"facts-{o}",
                _l("Facts on the criminal situation from %(party)s", party=party_names.get(o, o)),
                o,
            )
            for o in owners
        ]
    if step_key == "situation_picture":
        return [
            DeliverableSpec("situation-picture", _l("Joint situation picture established")),
            DeliverableSpec("council-approval", _l("The situation picture approved by the council")),
        ]
    if step_key == "action_plan":
        return [
            DeliverableSpec(
                "plan-version", _l("The year's action plan decided (plan version loaded)"), automatic=True
            )
        ]
    if step_key == "operations":
        return [
            DeliverableSpec(
                "check-ins", _l("The year's two municipality–police check-ins held"), automatic=True
            )
        ]
    return [
        DeliverableSpec(
            "evaluation", _l("The evaluation presented to police and municipal leadership"), automatic=True
        ),
        DeliverableSpec("council-review", _l("Follow-up of how the council has worked")),
    ]


def _window(year: int, month_day: str) -> date:
    month, day = (int(x) for x in month_day.split("-"))
    return date(year, month, day)


def open_cycle(
    session: Session, unit: UnitOfWork, agreement: Agreement, year: int, carried: list[Activity] = ()
) -> Cycle:
    """Open the cycle of `year`: its five steps (step 1 open), deliverables, meetings, activities."""
    if session.scalar(select(Cycle).where(Cycle.agreement_id == agreement.id, Cycle.year == year)):
        raise CycleError(_l("the cycle of %(year)s already exists", year=year))
    version = latest_version(session, agreement.id, year=year) or latest_version(session, agreement.id)
    now = unit.clock.now()
    cycle = Cycle(
        agreement_id=agreement.id,
        year=year,
        plan_version_id=version.id if version else None,
        opened_at=now,
        # The sweep mails the council the year's meeting plan at the first send slot from here.
        next_action_at=plan_due_from(datetime(year, 1, 1, tzinfo=ZoneInfo(agreement.timezone)), now),
    )
    cycle.steps.extend(_cycle_steps(session, agreement, year))
    session.add(cycle)
    session.flush()
    cycle.activities.extend(_cycle_activities(session, agreement, version, carried))
    reconcile_meetings(session, unit, agreement, [year])
    unit.audit(
        "open",
        "cycle",
        str(year),
        after={
            "plan_version": f"{version.year}/{version.revision}" if version else None,
            "carried_over": sorted(a.key for a in carried),
        },
    )
    session.flush()
    return cycle


def _cycle_steps(session: Session, agreement: Agreement, year: int) -> list[CycleStep]:
    """The agreement's steps in `year`, step 1 open, each with its deliverables."""
    orgs = {
        o.key: o
        for o in session.scalars(select(Organisation).where(Organisation.agreement_id == agreement.id))
    }
    names = {k: o.name for k, o in orgs.items()}
    days = context_of(agreement).workdays
    steps = []
    for spec in agreement.cycle_config["steps"]:
        step = CycleStep(
            number=spec["number"],
            key=spec["key"],
            title=spec["title"],
            window_start=_window(year, spec["window"]["start"]),
            window_end=_window(year, spec["window"]["end"]),
            deadline=days.adjust_deadline(_window(year, spec["window"]["end"])),
            state=StepState.OPEN if spec["number"] == 1 else StepState.PENDING,
        )
        for pos, d in enumerate(deliverables_for(spec["key"], spec["owners"], names)):
            step.deliverables.append(
                Deliverable(
                    key=d.key,
                    title=render(d.title, agreement.language),
                    position=pos,
                    owner_id=orgs[d.owner].id if d.owner else None,
                    automatic=d.automatic,
                )
            )
        steps.append(step)
    return steps


def _cycle_activities(
    session: Session, agreement: Agreement, version: PlanVersion | None, carried: list[Activity]
) -> list[CycleActivity]:
    """The plan version's activities, then the carried-over ones the plan no longer lists."""
    carried_ids = {a.id for a in carried}
    out = []
    for activity in plan_activities(session, agreement, version):
        out.append(CycleActivity(activity_id=activity.id, carried_over=activity.id in carried_ids))
        carried_ids.discard(activity.id)
    for activity_id in sorted(carried_ids):
        out.append(CycleActivity(activity_id=activity_id, carried_over=True))
    return out


def plan_activities(session: Session, agreement: Agreement, version: PlanVersion | None) -> list[Activity]:
    """The activities a plan version lists, as rows (withdrawn ones left out)."""
    if version is None:
        return []
    keys = [a["id"] for area in version.content["areas"] for g in area["goals"] for a in g["activities"]]
    rows = session.scalars(
        select(Activity).where(Activity.agreement_id == agreement.id, Activity.key.in_(keys))
    )
    return [a for a in rows if a.state != ActivityState.WITHDRAWN]


def ensure_first_cycle(session: Session, unit: UnitOfWork, agreement: Agreement) -> None:
    """A newly loaded agreement starts its first year; its whole period's meetings are planned."""
    opened = set(session.scalars(select(Cycle.year).where(Cycle.agreement_id == agreement.id)))
    if not opened:
        open_cycle(session, unit, agreement, agreement.period_start.year)
    years = set(range(agreement.period_start.year, agreement.period_end.year + 1)) | opened
    reconcile_meetings(session, unit, agreement, years)


def current_cycle(session: Session, agreement: Agreement, year: int | None = None) -> Cycle:
    query = select(Cycle).where(Cycle.agreement_id == agreement.id)
    if year is not None:
        query = query.where(Cycle.year == year)
    else:
        query = query.where(Cycle.closed_at.is_(None))
    cycle = session.scalar(query.order_by(Cycle.year.desc()).limit(1))
    if cycle is None:
        raise CycleError(_l("no cycle for %(year)s", year=year) if year else _l("no open cycle"))
    return cycle


def refresh_automatic(session: Session, unit: UnitOfWork, agreement: Agreement, cycle: Cycle) -> None:
    """Mark the deliverables that the data shows are done (a plan version, meetings held).
    An archived agreement's record stays as it was: reading it changes nothing."""
    if agreement.archived_at is not None:
        return
    for step in cycle.steps:
        for d in step.deliverables:
            if d.automatic and d.done_at is None and _automatic_done(session, agreement, cycle, d.key):
                d.done_at, d.done_by = unit.clock.now(), "trygg"
                unit.audit(
                    "deliver", "deliverable", f"{cycle.year}/{step.number}/{d.key}", after={"automatic": True}
                )


def _automatic_done(session: Session, agreement: Agreement, cycle: Cycle, key: str) -> bool:
    def held(kind: MeetingKind) -> int:
        return len(
            session.scalars(
                select(Meeting.id).where(
                    Meeting.agreement_id == agreement.id,
                    Meeting.year == cycle.year,
                    Meeting.kind == kind,
                    Meeting.status.in_(HELD),
                )
            ).all()
        )

    if key == "plan-version":
        return latest_version(session, agreement.id, year=cycle.year) is not None
    if key == "check-ins":
        return held(MeetingKind.CHECK_IN) >= 2
    if key == "evaluation":
        return held(MeetingKind.EVALUATION) >= 1
    return False


def record_deliverable(
    session: Session, unit: UnitOfWork, cycle: Cycle, step_number: int, key: str, note: str | None
) -> Deliverable:
    """Someone reports a deliverable done (also an automatic one, e.g. a check-in held elsewhere)."""
    step = _step(cycle, step_number)
    found = next((d for d in step.deliverables if d.key == key), None)
    if found is None:
        known = ", ".join(d.key for d in step.deliverables)
        raise CycleError(
            _l(
                "step %(step)s has no deliverable %(key)r (there are: %(known)s)",
                step=step_number,
                key=key,
                known=known,
            )
        )
    if found.done_at is None:
        found.done_at, found.done_by, found.note = unit.clock.now(), unit.actor, note
        unit.audit("deliver", "deliverable", f"{cycle.year}/{step_number}/{key}", after={"note": note})
    return found


def close_step(
    session: Session,
    unit: UnitOfWork,
    agreement: Agreement,
    cycle: Cycle,
    number: int,
    override_reason: str | None = None,
) -> Cycle | None:
    """Close the open step `number`; with a reason, even with deliverables missing. Returns the
    next cycle when this closed step 5."""
    step = _step(cycle, number)
    if step.state != StepState.OPEN:
        open_step = next((s.number for s in cycle.steps if s.state == StepState.OPEN), None)
        raise CycleError(
            _l(
                "step %(step)s is not open (open step: %(open)s)",
                step=number,
                open=open_step or _pl("step", "none"),
            )
        )
    refresh_automatic(session, unit, agreement, cycle)
    missing = [d.key for d in step.deliverables if d.done_at is None]
    if missing and not override_reason:
        raise CycleError(
            _l(
                "step %(step)s lacks: %(missing)s (deliver them, or override with a reason)",
                step=number,
                missing=", ".join(missing),
            )
        )
    step.state, step.closed_at, step.closed_by = StepState.CLOSED, unit.clock.now(), unit.actor
    step.override_reason = override_reason
    unit.audit(
        "override" if override_reason else "close",
        "cycle_step",
        f"{cycle.year}/{number}",
        before={"state": "open", "missing": missing},
        after={"state": "closed"},
        reason=override_reason,
    )
    if number < 5:
        _step(cycle, number + 1).state = StepState.OPEN
        return None
    cycle.closed_at = unit.clock.now()
    unit.audit("close", "cycle", str(cycle.year))
    carried = [session.get(Activity, ca.activity_id) for ca in cycle.activities]
    unfinished = [a for a in carried if a is not None and a.state in UNFINISHED]
    return open_cycle(session, unit, agreement, cycle.year + 1, unfinished)


def _step(cycle: Cycle, number: int) -> CycleStep:
    step = next((s for s in cycle.steps if s.number == number), None)
    if step is None:
        raise CycleError(_l("step %(step)s does not exist (1–5)", step=number))
    return step


def cycle_status(session: Session, agreement: Agreement, cycle: Cycle) -> dict[str, Any]:
    """A cycle as plain data: steps with windows, deliverables and state; its activities."""
    acts = {ca.activity_id: ca.carried_over for ca in cycle.activities}
    rows = session.scalars(select(Activity).where(Activity.id.in_(acts))) if acts else []
    return {
        "agreement": agreement.key,
        "year": cycle.year,
        "state": "closed" if cycle.closed_at else "open",
        "plan_version": cycle.plan_version_id,
        "steps": [
            {
                "number": s.number,
                "key": s.key,
                "title": s.title,
                "state": s.state,
                "window": {"start": s.window_start.isoformat(), "end": s.window_end.isoformat()},
                "deadline": s.deadline.isoformat() if s.deadline else None,
                "closed_at": s.closed_at.isoformat() if s.closed_at else None,
                "override_reason": s.override_reason,
                "deliverables": [
                    {
                        "key": d.key,
                        "title": d.title,
                        "done": d.done_at is not None,
                        "automatic": d.automatic,
                        "done_by": d.done_by,
                        "note": d.note,
                    }
                    for d in s.deliverables
                ],
            }
            for s in cycle.steps
        ],
        "activities": sorted(
            ({"id": a.key, "state": a.state, "carried_over": acts[a.id]} for a in rows), key=lambda x: x["id"]
        ),
    }
