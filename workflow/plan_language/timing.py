"""The När (when) of an activity: structured timings, the Swedish phrase parser, and their dates.

A plan gives either a phrase (`when: Under höstterminen 2012`) or the structured form
(`timing: {kind: window, start: 2012-08-15, end: 2012-12-20}`); both end up as a `Timing`.

Kinds and what they mean for the engine:
- deadline:   something is due on `due`.
- window:     done some time within start..end ("Under 2012"); due at `end`.
- recurring:  operational occurrences by a `Rule` ("varje fredag och lördag",
              "Under helgkvällar/nätter" = Fri and Sat at 22:00, "2 gånger/år").
              Rules of a month or longer are also followed up on each occurrence.
- continuous: ongoing work without a due date ("Kontinuerligt", "Löpande", "Under öppettider"),
              optionally with a dated follow-up rule ("Uppföljning månadsvis").
- event:      due `follow_up_days` working days after an outside event ("vid remissförfarande").
- combined:   several of the above ("2 gånger/år samt vid remissförfarande").
Recurring and continuous timings without start/end span the agreement period.

Defaults (see SchoolTerms, Seasons): höstterminen 08-15..12-20, vårterminen 01-09..06-15,
våren 03-01..05-31, sommaren 06-01..08-31, hösten 09-01..11-30. "Vecka N" is its working
week, Monday..Friday, so it is due on the Friday. Month-scale rules fall on the last day of
each month, quarter or 12/times months (the report is due when the period is over).
"kväll"/"natt" words put a rule at 22:00, "kl HH[:MM]" at that time, otherwise 08:00.
A phrase without a year means the first such date or span that is not over before the period.
Reading is case- and space-insensitive; close misspellings of the grammar's words of six
letters or more are corrected ("projektiden" → "projekttiden").
"""

from __future__ import annotations

import calendar
import difflib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    field_validator,
    model_validator,
)

from workflow.workdays import WorkCalendar

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
    return "timing: " + _flow(to_data(timing))


def _flow(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_flow(v)}" for k, v in value.items()) + "}"
    if isinstance(value, (list, tuple)):
        return "[" + ", ".join(_flow(v) for v in value) + "]"
    if isinstance(value, str) and not re.fullmatch(r"[\w.:-]+", value):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


# --- the context ---------------------------------------------------------------------------

MonthDay = tuple[int, int]


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

    def __init__(self, phrase: str, message: str, suggestion: str):
        self.phrase, self.message, self.suggestion = phrase, message, suggestion
        super().__init__(f"{message}: {phrase!r}. Skriv i stället / write instead: {suggestion}")


class _Invalid(Exception):
    """Raised inside the parser; parse_when adds the phrase."""

    def __init__(self, message: str, suggestion: Timing | None = None):
        super().__init__(message)
        self.message, self.suggestion = message, suggestion


# --- the vocabulary ------------------------------------------------------------------------

_MONTHS = {
    "januari": 1, "jan": 1, "februari": 2, "feb": 2, "mars": 3, "mar": 3, "april": 4, "apr": 4,
    "maj": 5, "juni": 6, "jun": 6, "juli": 7, "jul": 7, "augusti": 8, "aug": 8,
    "september": 9, "sept": 9, "sep": 9, "oktober": 10, "okt": 10, "november": 11, "nov": 11,
    "december": 12, "dec": 12,
}  # fmt: skip
_DAYS: dict[str, Weekday] = {
    "måndag": "mon", "tisdag": "tue", "onsdag": "wed", "torsdag": "thu",
    "fredag": "fri", "lördag": "sat", "söndag": "sun",
}  # fmt: skip
_NUMBERS = {"en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6,
            "sju": 7, "åtta": 8, "nio": 9, "tio": 10, "elva": 11, "tolv": 12}  # fmt: skip

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = rf"(?:{'|'.join(_DAYS)})(?:arna|ar|en|s)?-?"
_NUMBER = rf"[0-9]+|{'|'.join(_NUMBERS)}"
_TIME_WORD = r"(?:kvällarna|kvällstid|kvällar|kvällen|kväll|nätterna|nattetid|nätter|natten|natt)"
_YEAR4 = r"(?P<year>[0-9]{4})"
_OPT_YEAR = rf"(?:\s*{_YEAR4})?"
_END = r"(?![^\W\d_])"  # not followed by a letter

