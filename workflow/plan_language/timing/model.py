"""The När model: the structured timings, the context a phrase is read against, the errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
    model_validator,
)

from workflow.i18n import LazyText, _l

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
TIMES_PER_YEAR = (1, 2, 3, 4, 6, 12)  # evenly spread over the year's months
EVENING = (22, 0)
YEARS = range(1900, 2201)  # a plan's dates; also keeps date arithmetic away from date.max


def _plausible(d: date) -> date:
    if d.year not in YEARS:
        raise ValueError(f"year {d.year} is outside {YEARS.start}..{YEARS.stop - 1}")
    return d


PlanDate = Annotated[date, AfterValidator(_plausible)]


# --- the structured form -------------------------------------------------------------------


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Rule(_Frozen):
    """How often something recurs, and at which local time of day."""

    freq: Literal["daily", "weekly", "biweekly", "monthly", "quarterly", "yearly"]
    weekdays: tuple[Weekday, ...] = ()  # weekly/biweekly; empty: the weekday the span starts on
    times: int = 1  # yearly only: "2 gånger/år"
    hour: int = Field(8, ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)
    until: str | None = Field(None, pattern=r"^([01][0-9]|2[0-3]):[0-5][0-9]$")  # "kl. 22–02": ends 02:00

    @field_validator("weekdays")
    @classmethod
    def _in_week_order(cls, days: tuple[Weekday, ...]) -> tuple[Weekday, ...]:
        return tuple(d for d in WEEKDAYS if d in days)

    @model_validator(mode="after")
    def _consistent(self) -> Rule:
        if self.weekdays and self.freq not in ("weekly", "biweekly"):
            raise ValueError("weekdays only go with freq weekly or biweekly")
        if self.times != 1 and self.freq != "yearly":
            raise ValueError("times only goes with freq yearly")
        if self.times not in TIMES_PER_YEAR:
            raise ValueError(f"times must be one of {TIMES_PER_YEAR} (spread evenly over months)")
        return self


class _Spanned(_Frozen):
    @model_validator(mode="after")
    def _ordered(self) -> _Spanned:
        start, end = getattr(self, "start", None), getattr(self, "end", None)
        if start and end and start > end:
            raise ValueError("start must not be after end")
        return self


class DeadlineTiming(_Frozen):
    kind: Literal["deadline"]
    due: PlanDate


class WindowTiming(_Spanned):
    kind: Literal["window"]
    start: PlanDate
    end: PlanDate


class RecurringTiming(_Spanned):
    kind: Literal["recurring"]
    rule: Rule
    start: PlanDate | None = None
    end: PlanDate | None = None


class ContinuousTiming(_Spanned):
    kind: Literal["continuous"]
    start: PlanDate | None = None
    end: PlanDate | None = None
    follow_up: Rule | None = None
    note: str | None = None  # when within the days, for people: "öppettider"


class OccasionsTiming(_Spanned):
    """A count to follow up, not a recurrence on fixed days: "minst 4 tillfällen under 2026"
    (within the span, due at its end) or "2 gånger per månad" (each month, followed up at its end)."""

    kind: Literal["occasions"]
    times: int = Field(ge=1, le=1000)
    at_least: bool = False  # "minst"
    per: Literal["week", "month", "term", "year"] | None = None
    start: PlanDate | None = None
    end: PlanDate | None = None


class AsNeededTiming(_Spanned):
    """Done when needed ("Vid behov"): no deadline, no follow-up, no event to record."""

    kind: Literal["as_needed"]
    start: PlanDate | None = None
    end: PlanDate | None = None


class EventTiming(_Frozen):
    kind: Literal["event"]
    event: str = Field(min_length=1)
    follow_up_days: int = Field(10, ge=0)  # working days after the event


class CombinedTiming(_Frozen):
    kind: Literal["combined"]
    parts: tuple[Timing, ...] = Field(min_length=2)


Timing = Annotated[
    DeadlineTiming
    | WindowTiming
    | RecurringTiming
    | ContinuousTiming
    | OccasionsTiming
    | AsNeededTiming
    | EventTiming
    | CombinedTiming,
    Field(discriminator="kind"),
]
CombinedTiming.model_rebuild()
TIMING: TypeAdapter[Timing] = TypeAdapter(Timing)


def to_data(timing: Timing) -> dict[str, Any]:
    """The compact JSON/YAML form of a timing (defaults left out)."""
    return TIMING.dump_python(timing, mode="json", exclude_defaults=True)


def as_yaml(timing: Timing) -> str:
    """`timing: {kind: …}`, the line a coordinator can write instead of a phrase."""
    return "timing: " + flow(to_data(timing))


def flow(value: Any) -> str:
    """A value in YAML flow style, as a coordinator would write it on one line."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(flow(v) for v in value) + "]"
    if isinstance(value, str) and not re.fullmatch(r"[\w.:-]+", value):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- the context ---------------------------------------------------------------------------

