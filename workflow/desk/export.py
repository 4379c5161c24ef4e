"""The database written back as an agreement file (`trygg export`): the truth after loads and web edits.

Parties, people and their roles, the council, the schedules, the links and the plan in force —
not the work history (states, reports, notices, meetings held). `trygg check` accepts the file
and `trygg load` of it changes nothing.
"""

from __future__ import annotations

import io
from datetime import date
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.scalarstring import LiteralScalarString
from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.context import context_of
from workflow.agreement.models import (
    Agreement,
    Body,
    CouncilMembership,
    Organisation,
    Person,
    Role,
    Signatory,
)
from workflow.plan.load import latest_version
from workflow.plan.models import Activity, ActivityState, Goal, PlanVersion, PriorityArea
from workflow.plan_language.content import normalise_text
from workflow.plan_language.timing import TimingError, parse_when


def export_agreement(session: Session, agreement: Agreement) -> dict[str, Any]:
    """The agreement as the file format's data (workflow.agreement.schema.AgreementSpec)."""
    orgs = list(
        session.scalars(
            select(Organisation)
            .where(Organisation.agreement_id == agreement.id, Organisation.active)
            .order_by(Organisation.id)
        )
    )
    org_key = {o.id: o.key for o in orgs}
    people = list(
        session.scalars(
            select(Person)
            .where(Person.agreement_id == agreement.id, Person.active, Person.is_guest.is_(False))
            .order_by(Person.id)
            .options(selectinload(Person.roles))
        )
    )
    person_key = {p.id: p.key for p in people}
    data: dict[str, Any] = {"id": agreement.key, "title": agreement.title}
    _put(data, "subtitle", agreement.subtitle)
    if agreement.signed_on is not None:
        data["signed"] = _without_none({"date": agreement.signed_on, "place": agreement.signed_place})
    data["period"] = {
        "start": agreement.period_start,
        "end": agreement.period_end,
        "grace_days": agreement.grace_days,
    }
    data["timezone"], data["language"] = agreement.timezone, agreement.language
    _put(data, "preamble", _text(agreement.preamble))
    data["organisations"] = [_organisation(o, org_key) for o in orgs]
    data["people"] = [_person(p, org_key) for p in people]
    data["signatories"] = _signatories(session, agreement, person_key, org_key)
    data["council"] = _council(session, agreement, people, person_key, org_key)
    data["calendar"] = dict(agreement.calendar_config)
    data["reminders"] = dict(agreement.reminders_config)
    data["meetings"] = dict(agreement.meetings_config or {})
    data["links"] = dict(agreement.links_config or {})
    data["cycle"] = dict(agreement.cycle_config)
    data["plan"] = _plan(session, agreement)
    return data


def agreement_yaml(session: Session, agreement: Agreement, *, exported_at: date) -> str:
    """The agreement file's text, with a header saying where it came from."""
    yaml = YAML()
    yaml.width = 4096  # long Swedish sentences stay on one line
    yaml.allow_unicode = True
    yaml.indent(mapping=2, sequence=4, offset=2)
    out = io.StringIO()
    out.write(
        f"# {agreement.title}\n"
        f"# Exported by `trygg export {agreement.key}` on {exported_at.isoformat()} from the database\n"
        "# (the truth after loads and edits on the web). `trygg load` of this file changes nothing.\n\n"
    )
    yaml.dump(export_agreement(session, agreement), out)
    return out.getvalue()


def _put(data: dict[str, Any], key: str, value: Any) -> None:
    if value is not None and value != [] and value != "":
        data[key] = value


def _without_none(data: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in data.items() if v is not None}


def _text(value: str | None) -> str | None:
    """Prose with paragraphs as a literal block; one line as a plain string."""
    if value is None:
        return None
    return LiteralScalarString(value) if "\n" in value else value


def _organisation(o: Organisation, org_key: dict[int, str]) -> dict[str, Any]:
    data: dict[str, Any] = {"id": o.key, "name": o.name, "kind": o.kind}
    if o.parent_id is not None:
        data["parent"] = org_key[o.parent_id]
    _put(data, "description", _text(o.description))
    _put(data, "aliases", list(o.aliases or []))
    return data


