"""The web's pages do what their buttons say: each action once, its errors shown, languages, Mina uppgifter."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
from tests.web_world import World, build, csrf_of, dump
from workflow.agreement.models import Person
from workflow.audit import SYSTEM, AuditEntry
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory
from workflow.links.models import CalendarFeed
from workflow.links.tokens import Action
from workflow.meetings.models import Invitee, Meeting, MinutesRevision
from workflow.plan.models import Activity, ExtensionRequest


@pytest.fixture
def world(tmp_path, sqlite_templates) -> World:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    sqlite_templates.copy("harnosand", lambda u: load_file(session_factory(make_engine(u)), HARNOSAND), url)
    return build(session_factory(make_engine(url)), url)


def _post(client, action_token: str, **fields):
    link = f"/l/{action_token}"
    data = {"csrf_token": csrf_of(client.get(link).text), **fields}
    return client.post(link, data=data, content_type="multipart/form-data")


def test_done_marks_the_activity_done_as_the_person_on_the_web(world):
    answer = _post(world.app().test_client(), world.tokens[Action.DONE], note="klart")
    assert answer.status_code == 303
    with world.sessions() as session:
        entry = session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.actor, entry.channel) == (f"person:{world.people[Action.DONE]}", "web")
        assert session.scalars(select(Activity).where(Activity.state == "done")).first() is not None


def test_asking_for_a_new_date_makes_a_request_and_kicks_delivery(world):
    kicks = []
    client = world.app(kick=lambda: kicks.append(1)).test_client()
    answer = _post(client, world.tokens[Action.EXTEND], new_deadline="2012-12-31", reason="sjukdom")
    assert answer.status_code == 303 and kicks == [1]
    with world.sessions() as session:
        assert session.scalar(
            select(ExtensionRequest).where(ExtensionRequest.requested_deadline.is_not(None))
        )


def test_a_refused_answer_shows_the_form_again_with_why_and_changes_nothing(world):
    client = world.app().test_client()
    before = dump(world.url)
    answer = _post(client, world.tokens[Action.EXTEND], new_deadline="inte ett datum", reason="x")
    assert answer.status_code == 422
    assert 'role="alert"' in answer.text and "ÅÅÅÅ-MM-DD" in answer.text or "YYYY-MM-DD" in answer.text
    assert "inte ett datum" in answer.text  # what was typed stays
    assert dump(world.url) == before


def test_the_minutes_are_read_from_a_docx_with_attendance(world):
    with world.sessions() as session:
        held = session.get(Meeting, world.subjects[Action.MINUTES]).ends_at + timedelta(days=1)
    token = world.signer.sign(
        world.people[Action.MINUTES], Action.MINUTES, world.subjects[Action.MINUTES], held + timedelta(days=1)
    )
    client = world.app(clock=FixedClock(held)).test_client()
    link = f"/l/{token}"
    page = client.get(link).text
    attendee = re.search(r'name="attended" value="(\d+)"', page).group(1)
    data = {
        "csrf_token": csrf_of(page),
        "attended": [attendee],
        "file": (io.BytesIO(_docx("Punkt 1: lägesbilden.")), "anteckningar.docx"),
    }
    answer = client.post(link, data=data, content_type="multipart/form-data")
    assert answer.status_code == 303, re.search(r"role=\"alert\".*?<p>(.*?)</p>", answer.text, re.S).group(1)
    with world.sessions() as session:
        revision = session.scalars(select(MinutesRevision)).first()
        assert "Punkt 1: lägesbilden." in revision.text


def test_a_minutes_file_of_another_kind_is_refused_with_the_reason(world):
    client = world.app().test_client()
    link = f"/l/{world.tokens[Action.MINUTES]}"
    data = {"csrf_token": csrf_of(client.get(link).text), "file": (io.BytesIO(b"MZ"), "virus.exe")}
    answer = client.post(link, data=data, content_type="multipart/form-data")
    assert answer.status_code == 422 and ".docx" in answer.text


def test_declining_with_a_deputy_invites_the_deputy(world):
    with world.sessions() as session:  # a colleague of the invitee who is not invited
        invitee = session.get(Person, world.people[Action.DECLINE])
        colleague = Person(
            agreement_id=invitee.agreement_id,
            key="kollega",
            name="Kim Kollega",
            email="kim.kollega@example.org",
            organisation_id=invitee.organisation_id,
        )
        session.add(colleague)
        session.commit()
        colleague_id = colleague.id
    client = world.app().test_client()
    link = f"/l/{world.tokens[Action.DECLINE]}"
    page = client.get(link).text
    assert f'<option value="{colleague_id}"' in page
    answer = client.post(link, data={"csrf_token": csrf_of(page), "deputy": str(colleague_id)})
    assert answer.status_code == 303
    with world.sessions() as session:
        assert session.scalar(select(Invitee).where(Invitee.person_id == colleague_id)) is not None


def test_pages_speak_the_persons_language_the_browsers_or_the_chosen_one(world):
    client = world.app().test_client()
    assert "Logga in" in client.get("/sign-in").text
    assert "Send me a sign-in link" in client.get("/sign-in", headers={"Accept-Language": "en"}).text
    csrf = csrf_of(client.get("/sign-in").text)
    client.post("/language", data={"csrf_token": csrf, "lang": "en", "next": "/sign-in"})
    assert "Send me a sign-in link" in client.get("/sign-in").text
    with world.sessions() as session:
        person = session.get(Person, world.people[Action.DONE])
        person.language = "en"
        session.commit()
    fresh = world.app().test_client()
    assert ">Done</button>" in fresh.get(f"/l/{world.tokens[Action.DONE]}").text


def test_my_tasks_shows_fresh_links_and_a_calendar_address_that_can_be_replaced(world):
    client = world.app().test_client()
    link = f"/l/{world.tokens[Action.SIGN_IN]}"
    client.post(link, data={"csrf_token": csrf_of(client.get(link).text)})
    me = client.get("/me").text
    assert "Mina uppgifter" in me and "/l/" in me
    fresh = re.search(r'href="(/l/[^"]+)"', me).group(1)
    assert client.get(fresh).status_code == 200
    before = dump(world.url)
    client.get("/me")
    assert dump(world.url) == before  # showing /me makes no calendar address
    client.post("/me/calendar", data={"csrf_token": csrf_of(me)})
    first = re.search(r"webcal://[^/]+(/calendar/[^<\"]+\.ics)", client.get("/me").text).group(1)
    feed = client.get(first)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar" and "BEGIN:VCALENDAR" in feed.text
    client.post("/me/calendar", data={"csrf_token": csrf_of(me)})
    assert client.get(first).status_code == 404  # the old address stops working
    with world.sessions() as session:
        audited = session.scalars(
            select(AuditEntry).where(AuditEntry.action.in_(("create_feed", "revoke_feed")))
        ).all()
        by_web = [e for e in audited if e.channel == "web"]
        # The person made and replaced their own address: audited as them, on the web.
        assert len({e.actor for e in by_web}) == 1 and len(by_web) >= 3  # made, revoked, made again
        person_id = int(by_web[0].actor.split(":")[1])
        feeds = session.scalars(select(CalendarFeed).where(CalendarFeed.person_id == person_id)).all()
        assert sum(f.revoked_at is None for f in feeds) == 1
        # Any other address was the engine's, made for a council member's meeting plan.
        assert {e.actor for e in audited if e.channel != "web"} <= {SYSTEM}


def _docx(text: str) -> bytes:
    body = (
        '<w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main">'
        f"<w:body><w:p><w:r><w:t>{text}</w:t></w:r></w:p></w:body></w:document>"
    )
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w") as archive:
        archive.writestr("word/document.xml", body)
    return out.getvalue()


@pytest.mark.postgres
def test_a_link_works_once_on_postgresql(postgres_url):
    from workflow import migrate

    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    load_file(sessions, HARNOSAND)
    world = build(sessions, postgres_url)
    client = world.app().test_client()
    assert _post(client, world.tokens[Action.DONE], note="klart").status_code == 303
    assert _post(client, world.tokens[Action.DONE], note="igen").status_code == 409
    engine.dispose()