MonthDay = tuple[int, int]
Span = tuple[date, date]  # first and last day, inclusive


@dataclass(frozen=True)
class YearlySpan:
    """A span that comes back each year, by (month, day)."""

    start: MonthDay
    end: MonthDay

    def in_year(self, year: int) -> tuple[date, date]:
        return date(year, *self.start), date(year, *self.end)


@dataclass(frozen=True)
class SchoolTerms:
    """Swedish school terms; the real dates vary by municipality and year, so they are settings.

    Defaults: höstterminen mid-August to just before Christmas (08-15..12-20),
    vårterminen after Epiphany to mid-June (01-09..06-15).
    """

    autumn: YearlySpan = YearlySpan((8, 15), (12, 20))
    spring: YearlySpan = YearlySpan((1, 9), (6, 15))


@dataclass(frozen=True)
class Seasons:
    """Meteorological seasons: våren 03-01..05-31, sommaren 06-01..08-31, hösten 09-01..11-30.

    Winter is left out on purpose: it straddles a new year, so "vintern 2012" is ambiguous.
    """

    spring: YearlySpan = YearlySpan((3, 1), (5, 31))
    summer: YearlySpan = YearlySpan((6, 1), (8, 31))
    autumn: YearlySpan = YearlySpan((9, 1), (11, 30))


HOLIDAYS = ("sportlov", "påsklov", "sommarlov", "höstlov", "jullov")


@dataclass(frozen=True)
class SchoolHolidays:
    """The school holidays by name and year: the agreement's `calendar.holidays` where it gives
    them, else defaults that follow the terms and the calendar.

    Defaults: sportlov ISO week 8, påsklov the week after Easter Sunday (Monday–Friday),
    höstlov ISO week 44, sommarlov from the day after vårterminen to the day before
    höstterminen, jullov from the day after höstterminen to the day before next vårterminen.
    Municipalities differ (sportlov is week 7–10 by county), hence the setting.
    """

    given: tuple[tuple[str, date, date], ...] = ()  # (name, first day, last day)

    def in_year(self, name: str, year: int, terms: SchoolTerms) -> Span:
        for given, start, end in self.given:
            if given == name and start.year == year:
                return start, end
        return _default_holiday(name, year, terms)


def _default_holiday(name: str, year: int, terms: SchoolTerms) -> Span:
    def week(n: int) -> Span:
        monday = date.fromisocalendar(year, n, 1)
        return monday, monday + timedelta(days=4)

    if name == "sportlov":
        return week(8)
    if name == "höstlov":
        return week(44)
    if name == "påsklov":
        monday = easter_sunday(year) + timedelta(days=1)
        return monday, monday + timedelta(days=4)
    spring_end = terms.spring.in_year(year)[1]
    autumn_start, autumn_end = terms.autumn.in_year(year)
    if name == "sommarlov":
        return spring_end + timedelta(days=1), autumn_start - timedelta(days=1)
    if name == "jullov":
        return autumn_end + timedelta(days=1), terms.spring.in_year(year + 1)[0] - timedelta(days=1)
    raise ValueError(f"no school holiday {name!r}")


def easter_sunday(year: int) -> date:
    """Easter Sunday in the Gregorian calendar (the anonymous Gregorian algorithm)."""
    a, b, c = year % 19, year // 100, year % 100
    d, e = divmod(b, 4)
    g = (8 * b + 13) // 25
    h = (19 * a + b - d - g + 15) % 30
    i, k = divmod(c, 4)
    lv = (32 + 2 * e + 2 * i - h - k) % 7
    m = (a + 11 * h + 22 * lv) // 451
    month, day = divmod(h + lv - 7 * m + 114, 31)
    return date(year, month, day + 1)


@dataclass(frozen=True)
class TimingContext:
    """What a phrase is read against: the agreement's period and time zone, terms, seasons and
    school holidays, and the plan's own year (`Handlingsplan 2026`, `--year`) if it has one."""

    period_start: date
    period_end: date
    tz: str = "Europe/Stockholm"
    terms: SchoolTerms = field(default_factory=SchoolTerms)
    seasons: Seasons = field(default_factory=Seasons)
    holidays: SchoolHolidays = field(default_factory=SchoolHolidays)
    year: int | None = None  # the plan's year: dates a phrase that leaves the year out

    def __post_init__(self) -> None:
        if self.period_start > self.period_end:
            raise ValueError("period_start must not be after period_end")
        ZoneInfo(self.tz)  # fail here, not at the first recurrence


class TimingError(ValueError):
    """A När phrase that cannot be read, with the structured form to write instead."""

    def __init__(self, phrase: str, message: LazyText, suggestion: str):
        self.phrase, self.message, self.suggestion = phrase, message, suggestion
        super().__init__(
            _l(
                "%(reason)s: %(phrase)r. Write instead: %(suggestion)s",
                reason=message,
                phrase=phrase,
                suggestion=suggestion,
            )
        )
