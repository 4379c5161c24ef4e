"""Clear pages for what goes wrong: each says what happened and what to do next."""

from __future__ import annotations

from flask import Flask, render_template, request, session
from flask_wtf.csrf import CSRFError
from werkzeug.exceptions import HTTPException

# Pages of their own for a refused link (workflow.answers.links.LinkRefused's reasons).
REFUSED_STATUS = {"tampered": 400, "expired": 410, "not_yours": 403, "unknown": 404}


def init(app: Flask) -> None:
    app.register_error_handler(CSRFError, _csrf)
    app.register_error_handler(HTTPException, _http)


def refused(reason: str, status: int | None = None):
    """The page of a link that cannot be used: why, and what to do instead."""
    status = status or REFUSED_STATUS.get(reason, 400)
    return render_template("refused.html", reason=reason), status


def _csrf(_error: CSRFError):
    return render_template("error.html", status=400, kind="csrf"), 400


def _http(error: HTTPException):
    if error.code is None or error.code < 400:
        return error
    kind = {404: "not_found", 405: "method", 413: "too_large", 429: "too_many"}.get(error.code, "other")
    if error.code == 403:  # nobody signed in (a link from a mail, opened anew) or not this person's page
        kind = "no_access" if session.get("email") else "sign_in"
    # Back here after signing in: only a page to look at, never a form's target.
    back = request.path if request.method == "GET" else None
    return render_template("error.html", status=error.code, kind=kind, back=back), error.code
