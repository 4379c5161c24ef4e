"""A meeting as an iCalendar invitation (METHOD:REQUEST) or cancellation (METHOD:CANCEL).

The UID is the one the calendar export uses, so an invitation, its updates (SEQUENCE raised on
every change), its cancellation and the published feed all speak of the same event.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from workflow.agreement.models import Agreement, Person
from workflow.ical import uid, vtimezone
from workflow.meetings.models import Meeting


def _address(person: Person, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    if role:
        address.params["ROLE"] = vText(role)
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("TRUE")
    return address


def meeting_ics(
    agreement: Agreement,
    meeting: Meeting,
    *,
    organizer: Person,
    attendees: Iterable[tuple[Person, bool]],
    method: Literal["REQUEST", "CANCEL"],
    stamp: datetime,
    description: str = "",
) -> bytes:
    """`attendees` are (person, co-opted); a co-opted guest is an optional participant."""
    zone = ZoneInfo(agreement.timezone)
    cal = Calendar()
    cal.add("prodid", "-//trygg//samverkan kommun-polis//SV")
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add_component(vtimezone(agreement.timezone, meeting.starts_at.year, meeting.ends_at.year))
    event = Event()
    event.add("uid", uid(agreement.key, "meeting", meeting.key))
    event.add("dtstamp", stamp)
    event.add("sequence", meeting.sequence)
    event.add("summary", meeting.title)
    event.add("dtstart", meeting.starts_at.astimezone(zone))
    event.add("dtend", meeting.ends_at.astimezone(zone))
    if meeting.location:
        event.add("location", meeting.location)
    if description:
        event.add("description", description)
    event.add("status", "CANCELLED" if method == "CANCEL" else "CONFIRMED")
    event.add("organizer", _address(organizer))
    for person, co_opted in attendees:
        event.add("attendee", _address(person, "OPT-PARTICIPANT" if co_opted else "REQ-PARTICIPANT"))
    cal.add_component(event)
    return cal.to_ical()
