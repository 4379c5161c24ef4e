"""The Flask app of the web: settings, a database session per request, the clock, and the blueprints."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

from flask import Flask
from sqlalchemy.orm import Session, sessionmaker

from web import (
    desk_meetings,
    desk_people,
    desk_plan,
    desk_schedules,
    errors,
    health,
    language,
    links,
    me,
    overview,
    security,
    signin,
)
from web.context import Trygg, close_db
from web.desk import BLUEPRINTS as DESK
from web.logs import install_redaction
from workflow.clock import Clock, SystemClock
from workflow.db import make_engine, session_factory
from workflow.links.tokens import LinkSigner, throwaway_secret
from workflow.resources import templates_dir
from workflow.settings import Settings, get_settings

# An uploaded minutes file (.txt, .md, .docx) and the rest of the form: a request larger than this
# is refused before it is read.
MAX_REQUEST_BYTES = 5 * 1024 * 1024


def create_app(
    settings: Settings | None = None,
    *,
    sessions: sessionmaker[Session] | None = None,
    clock: Clock | None = None,
    kick: Callable[[], None] | None = None,
) -> Flask:
    """The web for `settings` (the process's by default); `kick` is called after a commit that made
    a mail that cannot wait (a sign-in link, an extension request or decision)."""
    settings = settings or get_settings()
    # An empty key only reaches here in a demo (`trygg web` refuses it otherwise): links then
    # last as long as the process.
    secret = settings.secret_key.get_secret_value() or throwaway_secret()
    folder = templates_dir() / "web"
    app = Flask("web", template_folder=str(folder), static_folder=str(folder / "static"))
    app.config.update(
        SECRET_KEY=secret,
        SESSION_COOKIE_NAME="trygg_session",
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.base_url.lower().startswith("https://"),
        PERMANENT_SESSION_LIFETIME=timedelta(hours=12),
        MAX_CONTENT_LENGTH=MAX_REQUEST_BYTES,
        WTF_CSRF_TIME_LIMIT=None,  # a form may stay open for a while; the session bounds it
        SEND_FILE_MAX_AGE_DEFAULT=3600,
    )
    app.extensions["trygg"] = Trygg(
        settings=settings,
        sessions=sessions or session_factory(make_engine(settings.database_url)),
        clock=clock or SystemClock(),
        kick=kick or (lambda: None),
        signer=LinkSigner(secret),
    )
    install_redaction(app)
    security.init(app)
    language.init(app)
    errors.init(app)
    signin.init(app)
    for module in (health, language, links, me, signin):
        app.register_blueprint(module.bp)
    for blueprint in DESK:
        app.register_blueprint(blueprint)
    for module in (desk_schedules, desk_meetings, desk_plan, desk_people):  # the desk, part 2 (issue 15)
        app.register_blueprint(module.bp)
    app.register_blueprint(overview.bp)  # the leadership's overview and the yearly report
    app.teardown_appcontext(lambda _exc: close_db())
    return app
