"""The language of a page: Swedish first, English by the person's choice, their profile or their browser.

The order: a language chosen with the switch (a POST, kept in the session), the person the page is
about (a link's person, `g.person_language`), the signed-in person, the browser's Accept-Language,
else Swedish. The words come from the same catalogues as the mails (workflow/i18n.py).
"""

from __future__ import annotations

from datetime import date, datetime

from flask import Blueprint, Flask, current_app, g, redirect, request, session
from jinja2 import pass_context

from web.paths import local_path
from workflow import i18n
from workflow.outbox.render import format_day, format_moment, format_span

bp = Blueprint("language", __name__)


def page_language() -> str:
    chosen = session.get("lang")
    if chosen in i18n.LANGUAGES:
        return chosen
    for known in (g.get("person_language"), session.get("person_lang")):
        if known in i18n.LANGUAGES:
            return known
    return request.accept_languages.best_match(i18n.LANGUAGES, default=i18n.DEFAULT_LANGUAGE)


def init(app: Flask) -> None:
    env = app.jinja_env
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, newstyle=True
    )
    env.trim_blocks = env.lstrip_blocks = True
    env.filters["moment"] = _moment
    env.filters["day"] = _day
    env.filters["span"] = _span
    env.globals["action_name"] = action_name
    app.context_processor(lambda: {"lang": page_language()})


@bp.post("/language")
def switch():
    """The language switch on every page: a POST (with CSRF), then back where the person was."""
    chosen = request.form.get("lang")
    if chosen in i18n.LANGUAGES:
        session["lang"] = chosen
    return redirect(local_path(request.form.get("next")), code=303)


# The words of the buttons, as in the mails (issue 14's table).
ACTION_NAMES = {
    "done": i18n._l("Done"),
    "progress": i18n._l("Report progress"),
    "extend": i18n._l("Ask for a new date"),
    "ack": i18n._l("I have seen the delay"),
    "propose": i18n._l("Propose an item"),
    "attend": i18n._l("I will attend"),
    "decline": i18n._l("I will not attend"),
    "minutes": i18n._l("Submit the minutes"),
    "approve": i18n._l("Approve"),
    "refuse": i18n._l("Decline"),
    "sign_in": i18n._l("Sign in"),
}


@pass_context
def action_name(context, action: str) -> str:
    return i18n.render(ACTION_NAMES.get(str(action), str(action)), i18n.known(context.get("lang")))


def _zone() -> str:
    return current_app.extensions["trygg"].settings.timezone


@pass_context
def _moment(context, value: datetime) -> str:
    """28 november 2026 kl. 12:15 — an instant on the reader's wall clock (TRYGG_TIMEZONE), as in the mails."""
    return format_moment(value, i18n.known(context.get("lang")), _zone())


@pass_context
def _day(context, value: date) -> str:
    """fredag 28 december 2012 — a day as the mails write it."""
    return format_day(value, i18n.known(context.get("lang")))


@pass_context
def _span(context, start: datetime, end: datetime) -> str:
    """tisdag 14 februari 2012 kl. 13:00–15:00 — a meeting's time as the mails write it."""
    return format_span(start, end, i18n.known(context.get("lang")), _zone())


# The page's words in the page's language (a template's `lang`, set by the context processor).
@pass_context
def _gettext(context, message: str) -> str:
    return i18n.translations(i18n.known(context.get("lang"))).gettext(message)


@pass_context
def _ngettext(context, singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.known(context.get("lang"))).ngettext(singular, plural, n)


@pass_context
def _pgettext(context, msgctxt: str, message: str) -> str:
    return i18n.translations(i18n.known(context.get("lang"))).pgettext(msgctxt, message)
