"""A meeting as iCalendar: an invitation (REQUEST), a cancellation (CANCEL), a published copy (PUBLISH).

The UID is the one the calendar export uses, so an invitation, its updates (SEQUENCE raised on
every change), its cancellation, the year's meeting plan and the published feed all speak of the
same event.

Who is who. The coordinator convenes, so she is the ORGANIZER; the mail comes From trygg's
address, which delivery writes into the ORGANIZER as `SENT-BY` (`workflow.ical.with_sent_by`).
That form, not "From the coordinator, Sender trygg", because:
- It is the standard's form for a calendar user acting for the organizer (RFC 5545 §3.2.18),
  and the one iMIP readers check the originator against; Exchange itself models invitations
  sent for someone else with a delegate beside the organizer (MS-OXCICAL, X-MS-OLK-SENDER).
  The value must be a quoted "mailto:" URI: unquoted, Gmail shows "Unknown Organizer"
  (markuspoerschke/iCal issues #501 and #642); icalendar quotes it.
- A From in the municipality's domain sent by trygg's server fails DMARC alignment (RFC 7489
  §3.1): with the domain's p=reject, Gmail and Outlook.com would refuse or junk every invitation.
The organizer is never an ATTENDEE, and attendees have RSVP=FALSE: answers go through the mail's
links; a calendar client's "Accept" would otherwise land, unread, in the coordinator's mailbox
(pretix/pretix#3211 saw exactly those replies). The coordinator's own copy is a PUBLISH of the
same event (no attendees): a REQUEST naming her as organizer is one Outlook and Google treat as
already hers and do not add (ical4j/ical4j#340), while a PUBLISH is added, and updated by UID.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event, vCalAddress, vText

from workflow.agreement.models import Agreement, Person
from workflow.ical import uid, vtimezone
from workflow.meetings.models import Meeting, MeetingStatus

Method = Literal["REQUEST", "CANCEL", "PUBLISH"]


def _address(person: Person, role: str | None = None) -> vCalAddress:
    address = vCalAddress(f"mailto:{person.email}")
    address.params["CN"] = vText(person.name)
    if role:
        address.params["ROLE"] = vText(role)
        address.params["PARTSTAT"] = vText("NEEDS-ACTION")
        address.params["RSVP"] = vText("FALSE")  # answers go through the mail's links
    return address


def _calendar(method: Method, tz: str, first_year: int, last_year: int) -> Calendar:
    cal = Calendar()
    cal.add("prodid", "-//trygg//samverkan kommun-polis//SV")
    cal.add("version", "2.0")
    cal.add("method", method)
    cal.add("calscale", "GREGORIAN")
    cal.add_component(vtimezone(tz, first_year, last_year))
    return cal


def meeting_event(
    agreement: Agreement,
    meeting: Meeting,
    *,
    organizer: Person | None,
    attendees: Iterable[tuple[Person, bool]],
    method: Method,
    stamp: datetime,
    description: str = "",
) -> Event:
    """One VEVENT; `attendees` are (person, co-opted), a co-opted guest an optional participant.
    A PUBLISH lists no attendees (RFC 5546 §3.2.1), and nobody is asked to answer."""
    zone = ZoneInfo(agreement.timezone)
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
    cancelled = method == "CANCEL" or meeting.status == MeetingStatus.CANCELLED
    event.add("status", "CANCELLED" if cancelled else "CONFIRMED")
    if organizer is not None:
        event.add("organizer", _address(organizer))
    if method != "PUBLISH":
        for person, co_opted in attendees:
            if organizer is not None and person.id == organizer.id:
                continue  # the organizer is never an attendee of her own meeting
            event.add("attendee", _address(person, "OPT-PARTICIPANT" if co_opted else "REQ-PARTICIPANT"))
    return event


def meeting_ics(
    agreement: Agreement,
    meeting: Meeting,
    *,
    organizer: Person | None,
    attendees: Iterable[tuple[Person, bool]],
    method: Method,
    stamp: datetime,
    description: str = "",
) -> bytes:
    """One meeting as a calendar object of `method`."""
    cal = _calendar(method, agreement.timezone, meeting.starts_at.year, meeting.ends_at.year)
    cal.add_component(
        meeting_event(
            agreement,
            meeting,
            organizer=organizer,
            attendees=attendees,
            method=method,
            stamp=stamp,
            description=description,
        )
    )
    return cal.to_ical()


def meetings_publish(
    agreement: Agreement,
    meetings: list[Meeting],
    *,
    organizer: Person | None,
    stamp: datetime,
    name: str,
    descriptions: dict[int, str] | None = None,
) -> bytes:
    """Several meetings as one METHOD:PUBLISH file (the year's plan): a calendar holds each slot
    under the UID its invitation will later update."""
    years = [m.starts_at.year for m in meetings] or [stamp.year]
    cal = _calendar("PUBLISH", agreement.timezone, min(years), max(years))
    cal.add("x-wr-calname", name)
    for meeting in meetings:
        cal.add_component(
            meeting_event(
                agreement,
                meeting,
                organizer=organizer,
                attendees=(),
                method="PUBLISH",
                stamp=stamp,
                description=(descriptions or {}).get(meeting.id, ""),
            )
        )
    return cal.to_ical()