_SPLIT = re.compile(r"\s*(?:\bsamt\b|;|\boch\s+(?=vid\b|i samband med\b))\s*")
_EVENT = re.compile(r"(?:(?:kontinuerligt|löpande)\s+)?(?:vid|i samband med)\s+(?P<event>.*\S)")
_FOLLOW_UP = re.compile(r"\b(?:uppföljning(?:ar|en)?|följs upp|uppföljs)\b")
_CONTINUOUS = re.compile(
    r"\b(?:kontinuerlig(?:t|a)?|fortlöpande|löpande|regelbundet|ständigt|pågående|hela tiden)\b"
)
_CLOCK = re.compile(r"\b(?:kl\.?|klockan)\s*(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{2}))?\b")
_TIME_WORDS = re.compile(rf"\s*/?\s*\b{_TIME_WORD}\b")
_LEAD = re.compile(r"^(?:(?:under|på|i|om|för|inom|hela)\s+)+")
_OPENING_HOURS = re.compile(rf"öppet(?:tider(?:na)?|tid(?:en)?){_END}")
_DEADLINE = re.compile(r"(?:senast|till och med|t\.?o\.?m\.?)\s+(?:den\s+)?")


# --- reading dates and spans ---------------------------------------------------------------


def _year(text: str) -> int:
    year = int(text) + (2000 if len(text) == 2 else 0)
    if year not in YEARS:
        raise _Invalid(f"året {year} är orimligt / year out of range")
    return year


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            raise _Invalid(f"månad {month} finns inte / no such month") from None
        last = calendar.monthrange(year, month)[1]
        fixed = date(year, month, min(max(day, 1), last))
        raise _Invalid(
            f"datumet {year}-{month:02}-{day:02} finns inte / no such date",
            DeadlineTiming(kind="deadline", due=fixed),
        ) from None


Span = tuple[date, date]


def _in_period(ctx: TimingContext, make: Callable[[int], Span]) -> Span:
    """A year-less span: its first instance that is not over before the period starts."""
    first_error: _Invalid | None = None
    found: Span | None = None
    for year in range(ctx.period_start.year, ctx.period_end.year + 1):
        try:
            span = make(year)
        except _Invalid as error:
            first_error = first_error or error
            continue
        if span[1] >= ctx.period_start:
            return span
        found = found or span
    if found:
        return found
    raise first_error or _Invalid("finns inte under perioden / not within the period")


def _dated(m: re.Match[str], ctx: TimingContext, make: Callable[[int], Span]) -> Span:
    return make(_year(m["year"])) if m["year"] else _in_period(ctx, make)


def _week(m: re.Match[str], ctx: TimingContext) -> Span:
    week = int(m["week"])

    def make(year: int) -> Span:
        weeks = date(year, 12, 28).isocalendar().week
        if not 1 <= week <= weeks:
            monday = date.fromisocalendar(year, min(max(week, 1), weeks), 1)
            raise _Invalid(
                f"vecka {week} finns inte år {year} / no such ISO week",
                WindowTiming(kind="window", start=monday, end=monday + timedelta(days=4)),
            )
        monday = date.fromisocalendar(year, week, 1)
        return monday, monday + timedelta(days=4)

    return _dated(m, ctx, make)


def _quarter(m: re.Match[str], ctx: TimingContext) -> Span:
    q = int(m["q"])

    def make(year: int) -> Span:
        if not 1 <= q <= 4:
            last = WindowTiming(kind="window", start=date(year, 10, 1), end=date(year, 12, 31))
            raise _Invalid(f"kvartal {q} finns inte / no such quarter", last)
        return date(year, 3 * q - 2, 1), _month_span(year, 3 * q)[1]

    return _dated(m, ctx, make)


