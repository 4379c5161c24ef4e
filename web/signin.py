"""Sign-in without passwords: an address in, a link by mail out; the same answer for every address.

Flask-Limiter bounds the requests per address and per client, in Redis when the broker is Redis
(several web processes share the counts), else in this process's memory.
"""

from __future__ import annotations

from flask import Blueprint, Flask, redirect, render_template, request, session, url_for
from flask_limiter import Limiter
from flask_limiter.util import get_remote_address

from web.context import signed_in_email, trygg, writing
from web.paths import local_path
from workflow.answers.signin import request_sign_in

bp = Blueprint("signin", __name__)

PER_ADDRESS = "5 per 15 minutes"  # a sign-in link lasts 15 minutes: more would only be noise
PER_CLIENT = "30 per hour"


def _address() -> str:
    return (request.form.get("email") or "").strip().lower() or get_remote_address()


def init(app: Flask) -> None:
    """A limiter of the app's own (each app counts apart), and the rate-limited POST /sign-in."""
    broker = app.extensions["trygg"].settings.broker_url
    limiter = Limiter(
        get_remote_address,
        app=app,
        storage_uri=broker if broker and broker.startswith(("redis://", "rediss://")) else "memory://",
        key_prefix="trygg-web",
        headers_enabled=False,
    )
    limited = limiter.limit(PER_ADDRESS, key_func=_address)(limiter.limit(PER_CLIENT)(ask))
    app.add_url_rule("/sign-in", "signin.ask", limited, methods=["POST"])


@bp.get("/sign-in")
def form():
    if signed_in_email():
        return redirect(local_path(request.args.get("next"), url_for("me.overview")))
    return render_template("sign_in.html", next=local_path(request.args.get("next"), ""))


def ask():
    """POST /sign-in (registered by `init`, behind the limits)."""
    email = (request.form.get("email") or "").strip()
    # Where the person was going: kept in this browser's session, so the mailed link, opened here,
    # brings them back there (the mail itself carries no address of the site's but the link's).
    back = local_path(request.form.get("next"), "")
    if back:
        session["next"] = back
    if email and "@" in email and len(email) <= 320:
        with writing() as db_session:
            request_sign_in(db_session, trygg().clock, email)
        trygg().kick()  # the sign-in mail cannot wait for the next sweep
    # The same page whether or not the address is known: nobody learns who is.
    return render_template("check_mail.html", email=email)


@bp.post("/sign-out")
def sign_out():
    chosen = session.get("lang")
    session.clear()
    if chosen:
        session["lang"] = chosen
    return redirect(url_for("signin.form"), code=303)
