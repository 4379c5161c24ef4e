"""Every route of the app, as nobody and as every role of another agreement, is refused and changes nothing.

The routes are read from the app itself (`app.url_map`), so a route added later is tested the day
it lands: about agreement A (Härnösand) it must answer 403 or 404 to anyone who is not A's
coordinator or leadership, and leave the database as it was. Only the public routes, and the ones
about the caller themselves rather than an agreement, are written down here, each with its
documented behaviour. A POST carries a valid CSRF token of the caller's own session, so a refusal
is the role check, not CSRF (a CSRF refusal is 400 and would fail the test).
"""

from __future__ import annotations

import contextlib
import difflib
import re
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
from tests.desk_world import OTHER_KEY, other_agreement
from tests.web_world import KEY, NOW, _owner_and_activity, build, csrf_of, dump
from web.app import create_app
from workflow.agreement.models import Absence, Agreement, Organisation, Person
from workflow.answers.feeds import replace_feed
from workflow.audit import UnitOfWork
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.desk.outgoing import what_goes_out
from workflow.engine.sweep import sweep
from workflow.links.models import CalendarFeed
from workflow.links.tokens import Action, LinkSigner
from workflow.meetings.models import Meeting
from workflow.outbox.models import Mail
from workflow.plan.models import ExtensionRequest
from workflow.settings import Settings

A = "harnosand-2012-2013"
B = OTHER_KEY  # the same agreement under another id, every address @annan.example
# One person of B per role (Härnösand's people: tests/data and the agreement file).
CALLERS_OF_B = {
    "coordinator of B": "anna.sjoberg@annan.example",
    "management of B": "thomas.nyberg@annan.example",
    "officer of B": "ali.hassan@annan.example",
    "council member of B": "erik.holm@annan.example",
    "council secretary of B": "karin.ek@annan.example",
}
# A person of A without the coordinator's or the leadership's role: deny by default inside A too.
OFFICER_OF_A = "ali.hassan@example.org"
CALLERS = {"nobody": None, **CALLERS_OF_B, "officer of A (no desk role)": OFFICER_OF_A}
# The pages' clock: a Monday of December 2012, activities due 30 November overdue, the ladder's
# mails made and more to come (What goes out has mails to show).
AT = datetime(2012, 12, 10, 6, 30, tzinfo=UTC)
METHODS = ("GET", "POST", "PUT", "PATCH", "DELETE")  # whatever a rule accepts (HEAD follows GET)
# The meeting actions the desk's one POST route dispatches on (web/desk_meetings.py).
MEETING_ACTIONS = ("agenda", "agenda-move", "agenda-remove", "coopt", "reschedule", "cancel", "minutes")


def _rules() -> list[tuple[str, str]]:
    """(rule, method) for every rule of the app: read from the app, never written down here."""
    app = create_app(Settings(database_url="sqlite://", secret_key=KEY))
    found = {(rule.rule, m) for rule in app.url_map.iter_rules() for m in rule.methods or () if m in METHODS}
    return sorted(found)


ROUTES = _rules()


# --- the world: A with work in it, B beside it ------------------------------------------------


@dataclass
class Matrix:
    url: str
    template: Path
    values: dict[str, tuple[str, ...]]  # URL parameter → real values of agreement A
    baseline: list[str]
    engine: object = None
    apps: dict = field(default_factory=dict)

    def app(self, caller: str = ""):
        """The app on the world's database, one per caller (each has its own sign-in rate limit)."""
        if caller not in self.apps:
            self.apps[caller] = self._new_app()
        return self.apps[caller]

    def _new_app(self):
        self.engine = self.engine or make_engine(self.url)
        app = create_app(
            Settings(database_url=self.url, secret_key=KEY, base_url="http://localhost"),
            sessions=session_factory(self.engine),
            clock=FixedClock(AT),
        )
        app.config["TESTING"] = True
        return app

    def restore(self) -> None:
        """The database as the template left it (after a route changed it)."""
        if self.engine is not None:
            self.engine.dispose()
        with contextlib.closing(sqlite3.connect(self.template)) as src:
            with contextlib.closing(sqlite3.connect(self.url.removeprefix("sqlite:///"))) as dst:
                src.backup(dst)