def _month_span(year: int, month: int) -> Span:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _term(m: re.Match[str], ctx: TimingContext) -> Span:
    spans = ctx.terms.autumn if m["term"].startswith("h") else ctx.terms.spring
    return _dated(m, ctx, spans.in_year)


def _season(m: re.Match[str], ctx: TimingContext) -> Span:
    spans = {"v": ctx.seasons.spring, "s": ctx.seasons.summer, "h": ctx.seasons.autumn}[m["season"][0]]
    return _dated(m, ctx, spans.in_year)


# Spans a phrase may name, tried in order against the whole remaining text.
_WINDOWS: list[tuple[re.Pattern[str], Callable[[re.Match[str], TimingContext], Span]]] = [
    (re.compile(_YEAR4), lambda m, c: (date(_year(m["year"]), 1, 1), date(_year(m["year"]), 12, 31))),
    (re.compile(r"(?P<a>[0-9]{4})\s*(?:-|till)\s*(?P<b>[0-9]{4})"),
     lambda m, c: (date(_year(m["a"]), 1, 1), date(_year(m["b"]), 12, 31))),
    (re.compile(r"(?:hela\s+)?(?:projekttiden|projektperioden|projektet|avtalsperioden|avtalstiden"
                r"|perioden|överenskommelsen|avtalet)"), lambda m, c: (c.period_start, c.period_end)),
    (re.compile(r"(?P<term>höstterminen|vårterminen|hösttermin|vårtermin|ht|vt)\s*-?\s*"
                r"(?P<year>[0-9]{4}|[0-9]{2})?"), _term),
    (re.compile(rf"(?P<season>våren|vår|sommaren|sommar|hösten|höst){_OPT_YEAR}"), _season),
    (re.compile(rf"(?P<month>{_MONTH}){_OPT_YEAR}"),
     lambda m, c: _dated(m, c, lambda y: _month_span(y, _MONTHS[m["month"]]))),
    (re.compile(rf"(?:kvartal|q)\s*(?P<q>[0-9]+){_OPT_YEAR}"), _quarter),
    (re.compile(rf"(?P<q>[0-9]+)(?::a|:e)?\s+kvartalet{_OPT_YEAR}"), _quarter),
    (re.compile(r"(?:vecka|v\.?)\s*(?P<week>[0-9]+)(?:\s*(?P<year>[0-9]{4}))?"), _week),
]  # fmt: skip


def _window(text: str, ctx: TimingContext) -> Span | None:
    for pattern, make in _WINDOWS:
        if m := pattern.fullmatch(text):
            return make(m, ctx)
    return None


_DATES: list[tuple[re.Pattern[str], Callable[[re.Match[str]], tuple[int, int]]]] = [
    (re.compile(rf"(?P<d>[0-9]{{1,2}})(?::e|:a)?\s*(?P<month>{_MONTH})\.?{_OPT_YEAR}"),
     lambda m: (_MONTHS[m["month"]], int(m["d"]))),
    (re.compile(r"(?P<d>[0-9]{1,2})/(?P<mo>[0-9]{1,2})(?:\s*[-/ ]\s*(?P<year>[0-9]{4}|[0-9]{2}))?"),
     lambda m: (int(m["mo"]), int(m["d"]))),
]  # fmt: skip


def _date(text: str, ctx: TimingContext) -> date | None:
    text = re.sub(r"^den\s+", "", text)
    if m := re.fullmatch(r"(?P<y>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})", text):
        return _make_date(_year(m["y"]), int(m["mo"]), int(m["d"]))
    for pattern, month_day in _DATES:
        if m := pattern.fullmatch(text):
            month, day = month_day(m)
            if m["year"]:
                return _make_date(_year(m["year"]), month, day)
            return _in_period(ctx, lambda y: (_make_date(y, month, day),) * 2)[0]  # noqa: B023 (called at once)
    return None


