"""The status of agreements (per priority area, each activity) and of the engine (scheduler, workers, outbox)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import ScalarResult, func, or_, select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.contacts import resolve_contacts
from workflow.agreement.models import Agreement, Organisation, Person, PersonRole, Role
from workflow.engine import heartbeat
from workflow.engine.models import Lease
from workflow.i18n import _l
from workflow.outbox.models import Mail, MailStatus
from workflow.plan.models import Activity, ActivityOwner, Goal, OwnerRole, PriorityArea
from workflow.plan.standing import effective_deadline

# A scheduler ticks every minute and fires a sweep that a worker runs: five quiet minutes
# mean one of them is not running.
STALE_AFTER = timedelta(minutes=5)


class UnknownAgreement(LookupError):
    pass


def resolve_agreement(session: Session, key: str | None) -> Agreement:
    """The agreement named by --agreement, or the only one loaded when it is left out."""
    if key is not None:
        agreement = session.scalar(select(Agreement).where(Agreement.key == key))
        if agreement is None:
            known = ", ".join(session.scalars(select(Agreement.key))) or _l("none loaded")
            raise UnknownAgreement(_l("unknown agreement %(key)r (loaded: %(known)s)", key=key, known=known))
        return agreement
    agreements = list(session.scalars(select(Agreement).order_by(Agreement.key).limit(2)))
    if not agreements:
        raise UnknownAgreement(_l("no agreement is loaded (run `trygg load FILE`)"))
    if len(agreements) > 1:
        raise UnknownAgreement(_l("several agreements are loaded: give --agreement ID"))
    return agreements[0]


def agreement_status(session: Session, agreement: Agreement) -> dict[str, Any]:
    """One agreement as plain data: areas in plan order, each activity listed once."""
    contact_people = _contact_people(session, agreement)
    out_areas = [
        {
            "id": area.key,
            "title": area.title,
            "priority": area.priority_rank,
            "activities": [
                _activity_status(act, goal, contact_people)
                for goal in area.goals
                for act in goal.activities
                if act.state != "withdrawn"
            ],
        }
        for area in _active_areas(session, agreement)
    ]
    return {
        "id": agreement.key,
        "title": agreement.title,
        "period": {"start": agreement.period_start.isoformat(), "end": agreement.period_end.isoformat()},
        "areas": out_areas,
    }


def _contact_people(session: Session, agreement: Agreement) -> dict[int, list[Person]]:
    """Organisation id -> the active contact people who get its mails (a parent's if it has none)."""
    contacts: dict[int, list[Person]] = {}
    for person in session.scalars(
        select(Person).where(Person.agreement_id == agreement.id, Person.is_contact, Person.active)
    ):
        contacts.setdefault(person.organisation_id, []).append(person)
    parents = {
        o.id: o.parent_id
        for o in session.scalars(select(Organisation).where(Organisation.agreement_id == agreement.id))
    }
    return resolve_contacts(parents, contacts)


def _active_areas(session: Session, agreement: Agreement) -> ScalarResult[PriorityArea]:
    """The agreement's active priority areas in plan order, goals, activities and owners loaded."""
    return session.scalars(
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


def _activity_status(act: Activity, goal: Goal, contact_people: dict[int, list[Person]]) -> dict[str, Any]:
    leads = [o for o in act.owners if o.role == OwnerRole.LEAD]
    partners = [o for o in act.owners if o.role == OwnerRole.PARTNER]
    people = {p.key: p for o in act.owners for p in contact_people.get(o.organisation_id, ())}
    return {
        "id": act.key,
        "title": act.title,
        "goal": goal.title,
        "owners": [{"id": o.organisation.key, "name": o.organisation.name} for o in leads],
        "partners": [{"id": o.organisation.key, "name": o.organisation.name} for o in partners],
        "contacts": [{"id": p.key, "name": p.name, "email": p.email} for p in people.values()],
        "when": act.when_text,
        "responsible": act.responsible_text,
        "timing": act.timing,
        "starts_on": act.starts_on.isoformat() if act.starts_on else None,
        "deadline": act.deadline.isoformat() if act.deadline else None,
        "extended_deadline": act.extended_deadline.isoformat() if act.extended_deadline else None,
        "effective_deadline": _iso(effective_deadline(act.deadline, act.extended_deadline)),
        "next_action_at": act.next_action_at.isoformat() if act.next_action_at else None,
        "state": act.state,
    }


def status(session: Session, agreement_key: str | None = None) -> dict[str, Any]:
    """`trygg status --json`: every loaded agreement, or the one asked for."""
    if agreement_key is not None:
        agreements = [resolve_agreement(session, agreement_key)]
    else:
        agreements = list(session.scalars(select(Agreement).order_by(Agreement.key)))
    return {"agreements": [agreement_status(session, a) for a in agreements]}


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


def failures_untold(session: Session) -> int:
    """Failed mails nobody was told of: failure reports themselves, and mails of agreements
    without a coordinator (delivery logs those as errors; here they are counted)."""
    coordinated = (
        select(Person.agreement_id)
        .join(PersonRole, PersonRole.person_id == Person.id)
        .where(Person.active, PersonRole.role == Role.COORDINATOR.value)
    )
    return (
        session.scalar(
            select(func.count())
            .select_from(Mail)
            .where(
                Mail.status == MailStatus.FAILED,
                or_(Mail.kind == "delivery_failure", Mail.agreement_id.not_in(coordinated)),
            )
        )
        or 0
    )


def engine_status(session: Session, now: datetime, *, stale_after: timedelta = STALE_AFTER) -> dict[str, Any]:
    """When the scheduler and the workers last ran, the lease, and the outbox's mails by state.

    `problems` lists what makes the engine unhealthy: a role that never ran, or ran too long ago.
    `warnings` what a person should look at without the engine being unhealthy: mails that failed
    with nobody told (a failed delivery-failure report, or an agreement without a coordinator).
    """
    seen = heartbeat.last_seen(session)
    problems: list[str] = []
    roles: dict[str, Any] = {}
    for role in ("scheduler", "worker"):
        if role not in seen:
            roles[role] = {"last_seen": None, "age_seconds": None, "processes": 0, "stale": True}
            problems.append(f"{role}_never_ran")
            continue
        at, count = seen[role]
        age = (now - at).total_seconds()
        stale = age > stale_after.total_seconds()
        roles[role] = {
            "last_seen": at.isoformat(),
            "age_seconds": int(age),
            "processes": count,
            "stale": stale,
        }
        if stale:
            problems.append(f"{role}_stale")
    standby = seen.get("scheduler-standby")
    held = session.scalar(select(Lease).where(Lease.name == "scheduler"))
    mails = dict(session.execute(select(Mail.status, func.count()).group_by(Mail.status)).all())
    late = session.scalar(
        select(func.count())
        .select_from(Mail)
        .where(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now - stale_after)
    )
    untold = failures_untold(session)
    return {
        "now": now.isoformat(),
        "healthy": not problems,
        "problems": problems,
        "warnings": ["mail_failures_untold"] if untold else [],
        "mails_failed_untold": untold,
        "scheduler": roles["scheduler"],
        "scheduler_standby": {"last_seen": standby[0].isoformat(), "processes": standby[1]}
        if standby
        else None,
        "workers": roles["worker"],
        "lease": {"holder": held.holder, "expires_at": held.expires_at.isoformat()} if held else None,
        "mails": {status.value: mails.get(status.value, 0) for status in MailStatus},
        "mails_waiting_too_long": late or 0,
        "stale_after_seconds": int(stale_after.total_seconds()),
    }
