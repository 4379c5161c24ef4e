"""*Vad som går ut* on the desk: the next 7 days' mails by the real sweep in dry run, per day and person; each mail as rendered.

The computation is workflow.desk.outgoing.what_goes_out (rolled back: a GET changes nothing). A
mail's HTML part is served on its own address with a CSP of its own (no script, a sandbox) and
shown in a sandboxed frame; the text part is shown as text.
"""

from __future__ import annotations

from datetime import date, timedelta

from flask import Blueprint, Response, abort, render_template

from web.context import db, now, trygg
from web.desk.door import desk_agreement
from workflow.desk.outgoing import mail_of, what_goes_out

bp = Blueprint("desk_outgoing", __name__)

DAYS = 7
# The mail's own HTML may style itself inline; nothing else runs or loads, and only the desk frames it.
MAIL_CSP = "default-src 'none'; style-src 'unsafe-inline'; img-src data:; sandbox; frame-ancestors 'self'"


def _days(agreement, days: int = DAYS):
    settings = trygg().settings
    return what_goes_out(
        db(), agreement.id, now(), days, base_url=settings.base_url, sender=settings.mail_from
    )


@bp.get("/agreements/<key>/outgoing")
def page(key: str):
    agreement = desk_agreement(key)
    return render_template("desk/outgoing.html", agreement=agreement, days=_days(agreement))


def _mail(agreement, day: str, number: int):
    try:
        wanted = date.fromisoformat(day)
    except ValueError:
        abort(404)
    first = now().date() - timedelta(days=1)  # the agreement's day may be ahead of UTC's
    if not first <= wanted <= first + timedelta(days=DAYS + 1):
        abort(404)
    span = min(DAYS, (wanted - first).days + 1)
    mail = mail_of(_days(agreement, span), wanted, number)
    if mail is None:
        abort(404)
    return mail


@bp.get("/agreements/<key>/outgoing/<day>/<int:number>")
def mail(key: str, day: str, number: int):
    agreement = desk_agreement(key)
    return render_template("desk/outgoing_mail.html", agreement=agreement, mail=_mail(agreement, day, number))


@bp.get("/agreements/<key>/outgoing/<day>/<int:number>/mail.html")
def mail_html(key: str, day: str, number: int):
    agreement = desk_agreement(key)
    response = Response(_mail(agreement, day, number).html, mimetype="text/html")
    response.headers["Content-Security-Policy"] = MAIL_CSP
    response.headers["X-Frame-Options"] = "SAMEORIGIN"
    return response
