"""Extension requests waiting for the coordinator: the list, and the decision through the one rule that decides them."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Person
from workflow.answers.extensions import ExtensionError, decide_extension
from workflow.audit import UnitOfWork
from workflow.i18n import _l
from workflow.plan.models import Activity, ExtensionRequest, ExtensionStatus
from workflow.plan.standing import effective_deadline


@dataclass(frozen=True)
class Waiting:
    id: int
    activity_key: str
    activity_title: str
    area: str
    deadline: date | None  # the activity's deadline now
    requested_deadline: date
    reason: str
    requested_by: str
    requested_at: datetime


def waiting_requests(session: Session, agreement_id: int) -> list[Waiting]:
    """The agreement's pending extension requests, oldest first."""
    rows = session.execute(
        select(ExtensionRequest, Activity, Person.name)
        .join(Activity, Activity.id == ExtensionRequest.activity_id)
        .join(Person, Person.id == ExtensionRequest.requested_by_id)
        .where(
            ExtensionRequest.agreement_id == agreement_id, ExtensionRequest.status == ExtensionStatus.PENDING
        )
        .order_by(ExtensionRequest.requested_at, ExtensionRequest.id)
    ).all()
    return [
        Waiting(
            id=request.id,
            activity_key=activity.key,
            activity_title=activity.title,
            area=activity.goal.area.title,
            deadline=effective_deadline(activity.deadline, activity.extended_deadline),
            requested_deadline=request.requested_deadline,
            reason=request.reason,
            requested_by=name,
            requested_at=request.requested_at,
        )
        for request, activity, name in rows
    ]


def decide(
    unit: UnitOfWork, agreement_id: int, request_id: int, approve: bool, note: str | None
) -> ExtensionRequest:
    """Approve or decline one of the agreement's requests (workflow.answers.extensions decides)."""
    request = unit.session.get(ExtensionRequest, request_id)
    if request is None or request.agreement_id != agreement_id:
        raise ExtensionError(_l("there is no such request"))
    return decide_extension(unit, request, approve, note)
