"""Swedish working days: which dates are off, where a deadline lands, when a mail may go out."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

import holidays
from holidays import DE_FACTO, PUBLIC

DeadlineShift = Literal["earlier", "later"]

_WEEKEND_NAMES = {5: "lördag", 6: "söndag"}


class WorkCalendar:
    """Swedish public holidays plus midsommar-, jul- and nyårsafton, and weekends, are days off.

    Only deadlines and send times are moved by this calendar; operational occurrences
    (a Friday patrol on Good Friday) stay where they are.
    """

    def __init__(self, tz: str = "Europe/Stockholm", deadline_shift: DeadlineShift = "earlier"):
        if deadline_shift not in ("earlier", "later"):
            raise ValueError(f"deadline_shift must be 'earlier' or 'later', not {deadline_shift!r}")
        self.tz = ZoneInfo(tz)
        self.deadline_shift: DeadlineShift = deadline_shift
        # DE_FACTO brings the three eves that the Annual Leave Act treats like Sundays.
        # Sundays are left out explicitly: weekends are handled by weekday, and the
        # package's default for Sundays has changed between versions.
        self._holidays = holidays.country_holidays(
            "SE", categories=(PUBLIC, DE_FACTO), language="sv", include_sundays=False
        )
        # A calendar never changes once made: what it said of a day, or of n working days from a
        # day, is kept (a page of many agreements asks the same days thousands of times).
        self._days_off: dict[date, str | None] = {}
        self._added: dict[tuple[date, int], date] = {}

    def holiday_name(self, d: date) -> str | None:
        """The Swedish name of the holiday on `d`, if any (weekends aside)."""
        return self._holidays.get(d)

    def day_off_name(self, d: date) -> str | None:
        """Why `d` is a day off ("Julafton", "lördag", …), or None for a working day."""
        try:
            return self._days_off[d]
        except KeyError:
            name = self._days_off[d] = self.holiday_name(d) or _WEEKEND_NAMES.get(d.weekday())
            return name

    def is_working_day(self, d: date) -> bool:
        return self.day_off_name(d) is None

    def next_working_day(self, d: date) -> date:
        """`d` itself if it is a working day, else the first working day after it."""
        while not self.is_working_day(d):
            d += timedelta(days=1)
        return d

    def previous_working_day(self, d: date) -> date:
        """`d` itself if it is a working day, else the last working day before it."""
        while not self.is_working_day(d):
            d -= timedelta(days=1)
        return d

    def adjust_deadline(self, d: date) -> date:
        """A deadline on a day off moves to the previous working day (or the next, if so configured)."""
        if self.deadline_shift == "earlier":
            return self.previous_working_day(d)
        return self.next_working_day(d)

    def add_working_days(self, d: date, n: int) -> date:
        """The date `n` working days after `d` (before it when n < 0); `d` itself when n == 0."""
        known = self._added.get((d, n))
        if known is not None:
            return known
        start, step, remaining = d, timedelta(days=1 if n > 0 else -1), abs(n)
        while remaining:
            d += step
            if self.is_working_day(d):
                remaining -= 1
        self._added[(start, n)] = d
        return d

    def working_days_between(self, start: date, end: date) -> int:
        """How many working days lie after `start` up to and including `end` (0 when end <= start):
        a deadline on Friday is 4 working days away on an ordinary Monday."""
        count, d = 0, start
        while d < end:
            d += timedelta(days=1)
            count += self.is_working_day(d)
        return count

    def send_time(self, d: date, hour: int = 8, minute: int = 0) -> datetime:
        """The local hour on `d`, or on the next working day if `d` is off; as aware UTC."""
        return self._local_slot(self.next_working_day(d), hour, minute)

    def next_send_time(self, instant: datetime, hour: int = 8, minute: int = 0) -> datetime:
        """The first local hour-slot on a working day at or after the aware `instant`, in UTC."""
        if instant.tzinfo is None or instant.utcoffset() is None:
            raise ValueError("next_send_time needs an aware datetime")
        day = instant.astimezone(self.tz).date()
        slot = self.send_time(day, hour, minute)
        if slot < instant:
            slot = self.send_time(day + timedelta(days=1), hour, minute)
        return slot

    def _local_slot(self, d: date, hour: int, minute: int) -> datetime:
        # Going through UTC normalises a wall time that a DST change skips.
        local = datetime.combine(d, time(hour, minute), tzinfo=self.tz)
        return local.astimezone(UTC)
