"""A small world for the web's tests: Härnösand loaded, one link per action, an app on its database."""

from __future__ import annotations

import re
import socket
import sqlite3
import time
import urllib.request
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import select
from sqlalchemy.orm import Session

from web.app import create_app
from workflow.agreement.models import Person, Role
from workflow.agreement.roles import people_with_role
from workflow.answers.extensions import request_extension
from workflow.answers.meetings import deputies
from workflow.answers.mine import my_activities
from workflow.audit import UnitOfWork
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.links.tokens import Action, LinkSigner
from workflow.meetings.models import Meeting
from workflow.plan.models import Activity
from workflow.settings import Settings

KEY = "k" * 48
NOW = datetime(2012, 3, 1, 9, 0, tzinfo=UTC)
CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class World:
    url: str
    sessions: object
    clock: FixedClock
    signer: LinkSigner
    tokens: dict[Action, str]  # one genuine link per action, for the person it was made for
    people: dict[Action, int]
    subjects: dict[Action, int]  # the item each link acts on

    def app(self, clock=None, kick=None, **settings):
        app = create_app(
            Settings(database_url=self.url, secret_key=KEY, **settings),
            sessions=self.sessions,
            clock=clock or self.clock,
            kick=kick,
        )
        app.config["TESTING"] = True
        return app


def build(sessions, url: str) -> World:
    """Sweep Härnösand to a day with meetings, make an extension request, sign one link per action."""
    sweep(sessions, NOW, ran_at=NOW)
    signer = LinkSigner(KEY)
    expires = NOW + timedelta(days=30)
    tokens: dict[Action, str] = {}
    people: dict[Action, int] = {}
    with transaction(sessions) as session:
        officer, activity = _owner_and_activity(session)
        coordinator = session.get(
            Person, people_with_role(session, activity.agreement_id, Role.COORDINATOR)[0]
        )
        management = session.get(Person, people_with_role(session, activity.agreement_id, Role.MANAGEMENT)[0])
        meeting, invitee = _meeting_and_invitee(session)
        unit = UnitOfWork(session, FixedClock(NOW), f"person:{officer.id}")
        request = request_extension(
            unit, activity, officer, activity.deadline + timedelta(days=60), "sjukdom"
        )
        subjects = {
            Action.DONE: (officer.id, activity.id),
            Action.PROGRESS: (officer.id, activity.id),
            Action.EXTEND: (officer.id, activity.id),
            Action.ACK: (management.id, activity.id),
            Action.PROPOSE: (invitee.id, meeting.id),
            Action.ATTEND: (invitee.id, meeting.id),
            Action.DECLINE: (invitee.id, meeting.id),
            Action.MINUTES: (coordinator.id, meeting.id),
            Action.APPROVE: (coordinator.id, request.id),
            Action.REFUSE: (coordinator.id, request.id),
            Action.SIGN_IN: (officer.id, officer.id),
        }
        for action, (person_id, subject_id) in subjects.items():
            tokens[action] = signer.sign(person_id, action, subject_id, expires, nonce="test")
            people[action] = person_id
    ids = {action: subject_id for action, (_person, subject_id) in subjects.items()}
    return World(url, sessions, FixedClock(NOW), signer, tokens, people, ids)


def _owner_and_activity(session: Session) -> tuple[Person, Activity]:
    for person in session.scalars(select(Person).order_by(Person.id)):
        for activity in my_activities(session, person):
            if activity.deadline is not None and activity.state != "done":
                return person, activity
    raise AssertionError("no officer with an open activity in Härnösand")


def _meeting_and_invitee(session: Session) -> tuple[Meeting, Person]:
    """The next meeting, and an invitee of it who could send a deputy (else the first)."""
    meeting = session.scalars(
        select(Meeting).where(Meeting.starts_at > NOW).order_by(Meeting.starts_at)
    ).first()
    assert meeting is not None and meeting.invitees, "no meeting ahead in Härnösand at NOW"
    people = [invitee.person for invitee in meeting.invitees]
    with_deputy = [p for p in people if deputies(session, meeting, p)]
    return meeting, (with_deputy or people)[0]


def dump(url: str) -> list[str]:
    """Every row of every table of a SQLite database, as SQL text."""
    path = Path(url.removeprefix("sqlite:///"))
    with closing(sqlite3.connect(path)) as conn:
        return list(conn.iterdump())


def csrf_of(html: str) -> str:
    match = CSRF.search(html)
    assert match, "the page has no CSRF token"
    return match.group(1)


def free_port() -> int:
    """A TCP port nobody listens on now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for(url: str, proc, seconds: float = 30.0) -> None:
    """Until `url` answers; fails when the process `proc` ends first or time runs out."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError(f"trygg web ended with {proc.returncode}")
        try:
            urllib.request.urlopen(url, timeout=1).read()
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("trygg web did not answer")
