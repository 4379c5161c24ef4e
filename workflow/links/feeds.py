"""Calendar feed rows and addresses: the live feed of a person, a new one, and where it is read."""

from __future__ import annotations

from datetime import datetime
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.links.models import CalendarFeed


def live_feed(session: Session, person_id: int) -> CalendarFeed | None:
    """The person's feed that has not been revoked (the newest, should there be several)."""
    return session.scalar(
        select(CalendarFeed)
        .where(CalendarFeed.person_id == person_id, CalendarFeed.revoked_at.is_(None))
        .order_by(CalendarFeed.id.desc())
        .limit(1)
    )


def new_feed(session: Session, person_id: int, now: datetime) -> CalendarFeed:
    feed = CalendarFeed(person_id=person_id, created_at=now, revoked_at=None)
    session.add(feed)
    session.flush()
    return feed


def feed_addresses(base_url: str, token: str) -> dict[str, str]:
    """A feed's https address and the same as webcal:// (which calendar apps subscribe to)."""
    base = base_url.rstrip("/")
    path = f"/calendar/{token}.ics"
    parts = urlsplit(base)
    return {"https": base + path, "webcal": f"webcal://{parts.netloc}{parts.path}{path}"}
