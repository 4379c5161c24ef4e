"""Who is told: the contact people of an activity's organisations, the coordinator, management."""

from __future__ import annotations

from collections.abc import Collection
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
    """Contacts inherit from the parent organisation when an organisation has none of its own."""
    return directories(session, [agreement_id])[agreement_id]


def directories(session: Session, agreement_ids: Collection[int]) -> dict[int, Directory]:
    """The directory of each of these agreements, in two statements whatever their number: the active
    people with their roles (in key order: the first coordinator signs mails) and the organisations'
    parents."""
    ids = list(agreement_ids)
    own: dict[int, dict[int, dict[int, None]]] = {a: {} for a in ids}  # agreement -> organisation -> people
    held: dict[int, dict[str, dict[int, None]]] = {
        a: {Role.COORDINATOR.value: {}, Role.MANAGEMENT.value: {}} for a in ids
    }
    for agreement_id, person_id, organisation_id, is_contact, role in session.execute(
        select(Person.agreement_id, Person.id, Person.organisation_id, Person.is_contact, PersonRole.role)
        .join(PersonRole, PersonRole.person_id == Person.id, isouter=True)
        .where(Person.agreement_id.in_(ids), Person.active)
        .order_by(Person.agreement_id, Person.key, Person.id)
    ):
        if is_contact:
            own[agreement_id].setdefault(organisation_id, {})[person_id] = None
        if role in held[agreement_id]:
            held[agreement_id][role][person_id] = None
    parents: dict[int, dict[int, int | None]] = {a: {} for a in ids}
    for agreement_id, organisation_id, parent_id in session.execute(
        select(Organisation.agreement_id, Organisation.id, Organisation.parent_id)
        .where(Organisation.agreement_id.in_(ids))
        .order_by(Organisation.id)
    ):
        parents[agreement_id][organisation_id] = parent_id
    return {
        a: Directory(
            contacts=resolve_contacts(parents[a], {org: list(people) for org, people in own[a].items()}),
            coordinators=tuple(held[a][Role.COORDINATOR.value]),
            management=tuple(held[a][Role.MANAGEMENT.value]),
        )
        for a in ids
    }
