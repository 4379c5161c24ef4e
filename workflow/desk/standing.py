"""How each activity stands now, telling the truth: overdue with the ladder stage reached and the next step with its date.

One function for the desk and `trygg status` (issue 15). The ladder is the agreement's own
(`reminders.escalation`): a step is reached once its send instant (working days after the
deadline, at the send hour) has passed; an acknowledged delay stops the ladder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement
from workflow.plan.models import Activity, ActivityOwner, ActivityState, Goal, PriorityArea
from workflow.plan.standing import effective_deadline

UNFINISHED = (ActivityState.OPEN, ActivityState.IN_PROGRESS)


@dataclass(frozen=True)
class LadderStep:
    after: int  # working days after the deadline
    to: str  # owner, coordinator, management
    on: date  # the local day it is (or was) sent


@dataclass(frozen=True)
class ActivityStanding:
    id: int
    key: str
    title: str
    area_key: str
    area: str
    goal: str
    owners: tuple[str, ...]  # organisation keys, lead first
    owner_names: tuple[str, ...]
    responsible: str | None
    when: str | None
    deadline: date | None  # an approved extension replaces the plan's date
    state: str  # open, in_progress, done
    status: str  # overdue, open, ongoing, done
    overdue_days: int  # calendar days past the deadline (0 unless overdue)
    reached: LadderStep | None  # the last step of the ladder that has gone out
    next_step: LadderStep | None  # the next one, with its day
    acknowledged: bool  # management has seen this delay: the ladder stops


def activity_standing(session: Session, agreement: Agreement, now: datetime) -> list[ActivityStanding]:
    """Every live activity of the agreement in plan order, as it stands at `now`."""
    context = context_of(agreement)
    today = now.astimezone(context.zone).date()
    areas = session.scalars(
        select(PriorityArea)
        .where(PriorityArea.agreement_id == agreement.id, PriorityArea.active)
        .order_by(PriorityArea.plan_position)
        .options(
            selectinload(PriorityArea.goals)
            .selectinload(Goal.activities)
            .selectinload(Activity.owners)
            .selectinload(ActivityOwner.organisation)
        )
    )
    out = []
    for area in areas:
        for goal in area.goals:
            for activity in goal.activities:
                if activity.state != ActivityState.WITHDRAWN:
                    out.append(_standing(activity, area, goal, context, today, now))
    return out


def _standing(activity, area, goal, context, today: date, now: datetime) -> ActivityStanding:
    deadline = effective_deadline(activity.deadline, activity.extended_deadline)
    owners = sorted(activity.owners, key=lambda o: (o.role != "lead", o.position))
    overdue = activity.state in UNFINISHED and deadline is not None and deadline < today
    if activity.state == ActivityState.DONE:
        status = "done"
    elif overdue:
        status = "overdue"
    else:
        status = "ongoing" if deadline is None else "open"
    reached = next_step = None
    acknowledged = False
    if overdue:
        overdue_from = datetime.combine(deadline + timedelta(days=1), time(), tzinfo=context.zone)
        acknowledged = activity.acknowledged_at is not None and activity.acknowledged_at >= overdue_from
        reached, next_step = _ladder(deadline, context, now, acknowledged)
    return ActivityStanding(
        id=activity.id,
        key=activity.key,
        title=activity.title,
        area_key=area.key,
        area=area.title,
        goal=goal.title,
        owners=tuple(o.organisation.key for o in owners),
        owner_names=tuple(o.organisation.name for o in owners),
        responsible=activity.responsible_text,
        when=activity.when_text,
        deadline=deadline,
        state=activity.state,
        status=status,
        overdue_days=(today - deadline).days if overdue else 0,
        reached=reached,
        next_step=next_step,
        acknowledged=acknowledged,
    )


def _ladder(
    deadline: date, context, now: datetime, acknowledged: bool
) -> tuple[LadderStep | None, LadderStep | None]:
    """The ladder step last reached at `now` and the next one (none after an acknowledgement)."""
    policy, cal = context.reminders, context.workdays
    reached = upcoming = None
    for step in policy.escalation:
        day = cal.add_working_days(deadline, step.after)
        at = cal.send_time(day, policy.hour, policy.minute)
        if at <= now:
            reached = LadderStep(step.after, step.to, day)
        elif upcoming is None:
            upcoming = LadderStep(step.after, step.to, day)
    return reached, None if acknowledged else upcoming