def _build(url: str) -> None:
    """Both agreements loaded; A swept to 1 March 2012 with an extension request, an absence and a
    calendar feed, so every kind of id a route takes has a real row of A behind it."""
    sessions = session_factory(make_engine(url))
    load_file(sessions, HARNOSAND)
    folder = Path(url.removeprefix("sqlite:///")).parent
    load_file(sessions, other_agreement(folder))
    build(sessions, url)  # sweeps to NOW, makes an extension request in A
    sweep(
        sessions, AT, ran_at=AT
    )  # reminders and escalations: mails of A, more to come  # sweeps, makes an extension request in A
    with transaction(sessions) as session:
        agreement = session.scalar(select(Agreement).where(Agreement.key == A))
        people = session.scalars(select(Person).where(Person.agreement_id == agreement.id)).all()
        unit = UnitOfWork(session, FixedClock(NOW), "cli:test")
        session.add(
            Absence(
                agreement_id=agreement.id,
                person_id=people[0].id,
                deputy_id=people[1].id,
                starts_on=date(2012, 3, 5),
                ends_on=date(2012, 3, 9),
                created_at=NOW,
                created_by="cli:test",
            )
        )
        replace_feed(unit, people[0].email)


def _values(url: str, signer_tokens: dict[Action, str]) -> dict[str, tuple[str, ...]]:
    sessions = session_factory(make_engine(url))
    with sessions() as session:
        agreement = session.scalar(select(Agreement).where(Agreement.key == A))

        def first(model, *where) -> int:
            found = session.scalar(select(model.id).where(model.agreement_id == agreement.id, *where))
            assert found is not None, f"no {model.__name__} of A to fill a route with"
            return found

        meeting = session.scalar(
            select(Meeting).where(Meeting.agreement_id == agreement.id).order_by(Meeting.starts_at)
        )
        days = what_goes_out(session, agreement.id, AT, 7, base_url="http://localhost", sender="t@x")
        day = next(d for d in days if d.mails)
        person = first(Person)
        feed = session.scalar(
            select(CalendarFeed)
            .join(Person)
            .where(Person.agreement_id == agreement.id, CalendarFeed.revoked_at.is_(None))
        )
        return {
            "key": (A,),
            "meeting": (meeting.key,),
            "action": MEETING_ACTIONS,
            "year": ("2012",),
            "number": ("1",),
            "revision": ("1",),
            "day": (day.day.isoformat(),),
            "org_id": (str(first(Organisation)),),
            "person_id": (str(person),),
            "absence_id": (str(first(Absence)),),
            "mail_id": (str(first(Mail)),),
            "request_id": (str(_request_id(session, agreement.id)),),
            "token": (signer_tokens[Action.DONE],),
            "calendar_token": (LinkSigner(KEY).feed_token(feed.id, feed.person_id),),
            "filename": ("trygg.css",),
        }


def _request_id(session, agreement_id: int) -> int:
    found = session.scalar(select(ExtensionRequest.id).where(ExtensionRequest.agreement_id == agreement_id))
    assert found is not None, "no extension request of A"
    return found


@pytest.fixture(scope="module")
def matrix(tmp_path_factory, sqlite_templates) -> Matrix:
    folder = tmp_path_factory.mktemp("role-matrix")
    url = f"sqlite:///{folder / 'trygg.db'}"
    sqlite_templates.copy("role-matrix", _build, url)
    template = folder / "template.db"
    with contextlib.closing(sqlite3.connect(folder / "trygg.db")) as src:
        with contextlib.closing(sqlite3.connect(template)) as dst:
            src.backup(dst)
    tokens = _tokens(url)
    return Matrix(url, template, _values(url, tokens), dump(url))


def _tokens(url: str) -> dict[Action, str]:
    """A genuine DONE link of an officer of A (signed as the sweeps sign them)."""
    with session_factory(make_engine(url))() as session:
        officer, activity = _owner_and_activity(session)
        expires = datetime(2013, 1, 31, tzinfo=UTC)
        return {
            Action.DONE: LinkSigner(KEY).sign(officer.id, Action.DONE, activity.id, expires, nonce="matrix")
        }


