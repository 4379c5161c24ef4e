"""Who is told: the contact people of an activity's organisations, the coordinator, management."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.contacts import resolve_contacts
from workflow.agreement.models import Organisation, Person, Role
from workflow.agreement.roles import people_with_role


@dataclass(frozen=True)
class Directory:
    """An agreement's people as the rules need them, read once per sweep."""

    contacts: dict[int, tuple[int, ...]]  # organisation id -> its contact people (inherited)
    coordinators: tuple[int, ...]
    management: tuple[int, ...]

    def contacts_of(self, organisation_ids: list[int]) -> tuple[int, ...]:
        seen: dict[int, None] = {}
        for org in organisation_ids:
            for person in self.contacts.get(org, ()):
                seen.setdefault(person)
        return tuple(seen)


def directory(session: Session, agreement_id: int) -> Directory:
    """Contacts inherit from the parent organisation when an organisation has none of its own."""
    own: dict[int, list[int]] = {}
    for person in session.scalars(
        select(Person)
        .where(Person.agreement_id == agreement_id, Person.is_contact, Person.active)
        .order_by(Person.key)
    ):
        own.setdefault(person.organisation_id, []).append(person.id)
    parents = dict(
        session.execute(
            select(Organisation.id, Organisation.parent_id).where(Organisation.agreement_id == agreement_id)
        ).all()
    )

    return Directory(
        contacts=resolve_contacts(parents, own),
        coordinators=people_with_role(session, agreement_id, Role.COORDINATOR),
        management=people_with_role(session, agreement_id, Role.MANAGEMENT),
    )
