"""Security of every response: CSRF on every POST, the Content-Security-Policy and its companions.

Pages carry no inline script and no inline style (the CSP forbids both), so a script injected
through a field would not run even if autoescaping missed it.
"""

from __future__ import annotations

from flask import Flask, Response, request
from flask_wtf.csrf import CSRFProtect

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'"
)
# Pages whose address or content is someone's: a shared computer's cache must not keep them.
PRIVATE_PREFIXES = ("/l/", "/me", "/calendar/", "/sign-in", "/agreements/")

csrf = CSRFProtect()


def init(app: Flask) -> None:
    csrf.init_app(app)
    app.after_request(_headers)


def _headers(response: Response) -> Response:
    # A response that brings its own, stricter policy keeps it (a mail's HTML shown on the desk).
    response.headers.setdefault("Content-Security-Policy", CSP)
    response.headers["Referrer-Policy"] = "no-referrer"  # a token in the address must not leak on
    response.headers["X-Content-Type-Options"] = "nosniff"
    response.headers.setdefault("X-Frame-Options", "DENY")
    if request.path.startswith(PRIVATE_PREFIXES) or request.path == "/sign-out":
        response.headers["Cache-Control"] = "no-store"
    return response
