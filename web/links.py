"""The link page `/l/<token>`: GET shows the item and a button or form, POST acts once.

A GET never changes anything (mail scanners open every link). The POST goes through
workflow.answers.links, which checks the token again, refuses a used one and acts as its person.
"""

from __future__ import annotations

from flask import (
    Blueprint,
    flash,
    g,
    get_flashed_messages,
    redirect,
    render_template,
    request,
    session,
    url_for,
)

from web.context import db, now, signed_in_email, trygg, writing
from web.errors import refused
from web.language import page_language
from web.paths import local_path
from web.uploads import UploadError, minutes_text
from workflow import i18n
from workflow.agreement.models import Person
from workflow.answers.links import AlreadyUsed, LinkRefused, answer_link, view_link
from workflow.audit import SYSTEM, UnitOfWork
from workflow.cycle.lifecycle import CycleError
from workflow.links.tokens import Action
from workflow.meetings.actions import MeetingError
from workflow.plan.triggers import TriggerError
from workflow.work import WorkError

bp = Blueprint("links", __name__)

# One template per family of actions: the item, then its form.
TEMPLATE_OF = {
    Action.DONE: "links/activity.html",
    Action.PROGRESS: "links/activity.html",
    Action.ACK: "links/activity.html",
    Action.EXTEND: "links/extend.html",
    Action.ATTEND: "links/attend.html",
    Action.DECLINE: "links/attend.html",
    Action.PROPOSE: "links/propose.html",
    Action.MINUTES: "links/minutes.html",
    Action.APPROVE: "links/decide.html",
    Action.REFUSE: "links/decide.html",
    Action.SIGN_IN: "links/sign_in.html",
}
# Answers that make a mail which cannot wait for the next sweep (see workflow/outbox/kinds.py).
KICKS = {Action.EXTEND, Action.APPROVE, Action.REFUSE, Action.DECLINE}
DOMAIN_ERRORS = (WorkError, MeetingError, CycleError, TriggerError)


@bp.get("/l/<token>")
def show(token: str):
    try:
        view = view_link(db(), trygg().signer, token, now(), session_email=signed_in_email())
    except LinkRefused as exc:
        return refused(exc.reason, exc.status)
    g.person_language = view.language
    if view.used is not None:
        # Just answered here (the POST's redirect): thanks, not "already done".
        thanks = "answered" in get_flashed_messages()
        return render_template("used.html", view=view, used=view.used, thanks=thanks)
    return render_template(TEMPLATE_OF[view.action], view=view, token=token, form={}, problem=None)


@bp.post("/l/<token>")
def act(token: str):
    try:
        form = _form()
    except UploadError as exc:
        return _again(token, exc.args[0], 422)
    try:
        with writing() as session_:
            unit = UnitOfWork(session_, trygg().clock, SYSTEM, channel="web")  # acts as the token's person
            answered = answer_link(unit, trygg().signer, token, form, session_email=signed_in_email())
    except LinkRefused as exc:
        return refused(exc.reason, exc.status)
    except AlreadyUsed:
        return _used(token)
    except DOMAIN_ERRORS as exc:
        return _again(token, exc.args[0] if exc.args else str(exc), 422, form)
    if answered.action == Action.SIGN_IN:
        return _signed_in(answered.person_id, answered.email)
    if answered.action in KICKS:
        trygg().kick()
    flash("answered")
    return redirect(url_for("links.show", token=token), code=303)


def _form() -> dict:
    """The posted fields as workflow.answers wants them: lists for checkboxes, a file read to text."""
    form: dict = {key: request.form.get(key) for key in request.form if key != "csrf_token"}
    form["attended"] = request.form.getlist("attended")
    upload = request.files.get("file")
    if upload is not None and upload.filename:
        text = minutes_text(upload.filename, upload.stream)
        form["text"] = "\n\n".join(part for part in (form.get("text") or "", text) if part.strip())
    return form


def _used(token: str):
    """A second POST of a used link: what was done, by whom and when (409: nothing more happened)."""
    view = view_link(db(), trygg().signer, token, now(), session_email=signed_in_email())
    g.person_language = view.language
    return render_template("used.html", view=view, used=view.used, thanks=False), 409


def _again(token: str, problem: str | i18n.LazyText, status: int, form: dict | None = None):
    """The form again, with what was typed and why it was refused (in the page's language)."""
    try:
        view = view_link(db(), trygg().signer, token, now(), session_email=signed_in_email())
    except LinkRefused as exc:
        return refused(exc.reason, exc.status)
    g.person_language = view.language
    problem = i18n.render(problem, page_language())
    page = render_template(TEMPLATE_OF[view.action], view=view, token=token, form=form or {}, problem=problem)
    return page, status


def _signed_in(person_id: int, email: str):
    """A fresh session for the address (no fixation), in the person's language, then the page the
    sign-in was asked for in this browser (a local path only), else Mina uppgifter."""
    person = db().get(Person, person_id)
    chosen = session.get("lang")
    back = local_path(session.get("next"), url_for("me.overview"))
    session.clear()
    session["email"] = email
    session["person_lang"] = person.language if person is not None else None
    if chosen:
        session["lang"] = chosen
    session.permanent = True
    return redirect(back, code=303)
