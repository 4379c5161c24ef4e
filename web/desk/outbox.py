"""The outbox on the desk: sent, pending and failed mails with the server's reason; *Skicka igen* (POST) for a failed one."""

from __future__ import annotations

from flask import Blueprint, flash, redirect, render_template, request, url_for

from web.context import db, trygg, writing
from web.desk.door import WriteRefused, acting, desk_agreement, refused_write
from web.language import page_language
from workflow import i18n
from workflow.desk.outbox import STATUSES, OutboxError, counts, outbox, send_again

bp = Blueprint("desk_outbox", __name__)


@bp.get("/agreements/<key>/outbox")
def page(key: str):
    agreement = desk_agreement(key)
    return _page(agreement)


def _page(agreement, problem: str | None = None, status: int = 200):
    wanted = request.args.get("status") or None
    wanted = wanted if wanted in STATUSES else None
    page = render_template(
        "desk/outbox.html",
        agreement=agreement,
        mails=outbox(db(), agreement.id, wanted),
        counts=counts(db(), agreement.id),
        statuses=STATUSES,
        wanted=wanted,
        problem=problem,
    )
    return page, status


@bp.post("/agreements/<key>/outbox/<int:mail_id>/resend")
def resend(key: str, mail_id: int):
    agreement = desk_agreement(key)
    try:
        with writing() as session:
            send_again(acting(session, agreement), agreement.id, mail_id)
    except WriteRefused as exc:
        return refused_write(agreement, exc)
    except OutboxError as exc:
        return _page(agreement, i18n.render(exc.args[0], page_language()), 409)
    trygg().kick()
    flash(i18n.render(i18n._l("The mail is queued to be sent again."), page_language()))
    return redirect(url_for("desk_outbox.page", key=agreement.key, status="pending"), code=303)