# --- reading rules -------------------------------------------------------------------------


def _weekdays(m: re.Match[str], evening: bool) -> Rule:
    days = [_DAYS[d] for d in re.findall("|".join(_DAYS), m["days"])]
    freq = "biweekly" if m["every"] in ("varannan", "var annan") else "weekly"
    return Rule(freq=freq, weekdays=tuple(days))


def _per_year(m: re.Match[str], evening: bool) -> Rule:
    n = _NUMBERS.get(m["n"]) or int(m["n"])
    if n not in TIMES_PER_YEAR:
        near = min(TIMES_PER_YEAR, key=lambda t: abs(t - n))
        raise _Invalid(
            f"{n} gånger/år går inte att sprida jämnt över månaderna / "
            f"cannot be spread evenly; use one of {TIMES_PER_YEAR}",
            RecurringTiming(kind="recurring", rule=Rule(freq="yearly", times=near)),
        )
    return Rule(freq="yearly", times=n)


def _fixed(freq: str, times: int = 1) -> Callable[[re.Match[str], bool], Rule]:
    return lambda m, evening: Rule(freq=freq, times=times)


# Weekend evenings and nights are Friday and Saturday; a plain weekend is Saturday and Sunday.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], bool], Rule]]] = [
    (re.compile(rf"(?P<every>varje|alla|varannan|var annan|på)?\s*"
                rf"(?P<days>{_DAY}(?:(?:\s*(?:,|och|&|/)\s*|\s+){_DAY})*){_END}"), _weekdays),
    (re.compile(rf"(?:varje\s+|alla\s+)?helg(?:er|en|erna)?{_END}"),
     lambda m, evening: Rule(freq="weekly", weekdays=("fri", "sat") if evening else ("sat", "sun"))),
    (re.compile(rf"(?:varannan|var annan)\s+vecka{_END}|var\s+(?:fjortonde|14:e)\s+dag{_END}"),
     _fixed("biweekly")),
    (re.compile(rf"(?:varje vecka|veckovis|en gång (?:i|per) veckan?|1 gång/vecka){_END}"), _fixed("weekly")),
    (re.compile(rf"(?:varje månad|månadsvis|månatligen|månatlig|en gång (?:i|per|om) månaden?"
                rf"|1 gång/månad){_END}"), _fixed("monthly")),
    (re.compile(rf"(?:varje kvartal|kvartalsvis|en gång (?:i|per) kvartal(?:et)?){_END}"),
     _fixed("quarterly")),
    (re.compile(rf"(?:varje halvår|halvårsvis|varje termin|terminsvis){_END}"), _fixed("yearly", 2)),
    (re.compile(rf"(?:varje år|årligen|årsvis|årlig|en gång (?:om|per|i) året){_END}"), _fixed("yearly")),
    (re.compile(rf"(?P<n>{_NUMBER})\s*(?:gånger|gång|ggr|gg|g)\.?"
                rf"(?:\s*(?:/|per|om|i)\s*(?:året|år)|\s+årligen){_END}"), _per_year),
]  # fmt: skip


def _rule(text: str, clock: tuple[int, int] | None, evening: bool) -> tuple[Rule, str] | None:
    for pattern, build in _RULES:
        if m := pattern.match(text):
            rule = build(m, evening)
            if clock:
                rule = rule.model_copy(update={"hour": clock[0], "minute": clock[1]})
            return rule, text[m.end() :]
    return None


# Words a coordinator may misspell ("projektiden"): every word of the grammar's patterns.
_VOCAB = (
    frozenset(
        word
        for pattern in [
            *(p for p, _ in _WINDOWS + _RULES),
            _CONTINUOUS,
            _FOLLOW_UP,
            _TIME_WORDS,
            _OPENING_HOURS,
            _DEADLINE,
            _CLOCK,
        ]
        for word in re.findall(r"[^\W\d_]{6,}", pattern.pattern)
    )
    | {"kontinuerligt", "helgkvällar", "helgnätter", "uppföljning"}
    | {d + "ar" for d in _DAYS}
)
_VOCAB_LIST = sorted(_VOCAB)  # difflib wants a sequence; sorted keeps its choice stable


