"""The yearly report's measures as pure functions: the report and the leadership's overview both use them.

A deadline of the year is met on time, late, or not yet due; the year's verdict is the share met on
time of those that fell due. Minutes are on time, late or missing by the meetings policy. One place,
so the overview's figures and the report's tables cannot disagree.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timedelta

TIMELINESS = ("on_time", "late", "pending")


def as_of(year: int, today: date) -> date:
    """The day a year's report is made as of: today, or the year's last day once it is over."""
    return min(today, date(year, 12, 31))


def timeliness(deadline: date, done_on: date | None, day: date) -> str:
    """How one deadline went as of `day`: met on time, late (done late or still open past it), or pending."""
    if done_on is not None:
        return "on_time" if done_on <= deadline else "late"
    return "late" if deadline < day else "pending"


@dataclass(frozen=True)
class Verdict:
    """The year in one line: of the deadlines that fell due, how many were met on time."""

    on_time: int
    late: int
    pending: int

    @property
    def due(self) -> int:
        return self.on_time + self.late

    @property
    def rate(self) -> float | None:
        """The on-time rate (0..1); None when nothing fell due yet."""
        return self.on_time / self.due if self.due else None

    @property
    def percent(self) -> int | None:
        return None if self.rate is None else round(100 * self.rate)


def verdict(counts: Iterable[Mapping[str, int]]) -> Verdict:
    """The verdict of per-month (or any) counts of on_time/late/pending."""
    total = {k: 0 for k in TIMELINESS}
    for row in counts:
        for k in TIMELINESS:
            total[k] += row.get(k, 0)
    return Verdict(**total)


def minutes_standing(
    first_recorded_at: datetime | None,
    ends_at: datetime,
    starts_on: date,
    cancelled: bool,
    day: date,
    due: timedelta,
) -> str | None:
    """The minutes of one meeting as of `day`: on time, late, missing, or None (not yet expected)."""
    if first_recorded_at is None:
        return "missing" if starts_on < day and not cancelled else None
    return "on_time" if first_recorded_at - ends_at <= due else "late"


@dataclass(frozen=True)
class Provisional:
    """Figures made before the year's last deadlines: how many are still to come, and the last one."""

    pending: int
    last: date


def provisional(open_deadlines: Iterable[date], day: date) -> Provisional | None:
    """Whether figures as of `day` are provisional: some of the year's open deadlines are still ahead."""
    ahead = [d for d in open_deadlines if d >= day]
    return Provisional(len(ahead), max(ahead)) if ahead else None
