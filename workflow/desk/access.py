"""Who sees which agreement: its people by their roles, the deployment's administrators all — deny by default.

One deployment carries many partnerships; a coordinator sees only theirs. Every desk and overview
page asks `Access.may(agreement_id, *roles)` before it reads anything else.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.models import Admin, Agreement, Person, PersonRole, Role
from workflow.audit import UnitOfWork

DESK_ROLES = (Role.COORDINATOR.value,)  # the coordinator's desk: /agreements/<id>
OVERVIEW_ROLES = (Role.MANAGEMENT.value, Role.COORDINATOR.value)  # the leadership's overview


@dataclass(frozen=True)
class Access:
    """What one signed-in address may see: its roles per agreement id, or everything (an administrator)."""

    email: str
    admin: bool = False
    roles: dict[int, frozenset[str]] = field(default_factory=dict)
    person_ids: dict[int, int] = field(default_factory=dict)  # agreement id → the person acting there

    def may(self, agreement_id: int, *roles: str) -> bool:
        """True when the address holds one of `roles` in the agreement (any role when none named)."""
        if self.admin:
            return True
        held = self.roles.get(agreement_id, frozenset())
        return bool(held & set(roles)) if roles else bool(held)

    def sees(self, agreement_id: int) -> bool:
        """The agreement is visible at all (else its pages answer 404: its existence is not told)."""
        return self.admin or agreement_id in self.roles

    def agreement_ids(self, *roles: str) -> set[int] | None:
        """The agreements where the address holds one of `roles`; None means every agreement (admin)."""
        if self.admin:
            return None
        return {aid for aid, held in self.roles.items() if not roles or held & set(roles)}


def access_of(session: Session, email: str | None) -> Access | None:
    """The access of a signed-in address (None for nobody): active people with that address, and admins."""
    if not email:
        return None
    address = email.strip().lower()
    rows = session.execute(
        select(Person.agreement_id, Person.id, PersonRole.role)
        .join(PersonRole, PersonRole.person_id == Person.id, isouter=True)
        .join(Agreement, Agreement.id == Person.agreement_id)
        .where(func.lower(Person.email) == address, Person.active)
        .order_by(Person.id)
    ).all()
    roles: dict[int, set[str]] = {}
    people: dict[int, int] = {}
    for agreement_id, person_id, role in rows:
        people.setdefault(agreement_id, person_id)
        roles.setdefault(agreement_id, set())  # a person without roles sees /me, not the desk
        if role:
            roles[agreement_id].add(role)
    admin = session.scalar(select(Admin.id).where(Admin.email == address)) is not None
    return Access(address, admin, {aid: frozenset(held) for aid, held in roles.items()}, people)


def add_admin(unit: UnitOfWork, email: str) -> Admin:
    """Make `email` a deployment administrator (idempotent); audited."""
    address = email.strip().lower()
    existing = unit.session.scalar(select(Admin).where(Admin.email == address))
    if existing is not None:
        return existing
    admin = Admin(email=address, added_at=unit.clock.now(), added_by=unit.actor)
    unit.session.add(admin)
    unit.audit("create", "admin", address)
    return admin


def remove_admin(unit: UnitOfWork, email: str) -> bool:
    """No longer an administrator; False when the address was not one."""
    address = email.strip().lower()
    admin = unit.session.scalar(select(Admin).where(Admin.email == address))
    if admin is None:
        return False
    unit.session.delete(admin)
    unit.audit("retire", "admin", address)
    return True


def admins(session: Session) -> list[tuple[str, datetime, str]]:
    return [(a.email, a.added_at, a.added_by) for a in session.scalars(select(Admin).order_by(Admin.email))]
