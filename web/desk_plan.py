"""`/agreements/<id>/plan`: upload the revised plan, see every field it would change, confirm; earlier versions.

The uploaded file stays on the server (`workflow.desk.plan_upload`) under a random id that only
the uploader's signed session holds, bound to the agreement and year: the confirm imports the
very bytes that were previewed, and nothing the browser sends can point at another file.
"""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, session, url_for

from web.context import db, now, trygg, writing
from web.desk_acting import acting_unit, desk_agreement
from workflow.desk import plan_upload
from workflow.i18n import _l
from workflow.plan.importing import default_year
from workflow.plan.models import PlanVersion
from workflow.source import InputError

bp = Blueprint("desk_plan", __name__)
# The diff's field names as the plan's reader knows them (När and Ansvarig are the plan's own words).
FIELD_NAMES = {
    "title": _l("Title"),
    "when": "När",
    "responsible": "Ansvarig",
    "goal": _l("Goal"),
    "area": _l("Area"),
    "background": _l("Background"),
    "footnotes": _l("Footnotes"),
}


@bp.context_processor
def _words():
    return {"field_name": lambda name: str(FIELD_NAMES.get(name, name))}


SESSION_KEY = "plan_upload"


def _folder():
    return trygg().settings.upload_dir / "plans"


def _versions(agreement):
    return db().query(PlanVersion).filter_by(agreement_id=agreement.id).order_by(PlanVersion.id.desc()).all()


@bp.get("/agreements/<key>/plan")
def show(key: str):
    agreement = desk_agreement(key)
    year = default_year(agreement, trygg().clock)
    return render_template(
        "desk/plan.html",
        agreement=agreement,
        versions=_versions(agreement),
        year=year,
        preview=None,
        error=None,
    )


@bp.post("/agreements/<key>/plan")
def upload(key: str):
    """Keep the file, and show the diff its import would make (computed and rolled back)."""
    agreement = desk_agreement(key)
    unit = acting_unit(agreement)
    year = request.form.get("year", type=int) or default_year(agreement, trygg().clock)
    file = request.files.get("file")
    try:
        upload_id = plan_upload.store_upload(
            _folder(), file.filename if file else "", file.read() if file else b""
        )
    except plan_upload.UploadRefused as exc:
        return _page(agreement, year, error=str(exc), status=422)
    session[SESSION_KEY] = {"id": upload_id, "agreement": agreement.key, "year": year}
    return _preview(agreement, unit, upload_id, year)


@bp.post("/agreements/<key>/plan/preview")
def again(key: str):
    """The same file previewed again with other choices (allow withdraw, keep unreadable rows)."""
    agreement = desk_agreement(key)
    unit = acting_unit(agreement)
    kept = _kept(agreement)
    return _preview(agreement, unit, kept["id"], kept["year"])


@bp.post("/agreements/<key>/plan/confirm")
def confirm(key: str):
    agreement = desk_agreement(key)
    acting_unit(agreement)
    kept = _kept(agreement)
    path = plan_upload.upload_path(_folder(), kept["id"])
    if path is None:
        abort(410)
    try:
        with writing() as s:
            agreement = desk_agreement(key)
            unit = acting_unit(agreement)
            outcome = plan_upload.confirm(
                s, agreement, path, kept["year"], clock=trygg().clock, actor=unit.actor, **_choices()
            )
    except InputError:
        return _preview(desk_agreement(key), acting_unit(desk_agreement(key)), kept["id"], kept["year"])
    session.pop(SESSION_KEY, None)
    return redirect(
        url_for("desk_plan.version", key=key, year=kept["year"], revision=outcome.revision or 0), code=303
    )


@bp.get("/agreements/<key>/plan/<int:year>/<int:revision>")
def version(key: str, year: int, revision: int):
    agreement = desk_agreement(key)
    found = (
        db()
        .query(PlanVersion)
        .filter_by(agreement_id=agreement.id, year=year, revision=revision)
        .one_or_none()
    )
    if found is None:
        abort(404)
    return render_template("desk/plan_version.html", agreement=agreement, version=found)


def _kept(agreement) -> dict:
    kept = session.get(SESSION_KEY)
    if not isinstance(kept, dict) or kept.get("agreement") != agreement.key:
        abort(409)
    return kept


def _choices() -> dict[str, bool]:
    return {
        "allow_withdraw": request.form.get("allow_withdraw") == "1",
        "keep_unreadable": request.form.get("keep_unreadable") == "1",
    }


def _preview(agreement, unit, upload_id: str, year: int):
    path = plan_upload.upload_path(_folder(), upload_id)
    if path is None:
        abort(410)
    outcome = plan_upload.preview(
        db(), agreement, path, year, clock=trygg().clock, actor=unit.actor, **_choices()
    )
    return _page(desk_agreement(agreement.key), year, preview=outcome, choices=_choices())


def _page(agreement, year, *, preview=None, error=None, choices=None, status=200):
    return (
        render_template(
            "desk/plan.html",
            agreement=agreement,
            versions=_versions(agreement),
            year=year,
            preview=preview,
            error=error,
            choices=choices or {},
            now=now(),
        ),
        status,
    )
