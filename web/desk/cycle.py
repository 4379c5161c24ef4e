"""The year's cycle on the desk: steps, deliverables and who delivered them; deliver, close, override (POST)."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.context import db, writing
from web.desk.door import WriteRefused, acting, desk_agreement, refused_write
from web.language import page_language
from workflow import i18n
from workflow.cycle.lifecycle import CycleError
from workflow.desk.cycle import close_with_deliverables, cycle_view, cycle_years, deliver

bp = Blueprint("desk_cycle", __name__)


@bp.get("/agreements/<key>/cycle")
def page(key: str):
    agreement = desk_agreement(key)
    return _page(agreement, request.args.get("year", type=int))


def _page(agreement, year: int | None, problem: str | None = None, status: int = 200):
    data = cycle_view(db(), agreement, year)
    years = cycle_years(db(), agreement)
    page = render_template("desk/cycle.html", agreement=agreement, cycle=data, years=years, problem=problem)
    return page, status


@bp.post("/agreements/<key>/cycle/<int:year>/<int:number>")
def act(key: str, year: int, number: int):
    """One form per step: `deliver` records the ticked deliverables, `close` closes the step with
    them, `override` closes it with a reason although some are missing."""
    agreement = desk_agreement(key)
    what = request.form.get("action")
    keys = request.form.getlist("deliverable")
    note = request.form.get("note")
    try:
        with writing() as session:
            unit = acting(session, agreement)
            if what == "deliver":
                deliver(unit, agreement, year, number, keys, note)
            elif what == "override":
                close_with_deliverables(
                    unit,
                    agreement,
                    year,
                    number,
                    keys,
                    note,
                    override_reason=request.form.get("reason") or "",
                )
            else:
                close_with_deliverables(unit, agreement, year, number, keys, note)
    except WriteRefused as exc:
        return refused_write(agreement, exc)
    except CycleError as exc:
        return _page(agreement, year, i18n.render(exc.args[0], page_language()), 422)
    flash(_done_words(what, number))
    return redirect(url_for("desk_cycle.page", key=agreement.key, year=year), code=303)


def _done_words(what: str | None, number: int) -> str:
    if what == "deliver":
        return i18n.render(
            i18n._l("The deliverables of step %(step)s are recorded.", step=number), page_language()
        )
    return i18n.render(i18n._l("Step %(step)s is closed.", step=number), page_language())
