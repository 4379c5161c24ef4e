"""The desk's view of meetings: the year's meetings with their attendance, expected (answers) and actual."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session, selectinload

from workflow.agreement.models import Agreement
from workflow.meetings.models import Invitee, Meeting


@dataclass(frozen=True)
class Attendance:
    invited: int
    coming: int  # answered yes
    declined: int  # answered no
    attended: int | None  # None until the minutes say who came


def attendance(meeting: Meeting) -> Attendance:
    recorded = [i.attended for i in meeting.invitees if i.attended is not None]
    return Attendance(
        invited=len(meeting.invitees),
        coming=sum(i.answer == "yes" for i in meeting.invitees),
        declined=sum(i.answer == "no" for i in meeting.invitees),
        attended=sum(recorded) if recorded else None,
    )


def meetings_of_year(session: Session, agreement: Agreement, year: int) -> list[Meeting]:
    return list(
        session.scalars(
            select(Meeting)
            .where(Meeting.agreement_id == agreement.id, Meeting.year == year)
            .options(selectinload(Meeting.invitees))
            .order_by(Meeting.starts_at)
        )
    )


def years_of(session: Session, agreement: Agreement) -> list[int]:
    return sorted(set(session.scalars(select(Meeting.year).where(Meeting.agreement_id == agreement.id))))


def invitees_of(session: Session, meeting: Meeting) -> list[Invitee]:
    return sorted(meeting.invitees, key=lambda i: (i.co_opted, i.person.name))


def local_input(instant: datetime, tz: str) -> str:
    """An instant as a datetime-local field shows it, in the agreement's zone."""
    return instant.astimezone(ZoneInfo(tz)).strftime("%Y-%m-%dT%H:%M")


def parse_local(text: str, tz: str) -> datetime | None:
    """A datetime-local field's YYYY-MM-DDTHH:MM in the agreement's zone, or None when unreadable."""
    try:
        naive = datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return naive.replace(tzinfo=ZoneInfo(tz)) if naive.tzinfo is None else naive
