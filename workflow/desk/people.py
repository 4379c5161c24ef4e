"""People and organisations on the desk: roles, language, contact details, and absences with a deputy.

Edits are checked as the agreement file's fields are (`PersonSpec`, `OrganisationSpec`) and
audited like a load: one row per changed field. An absence names a deputy of the same agreement;
while it lasts the engine's mails go to the deputy (`workflow.outbox.stand_ins`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Absence, Agreement, Organisation, Person, PersonRole, Role
from workflow.agreement.schema import OrganisationSpec, PersonSpec
from workflow.audit import UnitOfWork, jsonable
from workflow.i18n import LazyText, _l
from workflow.source import translate_pydantic

Errors = dict[str, str | LazyText]


@dataclass(frozen=True)
class PersonEdit:
    name: str
    email: str
    title: str | None
    language: str
    organisation: str  # the organisation's key
    roles: tuple[str, ...]
    contact: bool


def people_of(session: Session, agreement: Agreement) -> list[Person]:
    return list(
        session.scalars(
            select(Person).where(Person.agreement_id == agreement.id, Person.active).order_by(Person.name)
        )
    )


def organisations_of(session: Session, agreement: Agreement) -> list[Organisation]:
    return list(
        session.scalars(
            select(Organisation)
            .where(Organisation.agreement_id == agreement.id, Organisation.active)
            .order_by(Organisation.name)
        )
    )


def absences_of(session: Session, agreement: Agreement) -> list[Absence]:
    """The agreement's absences that are not cancelled, the latest first."""
    return list(
        session.scalars(
            select(Absence)
            .where(Absence.agreement_id == agreement.id, Absence.cancelled_at.is_(None))
            .order_by(Absence.starts_on.desc(), Absence.id.desc())
        )
    )


def check_person(person: Person, edit: PersonEdit) -> Errors:
    """What the agreement file's schema says of the edit, by field."""
    try:
        PersonSpec.model_validate(
            {
                "id": person.key,
                "name": edit.name,
                "email": edit.email,
                "organisation": edit.organisation,
                "title": edit.title or None,
                "language": edit.language,
                "roles": list(edit.roles),
                "contact": edit.contact,
            }
        )
    except ValidationError as exc:
        return {str(e["loc"][0]) if e["loc"] else "name": translate_pydantic(e) for e in exc.errors()}
    return {}


def update_person(session: Session, unit: UnitOfWork, person: Person, edit: PersonEdit) -> Errors:
    """Change a person as the edit says (nothing when it has errors); one audit row per changed field."""
    errors = check_person(person, edit)
    org = session.scalar(
        select(Organisation).where(
            Organisation.agreement_id == person.agreement_id, Organisation.key == edit.organisation
        )
    )
    if org is None:
        errors.setdefault("organisation", _l("unknown organisation %(key)r", key=edit.organisation))
    if errors:
        return errors
    email = PersonSpec.model_validate(
        {"id": person.key, "name": edit.name, "email": edit.email, "organisation": edit.organisation}
    ).email
    wanted = {
        "name": edit.name.strip(),
        "email": email,
        "title": (edit.title or "").strip() or None,
        "language": edit.language,
        "organisation_id": org.id,
        "is_contact": edit.contact,
    }
    for name, value in wanted.items():
        before = getattr(person, name)
        if before != value:
            setattr(person, name, value)
            unit.audit("update", "person", person.key, before={name: jsonable(before)}, after={name: value})
    roles = sorted(set(edit.roles))
    if person.role_names != roles:
        before_roles = person.role_names
        current = {r.role: r for r in person.roles}
        for role in set(current) - set(roles):
            person.roles.remove(current[role])
        for role in sorted(set(roles) - set(current)):
            person.roles.append(PersonRole(role=role))
        unit.audit("update", "person", person.key, before={"roles": before_roles}, after={"roles": roles})
    session.flush()
    return {}


def update_organisation(
    session: Session, unit: UnitOfWork, org: Organisation, name: str, aliases: list[str]
) -> Errors:
    """Rename an organisation or change the Ansvarig words that mean it; audited per field."""
    try:
        OrganisationSpec.model_validate({"id": org.key, "name": name, "kind": org.kind, "aliases": aliases})
    except ValidationError as exc:
        return {str(e["loc"][0]) if e["loc"] else "name": translate_pydantic(e) for e in exc.errors()}
    for field, value in (("name", name.strip()), ("aliases", aliases)):
        before = getattr(org, field)
        if before != value:
            setattr(org, field, value)
            unit.audit("update", "organisation", org.key, before={field: before}, after={field: value})
    session.flush()
    return {}


def add_absence(
    session: Session,
    unit: UnitOfWork,
    person: Person,
    deputy: Person | None,
    starts_on: date | None,
    ends_on: date | None,
    note: str | None,
) -> tuple[Absence | None, Errors]:
    """A person away from–to (inclusive) with a deputy of the same agreement; audited."""
    errors: Errors = {}
    if deputy is None or deputy.agreement_id != person.agreement_id or not deputy.active:
        errors["deputy"] = _l("choose a deputy from the same agreement")
    elif deputy.id == person.id:
        errors["deputy"] = _l("a person cannot stand in for themselves")
    if starts_on is None:
        errors["starts_on"] = _l("give a date as YYYY-MM-DD")
    if ends_on is None:
        errors["ends_on"] = _l("give a date as YYYY-MM-DD")
    elif starts_on is not None and ends_on < starts_on:
        errors["ends_on"] = _l("the absence ends before it begins")
    if errors:
        return None, errors
    absence = Absence(
        agreement_id=person.agreement_id,
        person_id=person.id,
        deputy_id=deputy.id,
        starts_on=starts_on,
        ends_on=ends_on,
        note=(note or "").strip() or None,
        created_at=unit.clock.now(),
        created_by=unit.actor,
    )
    session.add(absence)
    session.flush()
    unit.audit(
        "create",
        "absence",
        f"{person.key}/{starts_on.isoformat()}",
        after={"deputy": deputy.key, "from": starts_on.isoformat(), "to": ends_on.isoformat()},
    )
    return absence, {}


def cancel_absence(unit: UnitOfWork, absence: Absence) -> None:
    if absence.cancelled_at is not None:
        return
    absence.cancelled_at = unit.clock.now()
    unit.audit(
        "cancel",
        "absence",
        f"{absence.person.key}/{absence.starts_on.isoformat()}",
        before={"cancelled": False},
        after={"cancelled": True},
    )


ROLES = tuple(r.value for r in Role)