# --- the parser ----------------------------------------------------------------------------


def parse_when(text: str, ctx: TimingContext) -> Timing:
    """Read a När phrase; raises TimingError (only) with the phrase and a suggestion."""
    try:
        parts = _SPLIT.split(_normalise(str(text)))  # YAML may hand over `when: 2012` as an int
        if any(not p for p in parts):
            raise _Invalid("tom tidsangivelse / empty timing")
        timings = [_parse_part(p, ctx) for p in parts]
        if len(timings) == 1:
            return timings[0]
        return CombinedTiming(kind="combined", parts=tuple(timings))
    except _Invalid as error:
        raise TimingError(text, error.message, as_yaml(error.suggestion or _fallback(ctx))) from None
    except (ValueError, OverflowError) as error:
        raise TimingError(
            text, f"läser inte tidsangivelsen / unreadable timing ({error})", as_yaml(_fallback(ctx))
        ) from None


def parse_timing_spec(data: Mapping[str, Any]) -> Timing:
    """A plan file's structured `timing:` mapping (or a stored one) as a Timing; TimingError if not."""
    try:
        return TIMING.validate_python(data)
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise TimingError(
            _flow(data),
            f"ogiltig timing / invalid timing ({where})",
            "timing: {kind: window, start: 2012-01-01, end: 2012-12-31}",
        ) from None


def _as_timing(timing: Timing | Mapping[str, Any]) -> Timing:
    return timing if isinstance(timing, BaseModel) else parse_timing_spec(timing)


def _fallback(ctx: TimingContext) -> Timing:
    return DeadlineTiming(kind="deadline", due=ctx.period_end)


def _normalise(text: str) -> str:
    s = re.sub(r"[–—−]", "-", text.lower())
    return re.sub(r"\s+", " ", s).strip(" .!?:,")


def _corrected(text: str) -> str:
    """Close misspellings of the grammar's words corrected, compound time words split."""
    text = re.sub(r"[^\W\d_]{6,}", lambda m: _closest(m.group()), text)
    # "fredagskvällar", "helgkvällar" → "fredag kvällar", "helg kvällar"
    return re.sub(rf"({'|'.join(_DAYS)}|helg)s?(?={_TIME_WORD})", r"\1 ", text)


def _closest(word: str) -> str:
    if word in _VOCAB:
        return word
    close = difflib.get_close_matches(word, _VOCAB_LIST, n=1, cutoff=0.85)
    return close[0] if close else word


def _take(pattern: re.Pattern[str], text: str) -> tuple[str, bool]:
    stripped, count = pattern.subn(" ", text)
    return re.sub(r"\s+", " ", stripped).strip(), count > 0


@dataclass(frozen=True)
class _Modifiers:
    """The words that qualify a phrase wherever they stand, and what is left without them."""

    rest: str
    follow: bool  # "uppföljning …"
    cont: bool  # "kontinuerligt", "löpande", …
    evening: bool  # "kvällar", "nätter", …
    clock: tuple[int, int] | None


def _modifiers(text: str) -> _Modifiers:
    s, follow = _take(_FOLLOW_UP, text)
    s, cont = _take(_CONTINUOUS, s)
    clock: tuple[int, int] | None = None
    if m := _CLOCK.search(s):
        clock = (int(m["h"]), int(m["m"] or 0))
        if clock[0] > 23 or clock[1] > 59:
            raise _Invalid(f"klockslaget {m.group()} finns inte / no such time of day")
        s = _take(_CLOCK, s)[0]
    s, evening = _take(_TIME_WORDS, s)
    return _Modifiers(_LEAD.sub("", s), follow, cont, evening, clock or (EVENING if evening else None))