# --- calling a route -------------------------------------------------------------------------


PARAMETER = re.compile(r"<(?:[a-z]+:)?([a-z_]+)>")


def addresses(rule: str, values: dict[str, tuple[str, ...]]) -> list[str]:
    """The rule with its parameters filled with A's real values (every combination)."""
    names = PARAMETER.findall(rule)
    missing = [n for n in names if _value_name(rule, n) not in values]
    assert not missing, f"{rule}: no value of A for {missing}; add one to _values (a new kind of id)"
    filled = [rule]
    for name in names:
        choices = values[_value_name(rule, name)]
        pattern = re.compile(rf"<(?:[a-z]+:)?{name}>")
        filled = [pattern.sub(choice, f, count=1) for f in filled for choice in choices]
    return filled


def _value_name(rule: str, name: str) -> str:
    return "calendar_token" if name == "token" and rule.startswith("/calendar/") else name


def signed_in(app, email: str | None):
    """A test client of `app` signed in as `email` (nobody when None) and a CSRF token of its session."""
    client = app.test_client()
    if email:
        with client.session_transaction() as session:
            session["email"] = email
    page = client.get("/me" if email else "/sign-in")
    assert page.status_code == 200, f"{email}: /me answered {page.status_code}"
    return client, csrf_of(page.get_data(as_text=True))


def call(client, token: str, method: str, address: str):
    data = {"csrf_token": token} if method != "GET" else None
    return client.open(address, method=method, data=data)


def changed(matrix: Matrix) -> list[str]:
    now = dump(matrix.url)
    if now == matrix.baseline:
        return []
    return [line for line in difflib.unified_diff(matrix.baseline, now, lineterm="", n=0)][2:]


# --- the public routes, and the caller's own: each with its documented behaviour -------------

Check = Callable[[str, object, list[str]], None]  # (caller, response, rows changed)


def _unchanged(rows: list[str]) -> None:
    assert not rows, "changed the database:\n" + "\n".join(rows[:20])


def _nothing_of_a(caller: str, response) -> None:
    if caller not in CALLERS_OF_B:
        return  # A's own officer sees their own things of A
    body = response.get_data(as_text=True)
    assert A not in body and "@example.org" not in body, "shows something of agreement A"


def sign_in_page(caller, response, rows):
    # The form for nobody; a signed-in address goes to Mina uppgifter.
    assert response.status_code == (200 if caller == "nobody" else 302)
    _unchanged(rows)


def sign_in_ask(caller, response, rows):
    # Posted without an address: the same "check your mail" page for everyone, nothing made.
    assert response.status_code == 200
    _unchanged(rows)


def healthz(caller, response, rows):
    assert response.status_code == 200 and response.json["status"] == "ok"
    _unchanged(rows)


def link_page(caller, response, rows):
    # The token is the authority (a GET changes nothing); signed in as another person: refused.
    assert response.status_code == (200 if caller == "nobody" else 403)
    _unchanged(rows)


def link_answer(caller, response, rows):
    # A link acts as its own person for whoever holds it, once; never for another signed-in person.
    if caller == "nobody":
        assert response.status_code == 303, response.status_code
        assert any('INSERT INTO "used_tokens"' in row for row in rows), "the link was not used up"
    else:
        assert response.status_code == 403
        _unchanged(rows)


def calendar(caller, response, rows):
    # A calendar address works for whoever holds it (a calendar application signs in to nothing).
    assert response.status_code == 200 and response.mimetype == "text/calendar"
    _unchanged(rows)


def language(caller, response, rows):
    assert response.status_code == 303  # the choice lives in the session, not the database
    _unchanged(rows)


def static(caller, response, rows):
    assert response.status_code == 200
    _unchanged(rows)


def me(caller, response, rows):
    if caller == "nobody":
        assert response.status_code == 302 and "/sign-in" in response.location
    else:
        assert response.status_code == 200
        _nothing_of_a(caller, response)
    _unchanged(rows)


