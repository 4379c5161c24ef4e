"""Writing the calendar as an iCalendar file (METHOD:PUBLISH) that Outlook, Thunderbird and Google import."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from icalendar import Calendar, Event

from workflow.calendar.events import CalendarEvent
from workflow.ical import vtimezone


def to_ics(events: list[CalendarEvent], *, name: str, tz: str, stamp: datetime) -> bytes:
    """One VEVENT per event, times in the agreement's zone with its VTIMEZONE; `stamp` is
    the DTSTAMP (when this export was made: injected, so the same data gives the same file)."""
    cal = Calendar()
    cal.add("prodid", "-//trygg//samverkan kommun-polis//SV")
    cal.add("version", "2.0")
    cal.add("method", "PUBLISH")
    cal.add("calscale", "GREGORIAN")
    cal.add("x-wr-calname", name)
    cal.add("x-wr-timezone", tz)
    years = [e.day.year for e in events] or [stamp.year]
    cal.add_component(vtimezone(tz, min(years), max(years)))
    zone = ZoneInfo(tz)
    for ev in events:
        vevent = Event()
        vevent.add("uid", ev.uid)
        vevent.add("dtstamp", stamp)
        vevent.add("summary", ev.summary)
        if ev.all_day:
            vevent.add("dtstart", ev.start)
            vevent.add("dtend", ev.end + timedelta(days=1))  # DTEND of an all-day event is exclusive
            vevent.add("transp", "TRANSPARENT")  # a deadline does not make anyone busy
        else:
            vevent.add("dtstart", ev.start.astimezone(zone))
            vevent.add("dtend", ev.end.astimezone(zone))
        vevent.add("sequence", ev.sequence)
        vevent.add("status", "CANCELLED" if ev.cancelled else "CONFIRMED")
        vevent.add("categories", [ev.kind])
        if ev.description:
            vevent.add("description", ev.description)
        if ev.location:
            vevent.add("location", ev.location)
        cal.add_component(vevent)
    return cal.to_ical()