def _parse_part(text: str, ctx: TimingContext) -> Timing:
    if m := _EVENT.fullmatch(text):
        return EventTiming(kind="event", event=m["event"].strip(" ."))  # the event's words as written
    mods = _modifiers(_corrected(text.replace(",", " ")))
    s, follow, cont, clock = mods.rest, mods.follow, mods.cont, mods.clock
    if not s and cont and not follow and not clock:
        return ContinuousTiming(kind="continuous", start=ctx.period_start, end=ctx.period_end)
    if m := _OPENING_HOURS.match(s):
        start, end = _bound(s[m.end() :], ctx)
        return ContinuousTiming(kind="continuous", start=start, end=end, note="öppettider")
    if m := _DEADLINE.match(s):
        rest = s[m.end() :]
        due = _date(rest, ctx) or (_window(rest, ctx) or (None, None))[1]
        if due:
            return DeadlineTiming(kind="deadline", due=due)
    if found := _rule(s, clock, mods.evening):
        rule, rest = found
        start, end = _bound(rest, ctx)
        if follow:
            return ContinuousTiming(kind="continuous", start=start, end=end, follow_up=rule)
        return RecurringTiming(kind="recurring", rule=rule, start=start, end=end)
    if follow:
        raise _Invalid(
            "ange hur ofta uppföljningen sker (t.ex. 'Uppföljning månadsvis') / say how often",
            ContinuousTiming(
                kind="continuous", start=ctx.period_start, end=ctx.period_end, follow_up=Rule(freq="monthly")
            ),
        )
    if not clock:
        if span := _window(s, ctx):
            if cont:  # "Löpande under 2013": ongoing, nothing due at the end
                return ContinuousTiming(kind="continuous", start=span[0], end=span[1])
            return WindowTiming(kind="window", start=span[0], end=span[1])
        if due := _date(s, ctx):
            return DeadlineTiming(kind="deadline", due=due)
    raise _Invalid(
        "okänd tidsangivelse / unreadable timing (t.ex. 'Under 2012', 'Senast 30 juni 2012', "
        "'Under höstterminen 2012', 'Varje fredag och lördag', 'Månadsvis', '2 gånger/år', "
        "'Kontinuerligt', 'Uppföljning månadsvis', 'vid remissförfarande')"
    )


def _bound(text: str, ctx: TimingContext) -> Span:
    """The span a rule is qualified with ("… under vårterminen 2025"); the period if none."""
    text = _LEAD.sub("", text.strip(" -")).strip()
    if not text:
        return ctx.period_start, ctx.period_end
    span = _window(text, ctx)
    if span is None:
        raise _Invalid(f"läser inte tidsrymden {text!r} / unreadable span")
    return span


# --- what a timing means in dates ----------------------------------------------------------


# The functions below take a Timing or its stored JSON form (the activities table keeps JSON).
AnyTiming = Timing | Mapping[str, Any]


def deadline_of(timing: AnyTiming, ctx: TimingContext, cal: WorkCalendar) -> date | None:
    """The working-day-adjusted date by which the duty is done; None for ongoing work.

    Recurring, continuous and event duties have no single deadline (their follow-ups and
    event dues carry the dates); a combination is done when its last dated part is.
    """
    match _as_timing(timing):
        case DeadlineTiming(due=due):
            return cal.adjust_deadline(due)
        case WindowTiming(end=end):
            return cal.adjust_deadline(end)
        case CombinedTiming(parts=parts):
            dates = [d for p in parts if (d := deadline_of(p, ctx, cal)) is not None]
            return max(dates, default=None)
    return None


deadline = deadline_of  # the name the design brief uses


def start_of(timing: AnyTiming, ctx: TimingContext) -> date | None:
    """The first day the work is on, if the timing says so."""
    match timing := _as_timing(timing):
        case WindowTiming() | RecurringTiming() | ContinuousTiming():
            return _span(timing, ctx)[0]
        case CombinedTiming(parts=parts):
            return min((d for p in parts if (d := start_of(p, ctx))), default=None)
    return None


