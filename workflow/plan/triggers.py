"""Event-triggered duties ("vid remissförfarande"): recording that the event happened dates its follow-up."""

from __future__ import annotations

from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork
from workflow.i18n import _l
from workflow.plan.models import Activity, ActivityEvent, ActivityState
from workflow.plan_language.timing import CombinedTiming, EventTiming, Timing, event_due, parse_timing_spec


class TriggerError(ValueError):
    pass


def event_parts(timing: Timing) -> list[EventTiming]:
    if isinstance(timing, EventTiming):
        return [timing]
    if isinstance(timing, CombinedTiming):
        return [p for part in timing.parts for p in event_parts(part)]
    return []


def record_event(
    session: Session, unit: UnitOfWork, agreement: Agreement, activity_key: str, occurred_on: date, note: str
) -> ActivityEvent:
    """The event of an activity's event-triggered duty happened on `occurred_on`: its dated
    follow-up is due a number of working days later (the timing's follow_up_days). The caller
    refreshes the activity's next action (`workflow.work.trigger` does)."""
    activity = session.scalar(
        select(Activity).where(Activity.agreement_id == agreement.id, Activity.key == activity_key)
    )
    if activity is None:
        raise TriggerError(_l("unknown activity %(key)r", key=activity_key))
    if activity.state == ActivityState.WITHDRAWN:
        raise TriggerError(_l("the activity %(key)r is no longer in the action plan", key=activity_key))
    parts = event_parts(parse_timing_spec(activity.timing)) if activity.timing else []
    if not parts:
        raise TriggerError(
            _l(
                "the activity %(key)r (%(when)r) has no event-driven duty (such as 'vid remissförfarande')",
                key=activity_key,
                when=activity.when_text,
            )
        )
    if not note.strip():
        raise TriggerError(_l("say what happened (--note)"))
    due = event_due(parts[0], occurred_on, context_of(agreement).workdays)
    event = ActivityEvent(
        activity_id=activity.id,
        occurred_on=occurred_on,
        due_on=due,
        note=note.strip(),
        recorded_at=unit.clock.now(),
        recorded_by=unit.actor,
    )
    session.add(event)
    session.flush()
    unit.audit(
        "trigger",
        "activity",
        activity_key,
        after={
            "event": parts[0].event,
            "occurred_on": occurred_on.isoformat(),
            "due_on": due.isoformat(),
            "note": event.note,
        },
    )
    return event