def _person(p: Person, org_key: dict[int, str]) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": p.key,
        "name": p.name,
        "email": p.email,
        "organisation": org_key[p.organisation_id],
    }
    _put(data, "title", p.title)
    data["language"] = p.language
    _put(data, "roles", p.role_names)
    if p.is_contact:
        data["contact"] = True
    return data


def _signatories(session: Session, agreement: Agreement, person_key, org_key) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Signatory).where(Signatory.agreement_id == agreement.id).order_by(Signatory.id)
    )
    return [{"person": person_key[s.person_id], "party": org_key[s.party_id], "title": s.title} for s in rows]


def _council(session: Session, agreement: Agreement, people, person_key, org_key) -> dict[str, Any]:
    members: dict[str, list[dict[str, Any]]] = {Body.COUNCIL.value: [], Body.REFERENCE_GROUP.value: []}
    for m in session.scalars(
        select(CouncilMembership)
        .where(CouncilMembership.agreement_id == agreement.id)
        .order_by(CouncilMembership.id)
    ):
        row = {"person": person_key[m.person_id], "mandate": m.mandate, "from": m.valid_from}
        if m.valid_to is not None:
            row["to"] = m.valid_to
        members[m.body].append(row)
    council: dict[str, Any] = {
        "name": agreement.council_name,
        "convened_by": org_key[agreement.convened_by_id],
        "members": members[Body.COUNCIL.value],
    }
    secretary = next((p.key for p in people if Role.COUNCIL_SECRETARY.value in p.role_names), None)
    _put(council, "secretary", secretary)
    if agreement.reference_group_name is not None:
        council["reference_group"] = {
            "name": agreement.reference_group_name,
            "members": members[Body.REFERENCE_GROUP.value],
        }
    return council


def _plan(session: Session, agreement: Agreement) -> dict[str, Any]:
    """The plan in force: active areas in plan order, their goals and activities (withdrawn ones left out)."""
    version = latest_version(session, agreement.id)
    ctx = context_of(agreement).timing
    areas = session.scalars(
        select(PriorityArea)
        .where(PriorityArea.agreement_id == agreement.id, PriorityArea.active)
        .order_by(PriorityArea.plan_position)
        .options(selectinload(PriorityArea.goals).selectinload(Goal.activities))
    )
    out = []
    for area in areas:
        goals = []
        for goal in area.goals:
            activities = [_activity(a, ctx) for a in goal.activities if a.state != ActivityState.WITHDRAWN]
            if activities:
                goals.append({"id": goal.key, "title": goal.title, "activities": activities})
        if not goals:
            continue
        data: dict[str, Any] = {"id": area.key, "title": area.title}
        _put(data, "priority", area.priority_rank)
        _put(data, "background", _text(_as_written(area, version)))
        _put(data, "footnotes", [_text(f) for f in area.footnotes or []])
        data["goals"] = goals
        out.append(data)
    return {
        "title": version.title if version else agreement.title,
        "year": version.year if version else agreement.period_start.year,
        "areas": out,
    }


def _as_written(area: PriorityArea, version: PlanVersion | None) -> str | None:
    """The background as the plan version has it (line breaks of the file) when it is the text in
    force; the store keeps it normalised, and the version's content is compared on load."""
    if version is not None:
        for written in version.content.get("areas", []):
            if written.get("id") == area.key and normalise_text(written.get("background")) == area.background:
                return written.get("background")
    return area.background


def _activity(activity: Activity, ctx) -> dict[str, Any]:
    data: dict[str, Any] = {"id": activity.key, "activity": activity.title}
    _put(data, "when", activity.when_text)
    data["responsible"] = activity.responsible_text
    if activity.timing is not None and _parsed(activity.when_text, ctx) != activity.timing:
        data["timing"] = activity.timing  # set in the file, or on the web: the När text does not say it
    _put(data, "footnotes", [_text(f) for f in activity.footnotes or []])
    return data


def _parsed(when: str | None, ctx) -> dict[str, Any] | None:
    try:
        return parse_when(when or "", ctx).model_dump(mode="json")
    except TimingError:
        return None