def event_due(timing: EventTiming, occurred_on: date, cal: WorkCalendar) -> date:
    """When an event-triggered duty is due, given the day the event happened."""
    return cal.add_working_days(occurred_on, timing.follow_up_days)


def occurrences(timing: AnyTiming, ctx: TimingContext, start: datetime, end: datetime) -> list[datetime]:
    """Operational occurrences in [start, end), aware UTC; holidays do not move them."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("occurrences needs aware datetimes")
    match timing := _as_timing(timing):
        case RecurringTiming(rule=rule):
            return _fire_times(rule, ctx, _span(timing, ctx), start, end)
        case CombinedTiming(parts=parts):
            return sorted({t for p in parts for t in occurrences(p, ctx, start, end)})
    return []


def follow_ups(
    timing: AnyTiming, ctx: TimingContext, cal: WorkCalendar, start: date, end: date
) -> list[date]:
    """Dated follow-ups due within start..end, moved off days off like deadlines.

    A continuous duty's follow-up rule, and every occurrence of a duty recurring monthly
    or less often ("2 gånger/år"); weekly operational duties are not followed up one by one.
    """
    match timing := _as_timing(timing):
        case ContinuousTiming(follow_up=Rule() as rule):
            return _follow_up_dates(rule, ctx, cal, _span(timing, ctx), start, end)
        case RecurringTiming(rule=rule) if rule.freq not in ("weekly", "biweekly"):
            return _follow_up_dates(rule, ctx, cal, _span(timing, ctx), start, end)
        case CombinedTiming(parts=parts):
            return sorted({d for p in parts for d in follow_ups(p, ctx, cal, start, end)})
    return []


def _follow_up_dates(
    rule: Rule, ctx: TimingContext, cal: WorkCalendar, span: Span, start: date, end: date
) -> list[date]:
    tz = ZoneInfo(ctx.tz)
    # A margin, because moving a date off a holiday may carry it into or out of the range.
    margin = timedelta(days=14)
    lo = datetime.combine(max(start, span[0]) - margin, time(), tzinfo=tz)
    hi = datetime.combine(min(end, span[1]) + margin, time.max, tzinfo=tz)
    dates = {cal.adjust_deadline(t.astimezone(tz).date()) for t in _fire_times(rule, ctx, span, lo, hi)}
    return sorted(d for d in dates if start <= d <= end)


def _span(timing: RecurringTiming | ContinuousTiming | WindowTiming, ctx: TimingContext) -> Span:
    return timing.start or ctx.period_start, timing.end or ctx.period_end


def _fire_times(rule: Rule, ctx: TimingContext, span: Span, start: datetime, end: datetime) -> list[datetime]:
    """The rule's times within the span and [start, end), computed in local wall time."""
    tz = ZoneInfo(ctx.tz)
    lo = max(start, datetime.combine(span[0], time(), tzinfo=tz))
    hi = min(end, datetime.combine(span[1], time.max, tzinfo=tz))
    found: set[datetime] = set()
    for trigger in _triggers(rule, ctx.tz, span[0]):
        t = trigger.get_next_fire_time(None, lo)
        while t is not None and t < hi:
            if t >= lo:
                found.add(t.astimezone(UTC))
            t = trigger.get_next_fire_time(t, t)
    return sorted(found)


