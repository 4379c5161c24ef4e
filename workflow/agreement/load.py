"""Writing a validated agreement's own rows: parties, people, the council. Create or update in place,
audit every change. The plan, the cycle and the engine's schedule follow in `workflow.loading`."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import (
    Agreement,
    Body,
    CouncilMembership,
    Organisation,
    Person,
    PersonRole,
    Signatory,
)
from workflow.agreement.validate import AgreementFile
from workflow.audit import LoadResult, UnitOfWork, deactivate, delete, jsonable
from workflow.clock import Clock
from workflow.plan_language.content import AreaContent, PlanContent


def plan_from_agreement(af: AgreementFile) -> PlanContent:
    plan = af.spec.plan
    return PlanContent(
        title=plan.title,
        year=plan.year,
        origin="agreement",
        source=af.document.file,
        sha256=af.document.sha256,
        areas=tuple(
            AreaContent(a.id, a.title, a.priority, a.background, tuple(a.footnotes)) for a in plan.areas
        ),
        activities=tuple(af.activities),
    )


@dataclass
class WrittenAgreement:
    """What writing an agreement's rows left for the steps after it."""

    agreement: Agreement
    organisations: dict[str, Organisation]
    unit: UnitOfWork
    schedule_changed: bool  # stages, send hour, calendar, zone or meeting settings changed


def write_agreement(session: Session, af: AgreementFile, *, clock: Clock, actor: str) -> WrittenAgreement:
    """Write a validated agreement's own rows in the caller's transaction; the same file twice changes nothing."""
    spec = af.spec
    agreement = session.scalar(select(Agreement).where(Agreement.key == spec.id))
    result = LoadResult(spec.id, created=agreement is None)
    unit = UnitOfWork(session, clock, actor, result)
    if agreement is not None:
        unit.agreement_id = agreement.id
    schedule_before = _schedule_settings(agreement)

    agreement_fields = {
        "title": spec.title,
        "subtitle": spec.subtitle,
        "signed_on": spec.signed.date if spec.signed else None,
        "signed_place": spec.signed.place if spec.signed else None,
        "period_start": spec.period.start,
        "period_end": spec.period.end,
        "grace_days": spec.period.grace_days,
        "timezone": spec.timezone,
        "language": spec.language,
        "council_name": spec.council.name,
        "reference_group_name": spec.council.reference_group.name if spec.council.reference_group else None,
        "cycle_config": spec.cycle.model_dump(mode="json"),
        "calendar_config": spec.calendar.model_dump(mode="json"),
        "reminders_config": spec.reminders.model_dump(mode="json", by_alias=True),
        "meetings_config": spec.meetings.model_dump(mode="json"),
        "links_config": spec.links.model_dump(mode="json"),
        "preamble": spec.preamble,
    }
    if agreement is None:
        agreement = Agreement(key=spec.id, loaded_at=clock.now(), **agreement_fields)
        session.add(agreement)
        session.flush()
        unit.agreement_id = agreement.id
        unit.audit("create", "agreement", spec.id, after=jsonable(agreement_fields))
    else:
        unit.rows("agreement", {spec.id: agreement}, {spec.id: agreement_fields}, lambda key: None)
    aid = agreement.id

    orgs = _load_organisations(session, unit, spec, aid)
    people = _load_people(session, unit, spec, aid, orgs)
    convened = orgs[spec.council.convened_by]
    if agreement.convened_by_id != convened.id:
        before = agreement.convened_by_id
        agreement.convened_by_id = convened.id
        if before is not None or not result.created:
            unit.audit(
                "update",
                "agreement",
                spec.id,
                {"convened_by": before},
                {"convened_by": spec.council.convened_by},
            )
    _load_signatories(session, unit, spec, aid, orgs, people)
    _load_memberships(session, unit, spec, aid, people)
    changed = schedule_before is not None and _schedule_settings(agreement) != schedule_before
    return WrittenAgreement(agreement, orgs, unit, schedule_changed=changed)


def mark_source(written: WrittenAgreement, af: AgreementFile, clock: Clock) -> None:
    """Remember which file the agreement was last changed from, once every step has run."""
    if written.unit.result.changed:
        written.agreement.source_file = af.document.file
        written.agreement.source_sha256 = af.document.sha256
        written.agreement.loaded_at = clock.now()


def _schedule_settings(agreement: Agreement | None) -> tuple | None:
    if agreement is None:
        return None
    return (
        agreement.reminders_config,
        agreement.calendar_config,
        agreement.timezone,
        agreement.meetings_config,
    )


