"""How each activity stands at a day: done on time or late, late, in progress or not started, or
ongoing work without a deadline; its last note. "In progress" only with a progress report to show.

Shared by the check-in report (twice a year) and the yearly follow-up report.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.models import Agreement
from workflow.i18n import _pl, render
from workflow.plan.models import Activity, ActivityOwner, ActivityState, Goal, PriorityArea


def effective_deadline(deadline: date | None, extended_deadline: date | None) -> date | None:
    """An approved extension replaces the deadline the plan gives."""
    return extended_deadline or deadline


# How an activity stands, in the order reports list them.
STANDINGS = ("done_on_time", "done_late", "late", "in_progress", "not_started", "ongoing")
STANDING_WORDS = {
    "done_on_time": _pl("standing", "done on time"),
    "done_late": _pl("standing", "done late"),
    "late": _pl("standing", "late"),
    "in_progress": _pl("standing", "in progress, on time"),
    "not_started": _pl("standing", "not started"),
    "ongoing": _pl("standing", "ongoing"),
}
STANDING_SV = {k: render(v, "sv") for k, v in STANDING_WORDS.items()}
STANDING_EN = {k: render(v, "en") for k, v in STANDING_WORDS.items()}


@dataclass(frozen=True)
class Standing:
    key: str
    title: str
    goal: str
    owners: tuple[str, ...]
    when: str | None
    deadline: date | None
    state: str
    standing: str
    done_on: date | None
    last_note: str | None
    last_note_on: date | None


def done_on_at(state: str, done_at: Iterable[datetime], day: date, tz: ZoneInfo) -> date | None:
    """The local day an activity was done, as known at `day`: its last change to done on or before
    `day`, while it is done now (None otherwise). The reports and the overview read it here."""
    if state != ActivityState.DONE:
        return None
    days = [at.astimezone(tz).date() for at in done_at]
    return max((d for d in days if d <= day), default=None)


def standing_of(activity: Activity, day: date, tz: ZoneInfo) -> Standing:
    deadline = effective_deadline(activity.deadline, activity.extended_deadline)
    last_note, last_note_on, reported = None, None, False
    for change in activity.history:
        changed_on = change.at.astimezone(tz).date()
        if changed_on <= day and change.note:
            last_note, last_note_on = change.note, changed_on
        reported |= changed_on <= day and change.to_state == ActivityState.IN_PROGRESS
    done_on = done_on_at(
        activity.state, (c.at for c in activity.history if c.to_state == ActivityState.DONE), day, tz
    )
    done = done_on is not None
    if done:
        standing = "done_on_time" if deadline is None or done_on <= deadline else "done_late"
    elif deadline is None:
        standing = "ongoing"
    elif deadline < day:
        standing = "late"
    else:  # not yet due: "in progress" needs a progress report, else nobody has said it started
        standing = "in_progress" if reported else "not_started"
    return Standing(
        key=activity.key,
        title=activity.title,
        goal=activity.goal.title,
        owners=tuple(o.organisation.name for o in activity.owners if o.role == "lead"),
        when=activity.when_text,
        deadline=deadline,
        state=activity.state,
        standing=standing,
        done_on=done_on if done else None,
        last_note=last_note,
        last_note_on=last_note_on,
    )


def progress_by_area(session: Session, agreement: Agreement, day: date) -> list[tuple[str, list[Standing]]]:
    """(area title, its activities' standings) in plan order, withdrawn activities left out."""
    tz = ZoneInfo(agreement.timezone)
    areas = session.scalars(
        select(PriorityArea)
        .where(PriorityArea.agreement_id == agreement.id, PriorityArea.active)
        .order_by(PriorityArea.plan_position)
        .options(
            selectinload(PriorityArea.goals)
            .selectinload(Goal.activities)
            .options(
                selectinload(Activity.owners).selectinload(ActivityOwner.organisation),
                selectinload(Activity.history),
            )
        )
    )
    out = []
    for area in areas:
        standings = [
            standing_of(activity, day, tz)
            for goal in area.goals
            for activity in goal.activities
            if activity.state != ActivityState.WITHDRAWN
        ]
        out.append((area.title, standings))
    return out