def _triggers(rule: Rule, tz: str, first: date) -> list[BaseTrigger]:
    at = {"hour": rule.hour, "minute": rule.minute, "timezone": tz}
    days = rule.weekdays or (WEEKDAYS[first.weekday()],)
    if rule.freq == "weekly":
        return [CronTrigger(day_of_week=",".join(days), **at)]
    if rule.freq == "biweekly":
        # Every other week counts from the span's first such weekday.
        return [CalendarIntervalTrigger(weeks=2, start_date=_on_or_after(first, d), **at) for d in days]
    step = {"monthly": 1, "quarterly": 3, "yearly": 12 // rule.times}[rule.freq]
    months = ",".join(str(m) for m in range(step, 13, step))
    return [CronTrigger(month=months, day="last", **at)]


def _on_or_after(d: date, weekday: Weekday) -> date:
    return d + timedelta(days=(WEEKDAYS.index(weekday) - d.weekday()) % 7)


# --- words for people ----------------------------------------------------------------------

_WORDS = {
    "sv": {"weekly": "varje {}", "biweekly": "varannan {}", "week": "vecka", "monthly": "månadsvis",
           "quarterly": "kvartalsvis", "yearly": "årligen", "times": "{} gånger/år", "at": " kl. {}",
           "and": " och ", "also": " samt ", "by": "senast {}", "during": "under {}", "span": "{}–{}",
           "continuous": "kontinuerligt", "follow_up": ", uppföljning {}", "note": " ({})",
           "event": "vid {} (inom {} arbetsdagar)", "period": "under avtalsperioden",
           "days": dict(zip(WEEKDAYS, ("måndag", "tisdag", "onsdag", "torsdag", "fredag", "lördag", "söndag"), strict=True))},
    "en": {"weekly": "every {}", "biweekly": "every other {}", "week": "week", "monthly": "monthly",
           "quarterly": "quarterly", "yearly": "yearly", "times": "{} times a year", "at": " at {}",
           "and": " and ", "also": "; also ", "by": "by {}", "during": "during {}", "span": "{} to {}",
           "continuous": "continuously", "follow_up": ", followed up {}", "note": " ({})",
           "event": "on {} (within {} working days)", "period": "during the agreement period",
           "days": dict(zip(WEEKDAYS, ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"), strict=True))},
}  # fmt: skip


def describe(timing: AnyTiming, lang: Literal["sv", "en"] = "sv") -> str:
    """A short description for people, in Swedish or English."""
    w = _WORDS[lang]
    match timing := _as_timing(timing):
        case DeadlineTiming(due=due):
            return w["by"].format(due.isoformat())
        case WindowTiming(start=start, end=end):
            return _describe_span(start, end, w)
        case RecurringTiming(rule=rule, start=start, end=end):
            return f"{_describe_rule(rule, w)} {_describe_span(start, end, w)}"
        case ContinuousTiming(start=start, end=end, follow_up=rule, note=note):
            text = w["continuous"] + (w["note"].format(note) if note else "")
            text += " " + _describe_span(start, end, w)
            return text + (w["follow_up"].format(_describe_rule(rule, w)) if rule else "")
        case EventTiming(event=event, follow_up_days=days):
            return w["event"].format(event, days)
        case CombinedTiming(parts=parts):
            return w["also"].join(describe(p, lang) for p in parts)
    raise TypeError(f"not a timing: {timing!r}")


def _describe_rule(rule: Rule, w: dict[str, Any]) -> str:
    if rule.freq in ("weekly", "biweekly"):
        days = [w["days"][d] for d in rule.weekdays] or [w["week"]]
        text = w[rule.freq].format(", ".join(days[:-1]) + w["and"] + days[-1] if len(days) > 1 else days[0])
    elif rule.freq == "yearly" and rule.times > 1:
        text = w["times"].format(rule.times)
    else:
        text = w[rule.freq]
    if (rule.hour, rule.minute) != (8, 0):
        text += w["at"].format(f"{rule.hour:02}:{rule.minute:02}")
    return text


def _describe_span(start: date | None, end: date | None, w: dict[str, Any]) -> str:
    if start is None and end is None:
        return w["period"]
    if start and end and (start.month, start.day, end.month, end.day) == (1, 1, 12, 31):
        years = str(start.year) if start.year == end.year else f"{start.year}–{end.year}"
        return w["during"].format(years)
    return w["span"].format(start.isoformat() if start else "…", end.isoformat() if end else "…")
