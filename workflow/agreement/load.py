"""Loading a validated agreement into the store: create or update in place, audit every change."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, datetime
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
from workflow.audit import record
from workflow.clock import Clock
from workflow.plan.models import (
    Activity,
    ActivityOwner,
    ActivityState,
    ActivityStatusChange,
    Goal,
    OwnerRole,
    PlanVersion,
    PriorityArea,
)
from workflow.plan.timing import deadline_of, start_of
from workflow.workdays import WorkCalendar

Setter = Callable[[Any, Any], None]


@dataclass
class LoadResult:
    agreement_key: str
    created: bool
    changes: list[tuple[str, str, str]] = field(default_factory=list)  # (action, entity, key)
    plan_revision: int | None = None

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _jsonable(value: Any) -> Any:
    if isinstance(value, date | datetime):
        return value.isoformat()
    if isinstance(value, tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, list):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    return value


class _Sync:
    """Brings rows to the desired fields and writes one audit entry per changed row."""

    def __init__(self, session: Session, clock: Clock, actor: str, result: LoadResult) -> None:
        self.session, self.clock, self.actor, self.result = session, clock, actor, result
        self.agreement_id: int | None = None

    def audit(self, action: str, entity: str, key: str, before: Any = None, after: Any = None) -> None:
        record(
            self.session,
            self.clock,
            actor=self.actor,
            action=action,
            entity=entity,
            entity_key=key,
            agreement_id=self.agreement_id,
            before=before,
            after=after,
        )
        self.result.changes.append((action, entity, key))

    def rows(
        self,
        entity: str,
        existing: dict[str, Any],
        desired: dict[str, dict[str, Any]],
        create: Callable[[str], Any],
        *,
        setters: dict[str, tuple[Callable[[Any], Any], Setter]] | None = None,
        retire: Callable[[Any], tuple[dict, dict | None] | None] | None = None,
    ) -> dict[str, Any]:
        """Create, update (and retire) rows of one entity; returns key -> row for all desired."""
        setters = setters or {}
        out: dict[str, Any] = {}
        for key, fields in desired.items():
            row = existing.get(key)
            wanted = _jsonable(fields)
            if row is None:
                row = create(key)
                self.session.add(row)
                self._apply(row, fields, setters)
                self.audit("create", entity, key, after=wanted)
            else:
                before = self._snapshot(row, fields, setters)
                if before != wanted:
                    self._apply(row, fields, setters)
                    self.audit("update", entity, key, before=before, after=wanted)
            out[key] = row
        if retire is not None:
            for key, row in existing.items():
                if key not in desired and (change := retire(row)) is not None:
                    self.audit("retire", entity, key, before=change[0], after=change[1])
        self.session.flush()
        return out

    @staticmethod
    def _snapshot(row: Any, fields: dict[str, Any], setters: dict) -> dict[str, Any]:
        snap = {}
        for name in fields:
            value = setters[name][0](row) if name in setters else getattr(row, name)
            snap[name] = _jsonable(value)
        return snap

    @staticmethod
    def _apply(row: Any, fields: dict[str, Any], setters: dict) -> None:
        for name, value in fields.items():
            if name in setters:
                setters[name][1](row, value)
            else:
                setattr(row, name, value)


def _deactivate(row: Any) -> tuple[dict, dict] | None:
    """Retire a row that left the file but may be referenced: it stays, inactive."""
    if not row.active:
        return None
    row.active = False
    return {"active": True}, {"active": False}


def _delete(session: Session) -> Callable[[Any], tuple[dict, None]]:
    """Retire a row that only describes a relation (a signature, a membership): it goes."""

    def retire(row: Any) -> tuple[dict, None]:
        session.delete(row)
        return {"id": row.id}, None

    return retire


def load_agreement(session: Session, af: AgreementFile, *, clock: Clock, actor: str) -> LoadResult:
    """Write a validated agreement in the caller's transaction. The same file twice changes nothing."""
    spec = af.spec
    agreement = session.scalar(select(Agreement).where(Agreement.key == spec.id))
    result = LoadResult(spec.id, created=agreement is None)
    sync = _Sync(session, clock, actor, result)
    if agreement is not None:
        sync.agreement_id = agreement.id

    agreement_fields = {
        "title": spec.title,
        "subtitle": spec.subtitle,
        "signed_on": spec.signed.date if spec.signed else None,
        "signed_place": spec.signed.place if spec.signed else None,
        "period_start": spec.period.start,
        "period_end": spec.period.end,
        "timezone": spec.timezone,
        "language": spec.language,
        "council_name": spec.council.name,
        "reference_group_name": spec.council.reference_group.name
        if spec.council.reference_group
        else None,
        "cycle_config": spec.cycle.model_dump(mode="json"),
        "preamble": spec.preamble,
    }
    if agreement is None:
        agreement = Agreement(key=spec.id, loaded_at=clock.now(), **agreement_fields)
        session.add(agreement)
        session.flush()
        sync.agreement_id = agreement.id
        sync.audit("create", "agreement", spec.id, after=_jsonable(agreement_fields))
    else:
        sync.rows("agreement", {spec.id: agreement}, {spec.id: agreement_fields}, lambda key: None)
    aid = agreement.id

    orgs = _load_organisations(session, sync, spec, aid)
    people = _load_people(session, sync, spec, aid, orgs)
    convened = orgs[spec.council.convened_by]
    if agreement.convened_by_id != convened.id:
        before = agreement.convened_by_id
        agreement.convened_by_id = convened.id
        if before is not None or not result.created:
            sync.audit("update", "agreement", spec.id, {"convened_by": before}, {"convened_by": spec.council.convened_by})
    _load_signatories(session, sync, spec, aid, orgs, people)
    _load_memberships(session, sync, spec, aid, people)
    _load_plan(session, sync, af, agreement, orgs)
    if result.changed:
        agreement.source_file = af.document.file
        agreement.source_sha256 = af.document.sha256
        agreement.loaded_at = clock.now()
    return result


