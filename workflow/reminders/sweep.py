"""The activities in the sweep: what deciding one needs, and what its mails say.

The sweep itself (due rows only, locked, a broken row retried later) is the one batch runner
of `workflow.outbox.batch`; deciding is pure (`workflow.reminders.rules`).
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.context import AgreementContext, ReminderPolicy, context_of
from workflow.agreement.models import Agreement, Person
from workflow.outbox.batch import DueItems, PerAgreement
from workflow.outbox.notices import Decision
from workflow.plan.models import (
    Activity,
    ActivityEvent,
    ActivityOwner,
    ActivityState,
    ActivityStatusChange,
    Goal,
)
from workflow.plan.standing import effective_deadline
from workflow.reminders.recipients import Directory, directory
from workflow.reminders.rules import ItemFacts, decide, first_action_at
from workflow.reminders.targets import targets_of
from workflow.workdays import WorkCalendar

log = logging.getLogger(__name__)

ACTIVE_STATES = (ActivityState.OPEN.value, ActivityState.IN_PROGRESS.value)


@dataclass
class AgreementRules:
    """What deciding needs of one agreement, read once per batch: its settings and its people."""

    agreement: Agreement
    context: AgreementContext
    people: Directory

    @property
    def policy(self) -> ReminderPolicy:
        return self.context.reminders

    @property
    def calendar(self) -> WorkCalendar:
        return self.context.workdays


def agreement_rules(session: Session, agreement: Agreement) -> AgreementRules:
    return AgreementRules(agreement, context_of(agreement), directory(session, agreement.id))


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
            ctx=rules.context.timing,
            cal=rules.calendar,
            today=day,
        ),
        owners=rules.people.contacts_of([o.organisation_id for o in activity.owners]),
        coordinators=rules.people.coordinators,
        management=rules.people.management,
        acknowledged_at=activity.acknowledged_at,
    )


def refresh_next_action(session: Session, activities: Iterable[Activity]) -> None:
    """Set next_action_at of activities whose schedule may have changed (loaded, acted on).

    It becomes the earliest instant anything could be due for them; the next sweep then
    decides them afresh, and the catch-up rule and notice keys keep that from repeating
    anything already sent.
    """
    rules_of = PerAgreement(session, agreement_rules)
    for activity in activities:
        rules = rules_of(activity)
        events = (
            session.scalars(select(ActivityEvent).where(ActivityEvent.activity_id == activity.id))
            if activity.id
            else []
        )
        activity.next_action_at = first_action_at(
            facts_of(activity, rules, events), rules.policy, rules.calendar
        )


def _due(now: datetime):
    """The due activities, with what deciding and the mails read of them: their owners and area
    (IN queries of their own, so the row lock stays on the activities)."""
    return (
        select(Activity)
        .where(Activity.next_action_at <= now, Activity.state.in_(ACTIVE_STATES))
        .options(
            selectinload(Activity.owners).selectinload(ActivityOwner.organisation),
            selectinload(Activity.goal).selectinload(Goal.area),
        )
    )


class _Batch:
    """What deciding a batch of activities needs, read once: their events, each agreement's rules."""

    def __init__(self, session: Session, activities) -> None:
        self.session = session
        ids = [a.id for a in activities]  # read with their owners and area (`_due`)
        self.events: dict[int, list[ActivityEvent]] = {}
        for event in session.scalars(
            select(ActivityEvent).where(ActivityEvent.activity_id.in_(ids), ActivityEvent.done_at.is_(None))
        ):
            self.events.setdefault(event.activity_id, []).append(event)
        self.rules = PerAgreement(session, agreement_rules)


def _decide(batch: _Batch, activity: Activity, now: datetime) -> Decision:
    rules = batch.rules(activity)
    today = now.astimezone(rules.calendar.tz).date()
    facts = facts_of(activity, rules, batch.events.get(activity.id, ()), today=today)
    return decide(facts, rules.policy, rules.calendar, now)


def _payloads(batch: _Batch, decided, now: datetime):
    # What the mails say about the activities is read for the whole batch in two queries (one
    # query per activity made the sweep's cost a round trip per due item, and autoflushed each row).
    about = activity_summaries(batch.session, [(a, batch.rules(a).people) for a, _ in decided])
    events = {e.id: e for open_events in batch.events.values() for e in open_events}

    def payload(activity: Activity, draft) -> dict[str, Any]:
        event = events.get(draft.details.get("event_id"))
        if event is None:
            return about[activity.id]
        # An event-triggered duty: the mail says which event it follows.
        return {
            **about[activity.id],
            "event": {"note": event.note, "occurred_on": event.occurred_on.isoformat()},
        }

    return payload


ACTIVITIES = DueItems(
    subject_type="activity",
    model=Activity,
    due=_due,
    prepare=_Batch,
    decide=_decide,
    payloads=_payloads,
)


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
