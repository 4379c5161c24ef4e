"""A world for the desk's tests: Härnösand and a second agreement loaded, and clients signed in as each role."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
from tests.web_world import World, build
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.db import make_engine, session_factory

HOME = "/agreements/harnosand-2012-2013"
OTHER_KEY = "annan-2012-2013"


@dataclass
class DeskWorld:
    world: World
    coordinator: Person
    management: Person
    other_coordinator: Person

    def client(self, email: str | None, **app):
        """A test client of the app, signed in as `email` (nobody when None)."""
        client = self.world.app(**app).test_client()
        if email:
            with client.session_transaction() as session:
                session["email"] = email
        return client


def other_agreement(folder: Path) -> Path:
    """Härnösand under another id, with every address in another domain: nobody is in both."""
    text = HARNOSAND.read_text(encoding="utf-8")
    text = text.replace("id: harnosand-2012-2013", f"id: {OTHER_KEY}", 1).replace(
        "@example.org", "@annan.example"
    )
    path = folder / f"{OTHER_KEY}.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def make(tmp_path: Path, sqlite_templates) -> DeskWorld:
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    other = other_agreement(tmp_path)

    def both(u: str) -> None:
        sessions = session_factory(make_engine(u))
        load_file(sessions, HARNOSAND)
        load_file(sessions, other)

    sqlite_templates.copy("desk-two-agreements", both, url)
    world = build(session_factory(make_engine(url)), url)
    with world.sessions() as session:
        mine, theirs = (
            session.scalar(select(Agreement).where(Agreement.key == key))
            for key in ("harnosand-2012-2013", OTHER_KEY)
        )

        def first(agreement, role):
            return session.get(Person, people_with_role(session, agreement.id, role)[0])

        people = first(mine, Role.COORDINATOR), first(mine, Role.MANAGEMENT), first(theirs, Role.COORDINATOR)
        session.expunge_all()
    return DeskWorld(world, *people)
