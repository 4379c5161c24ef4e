"""Acting on the rules: read the activities whose next_action_at has passed, make their notices.

Only due rows are read (an index range on next_action_at); on PostgreSQL they are locked with
SKIP LOCKED, so two sweeps racing split the rows instead of both deciding them. Deciding is
pure and reads only: a row whose deciding fails is logged and looked at again an hour later,
it does not roll back the batch for everyone.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.models import Agreement, Person
from workflow.outbox.notices import add_notices
from workflow.plan import calendar
from workflow.plan.models import (
    Activity,
    ActivityEvent,
    ActivityOwner,
    ActivityState,
    ActivityStatusChange,
    Goal,
)
from workflow.plan.timing import TimingContext
from workflow.reminders.policy import ReminderPolicy, policy_from_config
from workflow.reminders.recipients import Directory, directory
from workflow.reminders.rules import Decision, ItemFacts, decide, first_action_at
from workflow.reminders.targets import effective_deadline, targets_of
from workflow.workdays import WorkCalendar

log = logging.getLogger(__name__)

ACTIVE_STATES = (ActivityState.OPEN.value, ActivityState.IN_PROGRESS.value)
RETRY_BROKEN_ROW = timedelta(hours=1)


@dataclass
class AgreementRules:
    """What deciding needs of one agreement, read once per batch."""

    agreement: Agreement
    policy: ReminderPolicy
    calendar: WorkCalendar
    context: TimingContext
    people: Directory


def agreement_rules(session: Session, agreement: Agreement) -> AgreementRules:
    return AgreementRules(
        agreement,
        policy_from_config(agreement.reminders_config),
        calendar.work_calendar(agreement.timezone, agreement.calendar_config),
        calendar.timing_context(
            agreement.period_start, agreement.period_end, agreement.timezone, agreement.calendar_config
        ),
        directory(session, agreement.id),
    )


@dataclass
class SweepBatch:
    items: int = 0
    notices: int = 0
    errors: list[str] = field(default_factory=list)


def facts_of(
    activity: Activity, rules: AgreementRules, events: Iterable[ActivityEvent], *, today=None
) -> ItemFacts:
    """An activity as the rules see it on `today` (default: the agreement's first day)."""
    day = today or rules.agreement.period_start
    return ItemFacts(
        subject_id=activity.id,
        active=activity.state in ACTIVE_STATES,
        targets=targets_of(
            timing=activity.timing,
            deadline=effective_deadline(activity.deadline, activity.extended_deadline),
            open_events=[(e.id, e.due_on) for e in events if e.done_at is None],
            reported_at=activity.reported_at,
            ctx=rules.context,
            cal=rules.calendar,
            today=day,
        ),
        owners=rules.people.contacts_of([o.organisation_id for o in activity.owners]),
        coordinators=rules.people.coordinators,
        management=rules.people.management,
        acknowledged_at=activity.acknowledged_at,
    )


def reschedule(session: Session, activities: Iterable[Activity]) -> None:
    """Set next_action_at of activities whose schedule may have changed (loaded, acted on).

    It becomes the earliest instant anything could be due for them; the next sweep then
    decides them afresh, and the catch-up rule and notice keys keep that from repeating
    anything already sent.
    """
    cache: dict[int, AgreementRules] = {}
    for activity in activities:
        rules = cache.get(activity.agreement_id)
        if rules is None:
            agreement = session.get(Agreement, activity.agreement_id)
            rules = cache[activity.agreement_id] = agreement_rules(session, agreement)
        events = (
            session.scalars(select(ActivityEvent).where(ActivityEvent.activity_id == activity.id))
            if activity.id
            else []
        )
        activity.next_action_at = first_action_at(
            facts_of(activity, rules, events), rules.policy, rules.calendar
        )


def sweep_batch(session: Session, now: datetime, *, limit: int = 200) -> SweepBatch:
    """Decide up to `limit` due activities in the caller's transaction."""
    query = (
        select(Activity)
        .where(Activity.next_action_at <= now, Activity.state.in_(ACTIVE_STATES))
        .order_by(Activity.next_action_at, Activity.id)
        .limit(limit)
        .with_for_update(skip_locked=True, of=Activity)
    )
    activities = list(session.scalars(query))
    batch = SweepBatch(items=len(activities))
    if not activities:
        return batch
    ids = [a.id for a in activities]
    # Load what deciding and the mails need in a few queries, not one per row.
    session.scalars(
        select(Activity)
        .where(Activity.id.in_(ids))
        .options(
            selectinload(Activity.owners).selectinload(ActivityOwner.organisation),
            selectinload(Activity.goal).selectinload(Goal.area),
        )
    ).all()
    events: dict[int, list[ActivityEvent]] = {}
    for event in session.scalars(
        select(ActivityEvent).where(ActivityEvent.activity_id.in_(ids), ActivityEvent.done_at.is_(None))
    ):
        events.setdefault(event.activity_id, []).append(event)
    cache: dict[int, AgreementRules] = {}
    decided: list[tuple[Activity, AgreementRules, Decision]] = []
    for activity in activities:
        rules = cache.get(activity.agreement_id)
        if rules is None:
            rules = cache[activity.agreement_id] = agreement_rules(
                session, session.get(Agreement, activity.agreement_id)
            )
        try:
            today = now.astimezone(rules.calendar.tz).date()
            facts = facts_of(activity, rules, events.get(activity.id, ()), today=today)
            decision = decide(facts, rules.policy, rules.calendar, now)
            if decision.notices:
                decided.append((activity, rules, decision))
            activity.next_action_at = decision.next_action_at
        except Exception as exc:  # one broken row must not stop the others
            _broken(batch, activity, exc, now)
    # What the mails say about the activities is read for the whole batch in two queries (one
    # query per activity made the sweep's cost a round trip per due item, and autoflushed each row).
    about = activity_summaries(session, [(a, r.people) for a, r, _ in decided])
    rows: list[dict[str, Any]] = []
    for activity, _rules, decision in decided:
        try:
            rows += _notice_rows(activity, about[activity.id], decision, now)
        except Exception as exc:  # one broken row must not stop the others
            _broken(batch, activity, exc, now)
    # One statement for the batch's notices; keys already there are skipped, not errors.
    for start in range(0, len(rows), 500):
        batch.notices += add_notices(session, rows[start : start + 500])
    session.flush()
    return batch


def _broken(batch: SweepBatch, activity: Activity, exc: Exception, now: datetime) -> None:
    log.exception("deciding activity %s failed", activity.key)
    batch.errors.append(f"{activity.key}: {exc}")
    activity.next_action_at = now + RETRY_BROKEN_ROW


def _notice_rows(
    activity: Activity, about: dict[str, Any], decision: Decision, now: datetime
) -> list[dict[str, Any]]:
    return [
        {
            "agreement_id": activity.agreement_id,
            "key": draft.key,
            "rule": draft.rule,
            "recipient_id": draft.recipient_id,
            "occurrence": draft.occurrence,
            "subject_type": "activity",
            "subject_id": activity.id,
            "payload": {**about, **draft.details},
            "due_at": draft.due_at,
            "created_at": now,
        }
        for draft in decision.notices
    ]


def activity_summaries(
    session: Session, items: list[tuple[Activity, Directory]]
) -> dict[int, dict[str, Any]]:
    """What a mail says about each activity: what, whose, when, and its last status."""
    if not items:
        return {}
    last: dict[int, ActivityStatusChange] = {}
    for change in session.scalars(
        select(ActivityStatusChange)
        .where(ActivityStatusChange.activity_id.in_([a.id for a, _ in items]))
        .order_by(ActivityStatusChange.activity_id, ActivityStatusChange.at, ActivityStatusChange.id)
    ):
        last[change.activity_id] = change  # ordered: the latest one stays
    contacts = {a.id: people.contacts_of([o.organisation_id for o in a.owners]) for a, people in items}
    wanted = {p for ids in contacts.values() for p in ids}
    names = (
        dict(session.execute(select(Person.id, Person.name).where(Person.id.in_(wanted))).all())
        if wanted
        else {}
    )
    return {
        a.id: activity_summary(a, last.get(a.id), [names[p] for p in contacts[a.id] if p in names])
        for a, _ in items
    }


def activity_summary(
    activity: Activity, last: ActivityStatusChange | None, contacts: list[str]
) -> dict[str, Any]:
    return {
        "activity": activity.key,
        "title": activity.title,
        "area": activity.goal.area.title,
        "goal": activity.goal.title,
        "when": activity.when_text,
        "responsible": activity.responsible_text,
        "deadline": activity.deadline.isoformat() if activity.deadline else None,
        "extended_deadline": activity.extended_deadline.isoformat() if activity.extended_deadline else None,
        "owners": [o.organisation.name for o in activity.owners],
        "contacts": sorted(contacts),
        "state": activity.state,
        "last_status": {
            "state": last.to_state,
            "note": last.note,
            "at": last.at.isoformat(),
            "by": last.actor,
        }
        if last is not None
        else None,
    }
