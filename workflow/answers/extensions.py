"""A new date asked for, then decided: *Begär ny slutdag* makes a request the coordinators decide.

Until they decide, nothing about the activity changes: its reminders and its escalation ladder
go on. Approval runs the same extension as `trygg activity extend` (workflow.work.extend); either
way the one who asked hears the decision at once.
"""

from __future__ import annotations

from datetime import date

from sqlalchemy import select

from workflow.agreement.models import Person, Role
from workflow.agreement.roles import people_with_role
from workflow.audit import UnitOfWork
from workflow.i18n import _l
from workflow.outbox.notices import NoticeDraft, add_notices, cancel_notices, notice_row
from workflow.plan.models import Activity, ExtensionRequest, ExtensionStatus
from workflow.plan.standing import effective_deadline
from workflow.work import WorkError, check_extension, extend


class ExtensionError(WorkError):
    """A request that cannot be decided (already decided, or moot)."""


def request_extension(
    unit: UnitOfWork, activity: Activity, person: Person, new_deadline: date, reason: str
) -> ExtensionRequest:
    """A pending request for `new_deadline`, told to every coordinator at once. A second request
    by the same person about the same activity replaces the first."""
    current = check_extension(activity, new_deadline, reason)
    session, now = unit.session, unit.clock.now()
    for earlier in session.scalars(
        select(ExtensionRequest).where(
            ExtensionRequest.activity_id == activity.id,
            ExtensionRequest.requested_by_id == person.id,
            ExtensionRequest.status == ExtensionStatus.PENDING,
        )
    ):
        earlier.status, earlier.decided_at, earlier.decided_by = ExtensionStatus.MOOT, now, unit.actor
        cancel_notices(session, subject_type="extension_request", subject_id=earlier.id, now=now)
    request = ExtensionRequest(
        agreement_id=activity.agreement_id,
        activity_id=activity.id,
        requested_by_id=person.id,
        requested_deadline=new_deadline,
        reason=reason.strip(),
        requested_at=now,
        status=ExtensionStatus.PENDING,
    )
    session.add(request)
    session.flush()
    _audit(
        unit,
        activity,
        "request_extension",
        {"requested_deadline": new_deadline.isoformat(), "by": person.key},
        reason,
    )
    payload = {**_about(request, activity, person), "deadline": current.isoformat()}
    rows = [
        notice_row(
            agreement_id=activity.agreement_id,
            subject_type="extension_request",
            subject_id=request.id,
            draft=NoticeDraft("extension_request", coordinator, f"extension_request:{request.id}", now),
            payload=payload,
            now=now,
        )
        for coordinator in people_with_role(session, activity.agreement_id, Role.COORDINATOR)
    ]
    add_notices(session, rows)
    return request


def decide_extension(
    unit: UnitOfWork, request: ExtensionRequest, approve: bool, note: str | None = None
) -> ExtensionRequest:
    """Approve (the activity's deadline moves) or decline; the requester is told either way."""
    if request.status != ExtensionStatus.PENDING:
        raise ExtensionError(_l("the request has already been decided (%(status)s)", status=request.status))
    session, now = unit.session, unit.clock.now()
    activity = session.get(Activity, request.activity_id)
    request.status = ExtensionStatus.APPROVED if approve else ExtensionStatus.DECLINED
    request.decided_at, request.decided_by = now, unit.actor
    request.decision_note = (note or "").strip() or None
    session.flush()  # no longer pending: the extension below does not make it moot
    if approve:
        extend(unit, activity, new_deadline=request.requested_deadline, reason=request.reason)
    after = {"status": request.status, "requested_deadline": request.requested_deadline.isoformat()}
    _audit(unit, activity, "decide_extension", after, request.decision_note)
    # The other coordinators need not decide it any more.
    cancel_notices(session, subject_type="extension_request", subject_id=request.id, now=now)
    requester = session.get(Person, request.requested_by_id)
    payload = {
        **_about(request, activity, requester),
        "approved": approve,
        "note": request.decision_note,
        "decided_by": _name_of(unit),
        "deadline": effective_deadline(activity.deadline, activity.extended_deadline).isoformat(),
    }
    draft = NoticeDraft("extension_decision", requester.id, f"extension_request:{request.id}:decision", now)
    add_notices(
        session,
        [
            notice_row(
                agreement_id=activity.agreement_id,
                subject_type="extension_request",
                subject_id=request.id,
                draft=draft,
                payload=payload,
                now=now,
            )
        ],
    )
    return request


def _about(request: ExtensionRequest, activity: Activity, person: Person) -> dict:
    """What both mails say about the request."""
    return {
        "request": request.id,
        "activity": activity.key,
        "title": activity.title,
        "area": activity.goal.area.title,
        "requested_deadline": request.requested_deadline.isoformat(),
        "reason": request.reason,
        "requested_by": person.name,
        "requested_at": request.requested_at.isoformat(),
    }


def _name_of(unit: UnitOfWork) -> str:
    """Who decided, as the requester knows them: a person's name, else the actor."""
    if unit.actor.startswith("person:"):
        person = unit.session.get(Person, int(unit.actor.removeprefix("person:")))
        if person is not None:
            return person.name
    return unit.actor.partition(":")[2] or unit.actor


def _audit(unit: UnitOfWork, activity: Activity, action: str, after: dict, reason: str | None) -> None:
    previous, unit.agreement_id = unit.agreement_id, activity.agreement_id
    unit.audit(action, "activity", activity.key, after=after, reason=reason)
    unit.agreement_id = previous
