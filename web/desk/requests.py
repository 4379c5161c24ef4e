"""Extension requests on the desk: those waiting, with *Godkänn* / *Avslå* (POST); the decision mail goes at once."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.context import db, trygg, writing
from web.desk.door import WriteRefused, acting, desk_agreement, refused_write
from web.language import page_language
from workflow import i18n
from workflow.desk.requests import decide, waiting_requests
from workflow.work import WorkError

bp = Blueprint("desk_requests", __name__)


@bp.get("/agreements/<key>/requests")
def page(key: str):
    agreement = desk_agreement(key)
    return _page(agreement)


def _page(agreement, problem: str | None = None, status: int = 200):
    page = render_template(
        "desk/requests.html",
        agreement=agreement,
        waiting=waiting_requests(db(), agreement.id),
        problem=problem,
    )
    return page, status


@bp.post("/agreements/<key>/requests/<int:request_id>")
def act(key: str, request_id: int):
    agreement = desk_agreement(key)
    approve = request.form.get("decision") == "approve"
    try:
        with writing() as session:
            decide(acting(session, agreement), agreement.id, request_id, approve, request.form.get("note"))
    except WriteRefused as exc:
        return refused_write(agreement, exc)
    except WorkError as exc:
        return _page(agreement, i18n.render(exc.args[0], page_language()), 409)
    trygg().kick()  # the requester hears the decision now, not at the next sweep
    words = i18n._l("The request is approved.") if approve else i18n._l("The request is declined.")
    flash(i18n.render(words, page_language()))
    return redirect(url_for("desk_requests.page", key=agreement.key), code=303)
