"""What every route reaches: the settings, the request's database session, the clock, the signer."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from flask import current_app, g, session
from sqlalchemy.orm import Session, sessionmaker

from workflow.clock import Clock
from workflow.links.tokens import LinkSigner
from workflow.settings import Settings


@dataclass(frozen=True)
class Trygg:
    """The app's injected parts (create_app's arguments)."""

    settings: Settings
    sessions: sessionmaker[Session]
    clock: Clock
    kick: Callable[[], None]
    signer: LinkSigner


def trygg() -> Trygg:
    return current_app.extensions["trygg"]


def now() -> datetime:
    return trygg().clock.now()


def db() -> Session:
    """The request's session (opened on first use, closed when the request ends)."""
    if "db" not in g:
        g.db = trygg().sessions()
    return g.db


@contextmanager
def writing() -> Iterator[Session]:
    """One transaction on the request's session: committed if the block finishes, else rolled back.

    What was read before is let go first: on SQLite a read holds the write lock (BEGIN IMMEDIATE).
    """
    current = db()
    if current.in_transaction():
        current.rollback()
    with current.begin():
        yield current


def close_db() -> None:
    current = g.pop("db", None)
    if current is not None:
        current.close()


def signed_in_email() -> str | None:
    """The address of the signed-in session, if any."""
    email = session.get("email")
    return email if isinstance(email, str) and email else None
