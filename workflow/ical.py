"""iCalendar helpers shared by meeting invitations and the calendar export: stable UIDs, VTIMEZONE.

A VTIMEZONE is written in the compact yearly-rule form that Outlook, Google and Thunderbird all read.

icalendar can describe a zone as a list of every past transition (RDATE); several readers
misapply that form. When a zone's transitions follow one yearly rule over the years exported
("last Sunday of March at 02:00"), it is written as two RRULE observances instead.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from icalendar import Calendar, Timezone, TimezoneDaylight, TimezoneStandard, vRecur

_DAYS = ["MO", "TU", "WE", "TH", "FR", "SA", "SU"]


@lru_cache(maxsize=256)
def _transitions(zone: ZoneInfo, year: int) -> tuple[tuple[datetime, timedelta, timedelta, str], ...]:
    """(local wall time just before, offset before, offset after, name after) of each change.
    Found hour by hour (8,760 steps), so remembered: every invitation of a year asks again."""
    out = []
    hour = datetime(year, 1, 1, tzinfo=ZoneInfo("UTC"))
    end = datetime(year + 1, 1, 1, tzinfo=ZoneInfo("UTC"))
    before = hour.astimezone(zone).utcoffset()
    while hour < end:
        after = (hour + timedelta(hours=1)).astimezone(zone).utcoffset()
        if after != before:
            change = hour + timedelta(hours=1)
            name = change.astimezone(zone).tzname() or ""
            out.append(((change + before).replace(tzinfo=None), before, after, name))
            before = after
        hour += timedelta(hours=1)
    return tuple(out)


def _rule(local: datetime) -> tuple[int, str, int, int]:
    """(month, BYDAY, hour, minute): the n:th weekday of the month, counted from the end when it
    falls in the month's last week ("-1SU")."""
    next_month = date(local.year + local.month // 12, local.month % 12 + 1, 1)
    days_to_end = (next_month - local.date()).days
    n = -1 if days_to_end <= 7 else (local.day - 1) // 7 + 1
    return local.month, f"{n}{_DAYS[local.weekday()]}", local.hour, local.minute


def vtimezone(tzid: str, first_year: int, last_year: int) -> Timezone:
    zone = ZoneInfo(tzid)
    years = [_transitions(zone, y) for y in range(first_year, last_year + 1)]
    shapes = {tuple((_rule(t[0]), t[1], t[2]) for t in ts) for ts in years}
    if len(shapes) != 1 or len(next(iter(shapes))) != 2:
        return Timezone.from_tzid(
            tzid, first_date=date(first_year, 1, 1), last_date=date(last_year + 1, 1, 1)
        )
    tz = Timezone()
    tz.add("tzid", tzid)
    for local, before, after, name in years[0]:
        month, byday, hour, minute = _rule(local)
        part = TimezoneDaylight() if after > before else TimezoneStandard()
        part.add("dtstart", datetime(1970, 1, 1, hour, minute) + _first_match(month, byday))
        part.add("rrule", vRecur(freq="YEARLY", bymonth=month, byday=byday))
        part.add("tzoffsetfrom", before)
        part.add("tzoffsetto", after)
        part.add("tzname", name)
        tz.add_component(part)
    return tz


def _first_match(month: int, byday: str) -> timedelta:
    """Days from 1970-01-01 to the first day of 1970 that matches the rule (DTSTART must match)."""
    n, weekday = int(byday[:-2]), _DAYS.index(byday[-2:])
    days = [date(1970, month, d) for d in range(1, 32) if _valid(1970, month, d)]
    matching = [d for d in days if d.weekday() == weekday]
    chosen = matching[n] if n < 0 else matching[n - 1]
    return chosen - date(1970, 1, 1)


def _valid(year: int, month: int, day: int) -> bool:
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def uid(agreement_key: str, kind: str, key: str) -> str:
    """The UID of an event: the same in the export and in every invitation, update and cancellation."""
    return f"{agreement_key}.{kind}.{key}@trygg"


def with_sent_by(ics: str, address: str) -> str:
    """The calendar object with `SENT-BY="mailto:<address>"` on each ORGANIZER that is not that
    address: the mail comes from trygg on the organizer's behalf (see workflow.meetings.invitation).
    Added where the mail is sent, since the From address is delivery's setting, not the meeting's."""
    cal = Calendar.from_ical(ics)
    changed = False
    for event in cal.walk("VEVENT"):
        organizer = event.get("organizer")
        if organizer is None or str(organizer).lower() == f"mailto:{address}".lower():
            continue
        organizer.params["SENT-BY"] = f"mailto:{address}"
        changed = True
    return cal.to_ical().decode("utf-8") if changed else ics
