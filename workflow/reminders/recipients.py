"""Who is told: the contact people of an activity's organisations, the coordinator, management."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.contacts import resolve_contacts
from workflow.agreement.models import Organisation, Person, PersonRole, Role


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
    """Contacts inherit from the parent organisation when an organisation has none of its own.

    Two statements: the active people with their roles (in key order: the first coordinator signs
    mails) and the organisations' parents."""
    own: dict[int, dict[int, None]] = {}
    held: dict[str, dict[int, None]] = {Role.COORDINATOR.value: {}, Role.MANAGEMENT.value: {}}
    for person_id, organisation_id, is_contact, role in session.execute(
        select(Person.id, Person.organisation_id, Person.is_contact, PersonRole.role)
        .join(PersonRole, PersonRole.person_id == Person.id, isouter=True)
        .where(Person.agreement_id == agreement_id, Person.active)
        .order_by(Person.key, Person.id)
    ):
        if is_contact:
            own.setdefault(organisation_id, {})[person_id] = None
        if role in held:
            held[role][person_id] = None
    parents = dict(
        session.execute(
            select(Organisation.id, Organisation.parent_id).where(Organisation.agreement_id == agreement_id)
        ).all()
    )
    return Directory(
        contacts=resolve_contacts(parents, {org: list(people) for org, people in own.items()}),
        coordinators=tuple(held[Role.COORDINATOR.value]),
        management=tuple(held[Role.MANAGEMENT.value]),
    )
