"""*Mina uppgifter* (`/me`) and the calendar feed: everything the signed-in address is asked to do.

The actions on /me are links like the mails' ones, signed afresh for the signed-in person, so a
click here goes through the same page, checks and single use as a click in a mail.
"""

from __future__ import annotations

from datetime import timedelta
from urllib.parse import urlsplit

from flask import Blueprint, Response, redirect, render_template, request, url_for
from sqlalchemy import select

from web.access import current_access
from web.context import db, now, signed_in_email, trygg, writing
from web.errors import refused
from workflow.answers.feeds import feed_ics, replace_feed
from workflow.answers.links import LinkRefused
from workflow.answers.mine import MyOverview, my_overview, people_of
from workflow.audit import UnitOfWork, person_actor
from workflow.desk.home import desks_of
from workflow.links.models import CalendarFeed
from workflow.links.tokens import Action

bp = Blueprint("me", __name__)

LINKS_VALID = timedelta(hours=12)  # as long as a signed-in session
MEETING_ACTIONS = (Action.ATTEND, Action.DECLINE)


@bp.get("/me")
def overview():
    email = signed_in_email()
    if email is None:
        return redirect(url_for("signin.form", next=request.path))
    session_, instant = db(), now()
    mine = my_overview(session_, email, instant)
    expires = instant + LINKS_VALID
    signer = trygg().signer

    # The link page's address built once: a token is URL-safe as it is (base64 and dots), and a
    # regional police chief's page holds a hundred links.
    before, _, after = url_for("links.show", token="TOKEN").partition("TOKEN")

    def link(person_id: int, action: str, subject_id: int) -> str:
        return before + signer.sign(person_id, Action(action), subject_id, expires) + after

    return render_template(
        "me.html",
        mine=mine,
        link=link,
        meeting_actions=MEETING_ACTIONS,
        feed=_feed_addresses(mine),
        desks=desks_of(db(), current_access()),
    )


@bp.post("/me/calendar")
def new_calendar():
    """Make my calendar address, or replace it (the old one stops working)."""
    email = signed_in_email()
    if email is None:
        return redirect(url_for("signin.form", next="/me"), code=303)
    with writing() as session_:
        people = people_of(session_, email)
        if not people:
            return redirect(url_for("me.overview"), code=303)
        # The person replaces their own address: audited as them, on the web.
        replace_feed(UnitOfWork(session_, trygg().clock, person_actor(people[0].id), channel="web"), email)
    return redirect(url_for("me.overview") + "#calendar", code=303)


@bp.get("/calendar/<token>.ics")
def calendar(token: str):
    try:
        body = feed_ics(db(), trygg().signer, token, now())
    except LinkRefused as exc:
        return refused(exc.reason, exc.status)
    return Response(
        body, mimetype="text/calendar", headers={"Content-Disposition": "inline; filename=trygg.ics"}
    )


def _feed_addresses(mine: MyOverview) -> dict[str, str] | None:
    """My live feed's addresses (https and webcal), without making one: a GET changes nothing.
    The feed is the first of my person records' (as `replace_feed` makes it)."""
    if not mine.agreements:
        return None
    feed = db().scalar(
        select(CalendarFeed)
        .where(CalendarFeed.person_id == mine.agreements[0].person_id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    )
    if feed is None:
        return None
    path = url_for("me.calendar", token=trygg().signer.feed_token(feed.id, feed.person_id))
    base = trygg().settings.base_url.rstrip("/")
    parts = urlsplit(base)
    return {"https": base + path, "webcal": f"webcal://{parts.netloc}{parts.path}{path}"}
