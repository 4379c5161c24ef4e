"""The desk's home `/agreements/<id>`: what needs the coordinator now."""

from __future__ import annotations

from flask import Blueprint, render_template

from web.context import db, now
from web.desk.door import desk_agreement
from web.language import page_language
from workflow import i18n
from workflow.desk.activities import STATUS_WORDS, step_words
from workflow.desk.home import desk_home
from workflow.desk.standing import AUDIENCE_WORDS

bp = Blueprint("desk_home", __name__)


@bp.get("/agreements/<key>")
def page(key: str):
    agreement = desk_agreement(key)
    return render_template("desk/home.html", agreement=agreement, home=desk_home(db(), agreement, now()))


# Words the desk's templates share, in the page's language.
@bp.app_template_global("recipient_words")
def recipient_words(to: str) -> str:
    return i18n.render(AUDIENCE_WORDS.get(to, to), page_language())


@bp.app_template_global("ladder_step")
def ladder_step(step) -> str:
    return step_words(step, page_language())


@bp.app_template_global("status_word")
def status_word(status: str) -> str:
    return i18n.render(STATUS_WORDS.get(status, status), page_language())