def _load_organisations(session: Session, sync: _Sync, spec, aid: int) -> dict[str, Organisation]:
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
    orgs = sync.rows(
        "organisation",
        existing,
        desired,
        lambda key: Organisation(agreement_id=aid, key=key),
        retire=_deactivate,
    )
    # Parents in a second pass: a department may be listed before its parent.
    parents = {o.id: o.parent for o in spec.organisations}
    key_of = {o.id: k for k, o in orgs.items()}
    sync.rows(
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


def _load_people(session: Session, sync: _Sync, spec, aid: int, orgs) -> dict[str, Person]:
    existing = {p.key: p for p in session.scalars(select(Person).where(Person.agreement_id == aid))}
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
    return sync.rows(
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
        retire=_deactivate,
    )


def _load_signatories(session: Session, sync: _Sync, spec, aid: int, orgs, people) -> None:
    existing = {
        s.person.key: s
        for s in session.scalars(select(Signatory).where(Signatory.agreement_id == aid))
    }
    org_key = {o.id: k for k, o in orgs.items()}
    desired = {s.person: {"party": s.party, "title": s.title} for s in spec.signatories}

    sync.rows(
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
        retire=_delete(session),
    )


def _load_memberships(session: Session, sync: _Sync, spec, aid: int, people) -> None:
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

    sync.rows(
        "council_membership",
        existing,
        desired,
        lambda k: CouncilMembership(
            agreement_id=aid,
            body=makers[k][0],
            person_id=people[makers[k][1]].id,
            valid_from=makers[k][2],
        ),
        retire=_delete(session),
    )
    if secretary is not None:
        person = people[secretary]
        if "council_secretary" not in person.role_names:
            person.roles.append(PersonRole(role="council_secretary"))
            sync.audit("update", "person", secretary, after={"roles": [*person.role_names]})


def _load_plan(session: Session, sync: _Sync, af: AgreementFile, agreement: Agreement, orgs) -> None:
    spec, aid = af.spec, agreement.id
    existing_areas = {
        a.key: a for a in session.scalars(select(PriorityArea).where(PriorityArea.agreement_id == aid))
    }
    areas = sync.rows(
        "priority_area",
        existing_areas,
        {
            a.id: {
                "title": a.title,
                "priority_rank": a.priority,
                "plan_position": i + 1,
                "background": a.background,
                "footnotes": list(a.footnotes),
                "active": True,
            }
            for i, a in enumerate(spec.plan.areas)
        },
        lambda key: PriorityArea(agreement_id=aid, key=key),
        retire=_deactivate,
    )
    existing_goals = {
        f"{g.area.key}/{g.key}": g
        for g in session.scalars(select(Goal).where(Goal.agreement_id == aid))
    }
    desired_goals: dict[str, dict[str, Any]] = {}
    for plan in af.activities:
        gk = f"{plan.area_key}/{plan.goal_key}"
        if gk not in desired_goals:
            desired_goals[gk] = {"title": plan.goal_title, "position": len(desired_goals) + 1, "active": True}
    goals = sync.rows(
        "goal",
        existing_goals,
        desired_goals,
        lambda key: Goal(agreement_id=aid, area_id=areas[key.split("/")[0]].id, key=key.split("/", 1)[1]),
        retire=_deactivate,
    )

    ctx = af.timing_context
    calendar = WorkCalendar(tz=spec.timezone)
    org_key = {o.id: k for k, o in orgs.items()}

    def get_owners(row: Activity) -> list[list[str]]:
        return [[org_key[o.organisation_id], o.role] for o in row.owners]

    def set_owners(row: Activity, owners: list[list[str]]) -> None:
        row.owners.clear()
        session.flush()  # the unique (activity, organisation) must be free before re-adding
        for pos, (org, role) in enumerate(owners):
            row.owners.append(ActivityOwner(organisation_id=orgs[org].id, role=role, position=pos))

    desired_acts: dict[str, dict[str, Any]] = {}
    for pos, plan in enumerate(af.activities):
        owners = [[k, OwnerRole.LEAD.value] for k in plan.leads]
        owners += [[k, OwnerRole.PARTNER.value] for k in plan.partners]
        desired_acts[plan.key] = {
            "goal": f"{plan.area_key}/{plan.goal_key}",
            "title": plan.title,
            "position": pos + 1,
            "when_text": plan.when_text,
            "responsible_text": plan.responsible_text,
            "timing": plan.timing,
            "starts_on": start_of(plan.timing, ctx),
            "deadline": deadline_of(plan.timing, ctx, calendar),
            "footnotes": list(plan.footnotes),
            "owners": owners,
        }
    goal_key = {g.id: k for k, g in goals.items()}
    existing_acts = {
        a.key: a for a in session.scalars(select(Activity).where(Activity.agreement_id == aid))
    }
    for a in existing_acts.values():
        goal_key.setdefault(a.goal_id, f"{a.goal.area.key}/{a.goal.key}")

    def withdraw(row: Activity) -> tuple[dict, dict] | None:
        if row.state == ActivityState.WITHDRAWN:
            return None
        before = {"state": row.state}
        _change_state(row, ActivityState.WITHDRAWN, sync, "borttagen ur handlingsplanen")
        return before, {"state": row.state}

    acts = sync.rows(
        "activity",
        existing_acts,
        desired_acts,
        lambda key: Activity(agreement_id=aid, key=key, state=ActivityState.OPEN),
        setters={
            "goal": (
                lambda row: goal_key.get(row.goal_id),
                lambda row, value: setattr(row, "goal_id", goals[value].id),
            ),
            "owners": (get_owners, set_owners),
        },
        retire=withdraw,
    )
    for row in acts.values():
        if not row.history:
            row.history.append(
                ActivityStatusChange(at=sync.clock.now(), actor=sync.actor, from_state=None, to_state=row.state)
            )
        elif row.state == ActivityState.WITHDRAWN:  # back in the plan
            _change_state(row, ActivityState.OPEN, sync, "åter i handlingsplanen")
    _record_plan_version(session, sync, af, aid)


def _change_state(row: Activity, state: ActivityState, sync: _Sync, note: str) -> None:
    row.history.append(
        ActivityStatusChange(
            at=sync.clock.now(), actor=sync.actor, from_state=row.state, to_state=state, note=note
        )
    )
    row.state = state


def _record_plan_version(session: Session, sync: _Sync, af: AgreementFile, aid: int) -> None:
    """A new revision of the year's plan when its content differs from the latest one."""
    content = af.spec.plan.model_dump(mode="json")
    year = af.spec.plan.year
    latest = session.scalar(
        select(PlanVersion)
        .where(PlanVersion.agreement_id == aid, PlanVersion.year == year)
        .order_by(PlanVersion.revision.desc())
        .limit(1)
    )
    if latest is not None and latest.content == content:
        sync.result.plan_revision = latest.revision
        return
    revision = (latest.revision + 1) if latest else 1
    session.add(
        PlanVersion(
            agreement_id=aid,
            year=year,
            revision=revision,
            title=af.spec.plan.title,
            source=af.document.file,
            source_sha256=af.document.sha256,
            content=content,
            created_at=sync.clock.now(),
        )
    )
    sync.result.plan_revision = revision
    sync.audit("create", "plan_version", f"{year}/{revision}", after={"title": af.spec.plan.title})
