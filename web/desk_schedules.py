"""`/agreements/<id>/schedules`: the coordinator's schedules, previewed (What goes out) before they are saved."""

from __future__ import annotations

from flask import Blueprint, redirect, render_template, request, url_for

from web.context import db, now, trygg, writing
from web.desk_acting import acting_unit, desk_agreement
from workflow.desk import schedules
from workflow.desk.outgoing import what_goes_out

bp = Blueprint("desk_schedules", __name__)
PREVIEW_DAYS = 7


@bp.get("/agreements/<key>/schedules")
def show(key: str):
    agreement = desk_agreement(key)
    form = schedules.as_form(schedules.current(agreement))
    return render_template(
        "desk/schedules.html", agreement=agreement, form=form, errors={}, saved=request.args.get("saved")
    )


@bp.post("/agreements/<key>/schedules")
def change(key: str):
    """Preview (the default button) or save the edited settings; errors are shown beside their fields."""
    agreement = desk_agreement(key)
    unit = acting_unit(agreement)
    form = {name: value for name, value in request.form.items() if name != "csrf_token"}
    edited = schedules.read_form(agreement, form)
    if not edited.valid:
        return _page(agreement, form, edited, None, status=422)
    changes = schedules.changed_settings(schedules.current(agreement), edited)
    if request.form.get("action") != "save":
        settings = trygg().settings

        def apply(session, target):
            schedules.apply(target, edited)
            session.flush()
            schedules.reschedule(session, unit, target, {name.split(".")[0] for name, _, _ in changes})

        days = what_goes_out(
            db(),
            agreement.id,
            now(),
            PREVIEW_DAYS,
            base_url=settings.base_url,
            sender=settings.mail_from,
            apply=apply,
        )
        return _page(agreement, form, edited, days, changes=changes)
    with writing() as session:
        unit = acting_unit(desk_agreement(key))
        schedules.save(session, unit, desk_agreement(key), edited)
    return redirect(url_for("desk_schedules.show", key=key, saved=len(changes)), code=303)


def _page(agreement, form, edited, days, *, changes=(), status=200):
    return (
        render_template(
            "desk/schedules.html",
            agreement=agreement,
            form=form,
            errors=edited.errors,
            preview=days,
            changes=changes,
            saved=None,
        ),
        status,
    )