def _load_organisations(session: Session, unit: UnitOfWork, spec, aid: int) -> dict[str, Organisation]:
    existing = {
        o.key: o for o in session.scalars(select(Organisation).where(Organisation.agreement_id == aid))
    }
    desired = {
        o.id: {
            "name": o.name,
            "kind": o.kind.value,
            "description": o.description,
            "aliases": list(o.aliases),
            "active": True,
        }
        for o in spec.organisations
    }
    orgs = unit.rows(
        "organisation",
        existing,
        desired,
        lambda key: Organisation(agreement_id=aid, key=key),
        retire=deactivate,
    )
    # Parents in a second pass: a department may be listed before its parent.
    parents = {o.id: o.parent for o in spec.organisations}
    key_of = {o.id: k for k, o in orgs.items()}
    unit.rows(
        "organisation",
        orgs,
        {k: {"parent": parents[k]} for k in orgs},
        lambda key: None,
        setters={
            "parent": (
                lambda row: key_of.get(row.parent_id) if row.parent_id else None,
                lambda row, value: setattr(row, "parent_id", orgs[value].id if value else None),
            )
        },
    )
    return orgs


def _load_people(session: Session, unit: UnitOfWork, spec, aid: int, orgs) -> dict[str, Person]:
    named = {p.id for p in spec.people}
    # Guests co-opted to meetings are not in the file: they are kept, not retired. A guest the
    # file now names becomes an ordinary person.
    existing = {
        p.key: p
        for p in session.scalars(select(Person).where(Person.agreement_id == aid))
        if not p.is_guest or p.key in named
    }
    for key in named & {k for k, p in existing.items() if p.is_guest}:
        existing[key].is_guest = False
    org_key = {o.id: k for k, o in orgs.items()}

    def set_roles(person: Person, roles: list[str]) -> None:
        current = {r.role: r for r in person.roles}
        for role in set(current) - set(roles):
            person.roles.remove(current[role])
        for role in sorted(set(roles) - set(current)):
            person.roles.append(PersonRole(role=role))

    desired = {
        p.id: {
            "name": p.name,
            "email": str(p.email),
            "title": p.title,
            "organisation": p.organisation,
            "language": p.language,
            "is_contact": p.contact,
            "roles": sorted(r.value for r in p.roles),
            "active": True,
        }
        for p in spec.people
    }
    return unit.rows(
        "person",
        existing,
        desired,
        lambda key: Person(agreement_id=aid, key=key),
        setters={
            "organisation": (
                lambda row: org_key.get(row.organisation_id),
                lambda row, value: setattr(row, "organisation_id", orgs[value].id),
            ),
            "roles": (lambda row: row.role_names, set_roles),
        },
        retire=deactivate,
    )


def _load_signatories(session: Session, unit: UnitOfWork, spec, aid: int, orgs, people) -> None:
    existing = {
        s.person.key: s for s in session.scalars(select(Signatory).where(Signatory.agreement_id == aid))
    }
    org_key = {o.id: k for k, o in orgs.items()}
    desired = {s.person: {"party": s.party, "title": s.title} for s in spec.signatories}

    unit.rows(
        "signatory",
        existing,
        desired,
        lambda key: Signatory(agreement_id=aid, person_id=people[key].id),
        setters={
            "party": (
                lambda row: org_key.get(row.party_id),
                lambda row, value: setattr(row, "party_id", orgs[value].id),
            )
        },
        retire=delete(session),
    )


def _load_memberships(session: Session, unit: UnitOfWork, spec, aid: int, people) -> None:
    def key(body: str, person: str, valid_from: date) -> str:
        return f"{body}/{person}/{valid_from.isoformat()}"

    existing = {
        key(m.body, m.person.key, m.valid_from): m
        for m in session.scalars(select(CouncilMembership).where(CouncilMembership.agreement_id == aid))
    }
    groups = [(Body.COUNCIL, spec.council.members)]
    if spec.council.reference_group:
        groups.append((Body.REFERENCE_GROUP, spec.council.reference_group.members))
    desired: dict[str, dict[str, Any]] = {}
    makers: dict[str, tuple[str, str, date]] = {}
    for body, members in groups:
        for m in members:
            k = key(body.value, m.person, m.valid_from)
            desired[k] = {"mandate": m.mandate, "valid_to": m.valid_to}
            makers[k] = (body.value, m.person, m.valid_from)
    secretary = spec.council.secretary

    unit.rows(
        "council_membership",
        existing,
        desired,
        lambda k: CouncilMembership(
            agreement_id=aid,
            body=makers[k][0],
            person_id=people[makers[k][1]].id,
            valid_from=makers[k][2],
        ),
        retire=delete(session),
    )
    if secretary is not None:
        person = people[secretary]
        if "council_secretary" not in person.role_names:
            person.roles.append(PersonRole(role="council_secretary"))
            unit.audit("update", "person", secretary, after={"roles": [*person.role_names]})
