"""Acting on the work: done, progress, extend, acknowledge, trigger — each audited, each ending what it makes moot.

The CLI calls these today; the web and the signed links in mails will call the same functions.
Each runs in the caller's unit of work (`workflow.audit.UnitOfWork`: its transaction, its clock
and who acts — `cli:<user>`, `person:<id>`, `system`), so the change, its audit entry with that
actor, the cancelled notices and the new schedule commit together.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork, record
from workflow.i18n import LazyText, _l
from workflow.outbox.notices import cancel_notices
from workflow.plan.extensions import moot_pending
from workflow.plan.models import Activity, ActivityEvent, ActivityState, ActivityStatusChange
from workflow.plan.standing import effective_deadline
from workflow.plan.triggers import record_event
from workflow.reminders.sweep import ACTIVE_STATES, refresh_next_action


class WorkError(ValueError):
    """The action does not fit the activity (done is done, an extension must move later, …)."""


class UnknownActivity(LookupError):
    pass


@dataclass(frozen=True)
class Acted:
    activity: str
    action: str
    changed: bool
    cancelled_notices: int
    message: LazyText  # said in the reader's language


def find_activity(session: Session, agreement: Agreement, key: str) -> Activity:
    activity = session.scalar(
        select(Activity).where(Activity.agreement_id == agreement.id, Activity.key == key)
    )
    if activity is None:
        raise UnknownActivity(
            _l("unknown activity %(key)r in %(agreement)s", key=key, agreement=agreement.key)
        )
    return activity


def mark_done(unit: UnitOfWork, activity: Activity, *, note: str | None = None) -> Acted:
    """The activity is done: every reminder and escalation about it stops."""
    if activity.state == ActivityState.DONE:
        return Acted(activity.key, "done", False, 0, _l("already done"))
    _require_active(activity)
    session, now = unit.session, unit.clock.now()
    _change_state(unit, activity, ActivityState.DONE, note)
    cancelled = cancel_notices(session, subject_type="activity", subject_id=activity.id, now=now)
    cancel_moot_requests(session, [activity.id], now, unit.actor)
    refresh_next_action(session, [activity])
    return Acted(activity.key, "done", True, cancelled, _l("done"))


def report_progress(unit: UnitOfWork, activity: Activity, *, note: str) -> Acted:
    """A progress report: the activity is in progress, and the follow-up that is due is answered."""
    if not note.strip():
        raise WorkError(_l("a progress report needs a note"))
    _require_active(activity)
    session, now = unit.session, unit.clock.now()
    _change_state(unit, activity, ActivityState.IN_PROGRESS, note)
    activity.reported_at = now
    cancelled = cancel_notices(
        session,
        subject_type="activity",
        subject_id=activity.id,
        now=now,
        rules=("reminder",),
        occurrence_prefix=f"activity:{activity.id}:follow_up:",
    )
    refresh_next_action(session, [activity])
    return Acted(activity.key, "progress", True, cancelled, _l("progress reported"))


def check_extension(activity: Activity, new_deadline: date, reason: str) -> date:
    """Why a new deadline cannot be (WorkError), else the current deadline it replaces."""
    if not reason.strip():
        raise WorkError(_l("an extension needs a reason"))
    _require_active(activity)
    current = effective_deadline(activity.deadline, activity.extended_deadline)
    if current is None:
        raise WorkError(_l("the activity has no deadline to extend"))
    if new_deadline <= current:
        raise WorkError(
            _l(
                "the new date %(new)s is not after the deadline %(current)s",
                new=new_deadline,
                current=current,
            )
        )
    return current


def extend(unit: UnitOfWork, activity: Activity, *, new_deadline: date, reason: str) -> Acted:
    """An approved extension: a new deadline (later than the current one) and why."""
    current = check_extension(activity, new_deadline, reason)
    session, now = unit.session, unit.clock.now()
    before = activity.extended_deadline
    activity.extended_deadline = new_deadline
    _audit(
        unit,
        activity,
        "extend",
        before={"deadline": current.isoformat(), "extended_deadline": before.isoformat() if before else None},
        after={"extended_deadline": new_deadline.isoformat()},
        reason=reason,
    )
    # The old deadline's reminders and ladder are moot; the new one's start afresh.
    cancelled = cancel_notices(
        session,
        subject_type="activity",
        subject_id=activity.id,
        now=now,
        occurrence_prefix=f"activity:{activity.id}:deadline:",
    )
    # A request still waiting for a decision is answered by this extension.
    cancel_moot_requests(session, [activity.id], now, unit.actor)
    refresh_next_action(session, [activity])
    day = new_deadline.isoformat()
    return Acted(activity.key, "extend", True, cancelled, _l("new deadline %(day)s", day=day))


def acknowledge(unit: UnitOfWork, activity: Activity, *, note: str | None = None) -> Acted:
    """Someone has seen that the activity is late: its escalation stops (until a new deadline passes)."""
    _require_active(activity)
    session, now = unit.session, unit.clock.now()
    if not _overdue(session, activity, now):
        raise WorkError(_l("the activity is not overdue"))
    activity.acknowledged_at = now
    _audit(unit, activity, "acknowledge", after={"acknowledged_at": now.isoformat()}, reason=note)
    cancelled = cancel_notices(
        session,
        subject_type="activity",
        subject_id=activity.id,
        now=now,
        rules=("overdue", "escalation"),
    )
    refresh_next_action(session, [activity])
    return Acted(activity.key, "ack", True, cancelled, _l("the delay is acknowledged"))


def cancel_moot_requests(session: Session, activity_ids: list[int], now: datetime, actor: str) -> int:
    """Pending extension requests about these activities become moot, and so do their notices."""
    cancelled = 0
    for request_id in moot_pending(session, activity_ids, now, actor):
        cancelled += cancel_notices(session, subject_type="extension_request", subject_id=request_id, now=now)
    return cancelled


def _require_active(activity: Activity) -> None:
    if activity.state not in ACTIVE_STATES:
        raise WorkError(_l("the activity is %(state)s", state=activity.state))


def _overdue(session: Session, activity: Activity, now: datetime) -> bool:
    tz = ZoneInfo(session.get(Agreement, activity.agreement_id).timezone)
    dues = [effective_deadline(activity.deadline, activity.extended_deadline)]
    dues += session.scalars(
        select(ActivityEvent.due_on).where(
            ActivityEvent.activity_id == activity.id, ActivityEvent.done_at.is_(None)
        )
    ).all()
    return any(
        d is not None and now >= datetime.combine(d + timedelta(days=1), time(), tzinfo=tz) for d in dues
    )


def _change_state(unit: UnitOfWork, activity: Activity, state: ActivityState, note: str | None) -> None:
    before = activity.state
    unit.session.add(
        ActivityStatusChange(
            activity_id=activity.id,
            at=unit.clock.now(),
            actor=unit.actor,
            from_state=before,
            to_state=state,
            note=note,
        )
    )
    activity.state = state
    _audit(unit, activity, "state", before={"state": before}, after={"state": state.value}, reason=note)


def _audit(
    unit: UnitOfWork,
    activity: Activity,
    action: str,
    *,
    before: dict | None = None,
    after: dict | None = None,
    reason: str | None = None,
) -> None:
    """One audit entry for a change to an activity, by the unit's actor."""
    unit.check()
    record(
        unit.session,
        unit.clock,
        actor=unit.actor,
        channel=unit.channel,
        action=action,
        entity="activity",
        entity_key=activity.key,
        agreement_id=activity.agreement_id,
        before=before,
        after=after,
        reason=reason,
    )


def trigger(
    unit: UnitOfWork, agreement: Agreement, activity_key: str, occurred_on: date, note: str
) -> ActivityEvent:
    """The event of an event-triggered duty happened: recorded, and its follow-up is now due."""
    event = record_event(unit.session, unit, agreement, activity_key, occurred_on, note)
    refresh_next_action(unit.session, [unit.session.get(Activity, event.activity_id)])
    return event