def my_calendar(caller, response, rows):
    # Makes or replaces the caller's own calendar address: the caller's rows only, never A's.
    assert response.status_code == 303
    if caller == "nobody":
        assert "/sign-in" in response.location
        _unchanged(rows)
        return
    touched = {m.group(1) for r in rows if (m := re.search(r'INTO "(\w+)"', r))}
    assert touched <= {"calendar_feeds", "audit_log"}, touched


def sign_out(caller, response, rows):
    assert response.status_code == 303 and "/sign-in" in response.location
    _unchanged(rows)


def overview(caller, response, rows):
    # The leadership's and the coordinator's overview of their own agreements; A is never on it.
    leads_b = caller in ("coordinator of B", "management of B")
    assert response.status_code == (200 if leads_b else 403)
    if leads_b:
        _nothing_of_a(caller, response)
    _unchanged(rows)


PUBLIC: dict[tuple[str, str], Check] = {
    ("/sign-in", "GET"): sign_in_page,
    ("/sign-in", "POST"): sign_in_ask,
    ("/healthz", "GET"): healthz,
    ("/l/<token>", "GET"): link_page,
    ("/l/<token>", "POST"): link_answer,
    ("/calendar/<token>.ics", "GET"): calendar,
    ("/language", "POST"): language,
    ("/static/<path:filename>", "GET"): static,
    ("/overview/report.css", "GET"): static,
    # About the caller, not about an agreement:
    ("/me", "GET"): me,
    ("/me/calendar", "POST"): my_calendar,
    ("/sign-out", "POST"): sign_out,
    ("/overview", "GET"): overview,
}


def test_every_public_route_written_down_is_a_route_of_the_app():
    assert set(PUBLIC) <= set(ROUTES), set(PUBLIC) - set(ROUTES)


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize(("rule", "method"), [r for r in ROUTES if r not in PUBLIC])
def test_a_route_about_agreement_a_is_refused_and_changes_nothing(matrix, rule, method, caller):
    app = matrix.app(caller)
    client, token = signed_in(app, CALLERS[caller])
    problems = []
    for address in addresses(rule, matrix.values):
        response = call(client, token, method, address)
        rows = changed(matrix)
        if rows:
            matrix.restore()
        if response.status_code not in (403, 404) or rows:
            problems.append(
                f"{method} {address} as {caller}: {response.status_code}, {len(rows)} rows changed"
            )
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("caller", sorted(CALLERS))
@pytest.mark.parametrize(("rule", "method"), sorted(PUBLIC))
def test_a_public_route_does_what_it_documents_and_nothing_of_agreement_a(matrix, rule, method, caller):
    app = matrix.app(caller)
    client, token = signed_in(app, CALLERS[caller])
    try:
        for address in addresses(rule, matrix.values):
            response = call(client, token, method, address)
            PUBLIC[(rule, method)](caller, response, changed(matrix))
    finally:
        if changed(matrix):
            matrix.restore()


def test_as_a_coordinator_every_page_of_agreement_a_opens_so_the_ids_filled_in_are_real(matrix):
    """The control: the refusals above are the role check, not ids that do not exist."""
    app = matrix.app()
    client, _token = signed_in(app, "anna.sjoberg@example.org")
    wrong = []
    for rule, method in ROUTES:
        if method != "GET" or (rule, method) in PUBLIC:
            continue
        for address in addresses(rule, matrix.values):
            status = client.get(address).status_code
            if status != 200:
                wrong.append(f"{address}: {status}")
    assert not wrong, wrong


def test_as_a_coordinator_every_change_of_agreement_a_gets_past_the_door(matrix):
    """The control for the POSTs: with the same empty form and token, A's coordinator is not refused."""
    app = matrix.app()
    client, token = signed_in(app, "anna.sjoberg@example.org")
    refused = []
    try:
        for rule, method in ROUTES:
            if method == "GET" or (rule, method) in PUBLIC:
                continue
            for address in addresses(rule, matrix.values):
                # The form names a person of A where one is asked for (an absence's), else that is the 404.
                form = {"csrf_token": token, "person": matrix.values["person_id"][0]}
                status = client.open(address, method=method, data=form).status_code
                if status in (400, 403, 404):
                    refused.append(f"{method} {address}: {status}")
                matrix.restore()
    finally:
        matrix.restore()
    assert not refused, refused
