"""The När model: the structured timings, the context a phrase is read against, the errors."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from datetime import date
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

    freq: Literal["weekly", "biweekly", "monthly", "quarterly", "yearly"]
    weekdays: tuple[Weekday, ...] = ()  # weekly/biweekly; empty: the weekday the span starts on
    times: int = 1  # yearly only: "2 gånger/år"
    hour: int = Field(8, ge=0, le=23)
    minute: int = Field(0, ge=0, le=59)

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


class EventTiming(_Frozen):
    kind: Literal["event"]
    event: str = Field(min_length=1)
    follow_up_days: int = Field(10, ge=0)  # working days after the event


class CombinedTiming(_Frozen):
    kind: Literal["combined"]
    parts: tuple[Timing, ...] = Field(min_length=2)


Timing = Annotated[
    DeadlineTiming | WindowTiming | RecurringTiming | ContinuousTiming | EventTiming | CombinedTiming,
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


@dataclass(frozen=True)
class TimingContext:
    """What a phrase is read against: the agreement's period and time zone, terms and seasons."""

    period_start: date
    period_end: date
    tz: str = "Europe/Stockholm"
    terms: SchoolTerms = field(default_factory=SchoolTerms)
    seasons: Seasons = field(default_factory=Seasons)

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
