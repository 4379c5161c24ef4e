"""Who holds a role in an agreement (the coordinator, management): one query, used downstream."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Person, PersonRole, Role


def people_with_role(session: Session, agreement_id: int, role: Role) -> tuple[int, ...]:
    """Ids of the active people with `role`, in key order (the first coordinator signs mails)."""
    return tuple(
        session.scalars(
            select(Person.id)
            .join(PersonRole, PersonRole.person_id == Person.id)
            .where(Person.agreement_id == agreement_id, Person.active, PersonRole.role == role.value)
            .order_by(Person.key)
        )
    )
