"""Helpers of the answers tests: people and items of the loaded Härnösand agreement, a signer, a unit."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select

from workflow.agreement.models import Person
from workflow.audit import UnitOfWork
from workflow.clock import FixedClock
from workflow.links.tokens import Action, LinkSigner
from workflow.meetings.models import Meeting
from workflow.plan.models import Activity

SIGNER = LinkSigner("a-secret-that-is-long-enough-for-tests-0123456789")


def person(session, key: str) -> Person:
    return session.scalar(select(Person).where(Person.key == key))


def activity(session, key: str) -> Activity:
    return session.scalar(select(Activity).where(Activity.key == key))


def meeting(session, key: str) -> Meeting:
    return session.scalar(select(Meeting).where(Meeting.key == key))


def token(person_id: int, action: Action, subject_id: int, now: datetime, days: int = 30) -> str:
    return SIGNER.sign(person_id, action, subject_id, now + timedelta(days=days))


def unit_at(session, now: datetime, actor: str = "system") -> UnitOfWork:
    return UnitOfWork(session, FixedClock(now), actor)


def colleague(session, of: Person, key: str, name: str) -> Person:
    """Another active person of `of`'s organisation (a deputy to be)."""
    other = Person(
        agreement_id=of.agreement_id,
        key=key,
        name=name,
        email=f"{key}@example.org",
        organisation_id=of.organisation_id,
        language="sv",
        is_contact=False,
        active=True,
        is_guest=False,
    )
    session.add(other)
    session.flush()
    return other
