"""`/agreements/<id>/people`: people and organisations (roles, language, contact details) and absences with a deputy."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, abort, redirect, render_template, request, url_for

from web.context import db, writing
from web.desk_acting import acting_unit, desk_agreement
from workflow.agreement.models import Absence, Organisation, Person
from workflow.desk import people as desk

bp = Blueprint("desk_people", __name__)


@bp.get("/agreements/<key>/people")
def show(key: str):
    return _page(desk_agreement(key))


def _page(agreement, *, errors=None, editing=None, status=200):
    return (
        render_template(
            "desk/people.html",
            agreement=agreement,
            people=desk.people_of(db(), agreement),
            organisations=desk.organisations_of(db(), agreement),
            absences=desk.absences_of(db(), agreement),
            roles=desk.ROLES,
            errors=errors or {},
            editing=editing,
        ),
        status,
    )


def _own(model, ident: int, agreement):
    row = db().get(model, ident)
    if row is None or row.agreement_id != agreement.id:
        abort(404)
    return row


@bp.post("/agreements/<key>/people/<int:person_id>")
def edit_person(key: str, person_id: int):
    acting_unit(desk_agreement(key))
    form = request.form
    with writing() as session:
        agreement = desk_agreement(key)
        unit = acting_unit(agreement)
        person = _own(Person, person_id, agreement)
        org = session.get(Organisation, form.get("organisation", type=int) or 0)
        edit = desk.PersonEdit(
            name=form.get("name", ""),
            email=form.get("email", ""),
            title=form.get("title") or None,
            language=form.get("language", "sv"),
            organisation=org.key if org is not None and org.agreement_id == agreement.id else "",
            roles=tuple(r for r in form.getlist("roles") if r in desk.ROLES),
            contact=form.get("contact") == "1",
        )
        errors = desk.update_person(session, unit, person, edit)
        if errors:
            session.rollback()
    if errors:
        return _page(desk_agreement(key), errors=errors, editing=person_id, status=422)
    return redirect(url_for("desk_people.show", key=key) + f"#person-{person_id}", code=303)


@bp.post("/agreements/<key>/organisations/<int:org_id>")
def edit_organisation(key: str, org_id: int):
    acting_unit(desk_agreement(key))
    with writing() as session:
        agreement = desk_agreement(key)
        org = _own(Organisation, org_id, agreement)
        aliases = [a.strip() for a in request.form.get("aliases", "").split(",") if a.strip()]
        errors = desk.update_organisation(
            session, acting_unit(agreement), org, request.form.get("name", ""), aliases
        )
        if errors:
            session.rollback()
    if errors:
        return _page(
            desk_agreement(key), errors={f"org-{org_id}-{k}": v for k, v in errors.items()}, status=422
        )
    return redirect(url_for("desk_people.show", key=key) + f"#org-{org_id}", code=303)


@bp.post("/agreements/<key>/people/absences")
def add_absence(key: str):
    acting_unit(desk_agreement(key))
    form = request.form
    with writing() as session:
        agreement = desk_agreement(key)
        person = _own(Person, form.get("person", type=int) or 0, agreement)
        deputy = session.get(Person, form.get("deputy", type=int) or 0)
        _absence, errors = desk.add_absence(
            session,
            acting_unit(agreement),
            person,
            deputy,
            _day(form.get("starts_on")),
            _day(form.get("ends_on")),
            form.get("note"),
        )
        if errors:
            session.rollback()
    if errors:
        return _page(desk_agreement(key), errors={f"absence-{k}": v for k, v in errors.items()}, status=422)
    return redirect(url_for("desk_people.show", key=key) + "#absences", code=303)


@bp.post("/agreements/<key>/people/absences/<int:absence_id>/cancel")
def cancel_absence(key: str, absence_id: int):
    acting_unit(desk_agreement(key))
    with writing():
        agreement = desk_agreement(key)
        desk.cancel_absence(acting_unit(agreement), _own(Absence, absence_id, agreement))
    return redirect(url_for("desk_people.show", key=key) + "#absences", code=303)


def _day(text: str | None) -> date | None:
    try:
        return date.fromisoformat((text or "").strip())
    except ValueError:
        return None
