"""Injected time: domain code asks a Clock, never datetime.now(), so it runs live and simulated."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import Protocol
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError


class Clock(Protocol):
    def now(self) -> datetime:
        """The current instant, aware, in UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


@dataclass
class FixedClock:
    """A clock that only moves when told to: tests and the simulation."""

    instant: datetime

    def __post_init__(self) -> None:
        if self.instant.tzinfo is None:
            raise ValueError("FixedClock needs an aware datetime")
        self.instant = self.instant.astimezone(UTC)

    def now(self) -> datetime:
        return self.instant

    def advance(self, delta: timedelta) -> None:
        self.instant += delta


def known_zone(name: str) -> str:
    """`name` if it is an IANA time zone this machine knows, else ValueError."""
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ValueError(
            f"unknown time zone {name!r}"
        ) from exc  # operators' settings; the file's in its schema
    return name


# The instants and days trygg accepts from outside (options, files, broker messages): far
# enough either way for any real agreement, and far from the ends of Python's datetime, so
# that no date arithmetic on them overflows.
FIRST_YEAR, LAST_YEAR = 1970, 2200
EARLIEST_DAY, LATEST_DAY = date(FIRST_YEAR, 1, 1), date(LAST_YEAR, 12, 31)


class OutOfWindow(ValueError):
    """An instant or a day outside the years trygg accepts (the CLI and the schema say it in the
    reader's language; this message is for logs)."""


def day_in_window(day: date) -> date:
    """`day` if it lies in FIRST_YEAR–LAST_YEAR, else OutOfWindow."""
    if not EARLIEST_DAY <= day <= LATEST_DAY:
        raise OutOfWindow(f"{day.isoformat()} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    return day


def in_window(instant: datetime) -> datetime:
    """An aware `instant` if its UTC date lies in FIRST_YEAR–LAST_YEAR, else OutOfWindow."""
    if instant.tzinfo is None:
        raise ValueError("an aware datetime is needed")
    if not EARLIEST_DAY.year <= instant.year <= LATEST_DAY.year:  # before astimezone can overflow
        raise OutOfWindow(f"{instant.isoformat()} is outside the years {FIRST_YEAR}–{LAST_YEAR}")
    day_in_window(instant.astimezone(UTC).date())
    return instant
