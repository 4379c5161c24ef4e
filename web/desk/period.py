"""The agreement's period on the desk: renew it (a new period, the same id) or archive it — as the CLI does."""

from __future__ import annotations

from datetime import date

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.context import db, now, writing
from web.desk.door import WriteRefused, acting, desk_agreement, refused_write
from web.language import page_language
from workflow import i18n
from workflow.desk.home import desk_home
from workflow.desk.lifecycle import RenewalError, archive, renew

bp = Blueprint("desk_period", __name__)


@bp.post("/agreements/<key>/renew")
def renew_period(key: str):
    """Renew: `to` (required) and `from` (default: the day after the old end, or today)."""
    agreement = desk_agreement(key)
    try:
        end = _day(request.form.get("to"))
        start = _day(request.form.get("from")) if request.form.get("from") else None
        if end is None:
            raise RenewalError(i18n._l("give the new period's last day"))
        with writing() as session:
            renewal = renew(acting(session, agreement), agreement, end=end, start=start)
    except WriteRefused as exc:
        return refused_write(agreement, exc)
    except RenewalError as exc:
        return _home_again(agreement, exc.args[0])
    words = i18n._l(
        "The agreement is renewed: %(start)s – %(end)s.",
        start=renewal.after[0].isoformat(),
        end=renewal.after[1].isoformat(),
    )
    flash(i18n.render(words, page_language()))
    return redirect(url_for("desk_home.page", key=agreement.key), code=303)


@bp.post("/agreements/<key>/archive")
def archive_agreement(key: str):
    """Archive: kept and readable, nothing more sent, every later change refused. Asks for a tick."""
    agreement = desk_agreement(key)
    if request.form.get("confirm") != "yes":
        return _home_again(agreement, i18n._l("tick the box to confirm that the agreement is to be archived"))
    try:
        with writing() as session:
            archive(acting(session, agreement), agreement)
    except WriteRefused as exc:
        return refused_write(agreement, exc)
    flash(
        i18n.render(
            i18n._l("The agreement is archived: it is kept, and nothing more is sent for it."),
            page_language(),
        )
    )
    return redirect(url_for("desk_home.page", key=agreement.key), code=303)


def _day(value: str | None) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise RenewalError(i18n._l("%(value)r is not a date (YYYY-MM-DD)", value=value)) from None


def _home_again(agreement, problem):
    """The desk's home again, with why the change was refused (nothing was changed)."""
    page = render_template(
        "desk/home.html",
        agreement=agreement,
        home=desk_home(db(), agreement, now()),
        problem=i18n.render(problem, page_language()),
    )
    return page, 422
