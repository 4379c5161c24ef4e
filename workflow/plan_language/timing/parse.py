"""Reading a När phrase: the Swedish vocabulary, dates and spans, rules, and the parser."""

from __future__ import annotations

import calendar
import difflib
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any, Literal

from pydantic import (
    ValidationError,
)

from workflow.i18n import LazyText, _l
from workflow.plan_language.timing.model import (
    EVENING,
    HOLIDAYS,
    TIMES_PER_YEAR,
    TIMING,
    WEEKDAYS,
    YEARS,
    AsNeededTiming,
    CombinedTiming,
    ContinuousTiming,
    DeadlineTiming,
    EventTiming,
    OccasionsTiming,
    RecurringTiming,
    Rule,
    Span,
    Timing,
    TimingContext,
    TimingError,
    WindowTiming,
    as_yaml,
    flow,
)

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Invalid(Exception):
    """Raised inside the parser; parse_when adds the phrase."""

    def __init__(self, message: LazyText, suggestion: Timing | None = None):
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
_DAY_ABBREVIATIONS: dict[str, Weekday] = {
    "mån": "mon", "tis": "tue", "ons": "wed", "tors": "thu", "tor": "thu", "fre": "fri",
    "lör": "sat", "sön": "sun",
}  # fmt: skip
_NUMBERS = {"en": 1, "ett": 1, "två": 2, "tre": 3, "fyra": 4, "fem": 5, "sex": 6,
            "sju": 7, "åtta": 8, "nio": 9, "tio": 10, "elva": 11, "tolv": 12, "tretton": 13,
            "fjorton": 14, "femton": 15, "sexton": 16, "sjutton": 17, "arton": 18, "nitton": 19,
            "tjugo": 20}  # fmt: skip

_MONTH = "|".join(sorted(_MONTHS, key=len, reverse=True))
_DAY = rf"(?:(?:{'|'.join(_DAYS)})(?:arna|ar|en|s)?-?|(?:{'|'.join(_DAY_ABBREVIATIONS)})\.?(?![^\W\d_]))"
_NUMBER = rf"[0-9]+|{'|'.join(_NUMBERS)}"
_TIME_WORD = (
    r"(?:kvälls-\s*och\s*nattetid|kvällarna|kvällstid|kvällar|kvällen|kväll"
    r"|nätterna|nattetid|nätter|natten|natt)"
)
_YEAR4 = r"(?P<year>[0-9]{4})"
_OPT_YEAR = rf"(?:\s*{_YEAR4})?"
_END = r"(?![^\W\d_])"  # not followed by a letter

_SPLIT = re.compile(r"\s*(?:\bsamt\b|;|\boch\s+(?=vid\b|i samband med\b))\s*")
_EVENT = re.compile(r"(?:(?:kontinuerligt|löpande)\s+)?(?:vid|i samband med)\s+(?P<event>.*\S)")
# Done when needed: no deadline and no event to record ("vid behov" is not an event).
_AS_NEEDED = re.compile(
    r"(?:vid|efter|när|om)\s+(?:det\s+finns\s+|det\s+uppstår\s+)?behov(?:\s+(?:finns|uppstår))?"
    r"|(?:vid|på)\s+(?:förfrågan|begäran|önskemål)|när det behövs"
)
_FOLLOW_UP = re.compile(r"\b(?:uppföljning(?:ar|en)?|följs upp|uppföljs)\b")
_CONTINUOUS = re.compile(
    r"\b(?:kontinuerlig(?:t|a)?|fortlöpande|löpande|regelbundet|ständigt|pågående|hela tiden)\b"
)
_CLOCK = re.compile(
    r"\b(?:kl\.?|klockan)\s*(?P<h>[0-9]{1,2})(?:[:.](?P<m>[0-9]{2}))?"
    r"(?:\s*-\s*(?P<h2>[0-9]{1,2})(?:[:.](?P<m2>[0-9]{2}))?)?\b"
)
_TIME_WORDS = re.compile(rf"\s*/?\s*\b{_TIME_WORD}\b")
_LEAD = re.compile(r"^(?:(?:under|på|i|om|för|inom|hela|åren|perioden)\s+)+")
_OPENING_HOURS = re.compile(rf"öppet(?:tider(?:na)?|tid(?:en)?){_END}")
_DEADLINE = re.compile(
    r"(?:klart\s+)?(?:senast|(?:fram\s+)?till och med|t\.?o\.?m\.?|fram till)\s+(?:den\s+)?"
)


# --- reading dates and spans ---------------------------------------------------------------


def _year(text: str) -> int:
    year = int(text) + (2000 if len(text) == 2 else 0)
    if year not in YEARS:
        raise _Invalid(_l("the year %(year)s is out of range", year=year))
    return year


def _make_date(year: int, month: int, day: int) -> date:
    try:
        return date(year, month, day)
    except ValueError:
        if not 1 <= month <= 12:
            raise _Invalid(_l("there is no month %(month)s", month=month)) from None
        last = calendar.monthrange(year, month)[1]
        fixed = date(year, month, min(max(day, 1), last))
        raise _Invalid(
            _l("there is no date %(day)s", day=f"{year}-{month:02}-{day:02}"),
            DeadlineTiming(kind="deadline", due=fixed),
        ) from None


def _in_period(ctx: TimingContext, make: Callable[[int], Span]) -> Span:
    """A year-less span: in the plan's own year if it has one, else its first instance that is
    not over before the agreement's period starts."""
    if ctx.year is not None and ctx.year in YEARS:
        return make(ctx.year)
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
    raise first_error or _Invalid(_l("not within the agreement's period"))


def _dated(m: re.Match[str], ctx: TimingContext, make: Callable[[int], Span]) -> Span:
    return make(_year(m["year"])) if m["year"] else _in_period(ctx, make)


def _week(m: re.Match[str], ctx: TimingContext) -> Span:
    week = int(m["week"])

    def make(year: int) -> Span:
        weeks = date(year, 12, 28).isocalendar().week
        if not 1 <= week <= weeks:
            monday = date.fromisocalendar(year, min(max(week, 1), weeks), 1)
            raise _Invalid(
                _l("there is no week %(week)s in %(year)s", week=week, year=year),
                WindowTiming(kind="window", start=monday, end=monday + timedelta(days=4)),
            )
        monday = date.fromisocalendar(year, week, 1)
        return monday, monday + timedelta(days=4)

    return _dated(m, ctx, make)


def _month_span(year: int, month: int) -> Span:
    return date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1])


def _term(m: re.Match[str], ctx: TimingContext) -> Span:
    spans = ctx.terms.autumn if m["term"].startswith("h") else ctx.terms.spring
    return _dated(m, ctx, spans.in_year)


def _season(m: re.Match[str], ctx: TimingContext) -> Span:
    spans = {"v": ctx.seasons.spring, "s": ctx.seasons.summer, "h": ctx.seasons.autumn}[m["season"][0]]
    return _dated(m, ctx, spans.in_year)


_ORDINALS = {"första": 1, "1:a": 1, "andra": 2, "2:a": 2, "tredje": 3, "3:e": 3, "fjärde": 4, "4:e": 4}
_PARTS = {"halvår": 2, "tertial": 3, "kvartal": 4, "h": 2, "t": 3, "q": 4}  # parts of a year


def _part_of_year(m: re.Match[str], ctx: TimingContext) -> Span:
    """Half-year, tertial or quarter N: 12/parts months each ("andra tertialet 2026", "Q3", "H1")."""
    unit = m["unit"].removesuffix("et")
    parts = _PARTS[unit]
    n = _ORDINALS.get(m["n"]) or int(m["n"])
    months = 12 // parts

    def make(year: int) -> Span:
        if not 1 <= n <= parts:
            last = WindowTiming(kind="window", start=date(year, 13 - months, 1), end=date(year, 12, 31))
            raise _Invalid(
                _l("the year has %(parts)s such parts, not a number %(n)s", parts=parts, n=n), last
            )
        return date(year, months * (n - 1) + 1, 1), _month_span(year, months * n)[1]

    return _dated(m, ctx, make)


def _weeks(m: re.Match[str], ctx: TimingContext) -> Span:
    """Weeks a to b ("v. 10–12"), Monday of the first to Friday of the last; b < a runs into
    the next year ("v. 51–2")."""
    a, b = int(m["a"]), int(m["b"])

    def week_span(year: int, week: int) -> Span:
        return _week_span(year, week)

    def make(year: int) -> Span:
        first = week_span(year, a)
        last = week_span(year + 1 if b < a else year, b)
        return first[0], last[1]

    return _dated(m, ctx, make)


def _week_span(year: int, week: int) -> Span:
    weeks = date(year, 12, 28).isocalendar().week
    if not 1 <= week <= weeks:
        monday = date.fromisocalendar(year, min(max(week, 1), weeks), 1)
        raise _Invalid(
            _l("there is no week %(week)s in %(year)s", week=week, year=year),
            WindowTiming(kind="window", start=monday, end=monday + timedelta(days=4)),
        )
    monday = date.fromisocalendar(year, week, 1)
    return monday, monday + timedelta(days=4)


def _school_year(m: re.Match[str], ctx: TimingContext) -> Span:
    """Läsåret 2026/2027: the autumn term's first day to the next spring term's last day."""

    def make(year: int) -> Span:
        return ctx.terms.autumn.in_year(year)[0], ctx.terms.spring.in_year(year + 1)[1]

    if m["a"]:
        a, b = _year(m["a"]), _year(m["b"]) if len(m["b"]) == 4 else _year(m["a"][:-2] + m["b"])
        if b != a + 1:
            raise _Invalid(
                _l("a school year runs over two years in a row, e.g. %(example)s", example=f"{a}/{a + 1}"),
                WindowTiming(kind="window", start=make(a)[0], end=make(a)[1]),
            )
        return make(a)
    return _in_period(ctx, make)


def _holiday(m: re.Match[str], ctx: TimingContext) -> Span:
    name = next(h for h in HOLIDAYS if m["holiday"].startswith(h))
    return _dated(m, ctx, lambda year: ctx.holidays.in_year(name, year, ctx.terms))


def _plan_year(m: re.Match[str], ctx: TimingContext) -> Span:
    """ "Under året": the plan's year, else the agreement period's first year."""
    return _in_period(ctx, lambda year: (date(year, 1, 1), date(year, 12, 31)))


# Spans a phrase may name, tried in order against the whole remaining text.
_WINDOWS: list[tuple[re.Pattern[str], Callable[[re.Match[str], TimingContext], Span]]] = [
    (re.compile(_YEAR4), lambda m, c: (date(_year(m["year"]), 1, 1), date(_year(m["year"]), 12, 31))),
    (re.compile(r"(?P<a>[0-9]{4})\s*(?:-|till)\s*(?P<b>[0-9]{4})"),
     lambda m, c: (date(_year(m["a"]), 1, 1), date(_year(m["b"]), 12, 31))),
    (re.compile(r"(?:hela\s+)?(?:projekttiden|projektperioden|projektet|avtalsperioden|avtalstiden"
                r"|perioden|överenskommelsen|avtalet)"), lambda m, c: (c.period_start, c.period_end)),
    (re.compile(r"(?P<term>höstterminen|vårterminen|hösttermin|vårtermin|ht|vt)\s*-?\s*"
                r"(?P<year>[0-9]{4}|[0-9]{2})?"), _term),
    (re.compile(rf"(?P<season>våren|vår|sommaren|sommarperioden|sommar|hösten|höst){_OPT_YEAR}"), _season),
    (re.compile(rf"(?P<month>{_MONTH}){_OPT_YEAR}"),
     lambda m, c: _dated(m, c, lambda y: _month_span(y, _MONTHS[m["month"]]))),
    (re.compile(rf"(?P<unit>kvartal|halvår|tertial|q|h|t)\s*(?P<n>[0-9]+){_OPT_YEAR}"), _part_of_year),
    (re.compile(rf"(?P<n>[0-9]+|{'|'.join(_ORDINALS)})(?::a|:e)?\s+(?P<unit>kvartalet|halvåret|tertialet)"
                rf"{_OPT_YEAR}"), _part_of_year),
    (re.compile(r"(?:vecka|veckorna|v\.?)\s*(?P<a>[0-9]+)\s*(?:-|och|till)\s*(?:v\.?\s*)?(?P<b>[0-9]+)"
                r"(?:\s*(?P<year>[0-9]{4}))?"), _weeks),
    (re.compile(r"(?:vecka|v\.?)\s*(?P<week>[0-9]+)(?:\s*(?P<year>[0-9]{4}))?"), _week),
    (re.compile(r"(?:hela\s+)?läsår(?:et)?(?:\s*(?P<a>[0-9]{4}|[0-9]{2})\s*[/-]\s*(?P<b>[0-9]{4}|[0-9]{2}))?"),
     _school_year),
    (re.compile(rf"(?P<holiday>{'|'.join(HOLIDAYS)})(?:et|en)?{_OPT_YEAR}"), _holiday),
    (re.compile(r"(?:hela\s+)?(?:året|verksamhetsåret|innevarande år|kalenderåret)"), _plan_year),
]  # fmt: skip


def _window(text: str, ctx: TimingContext) -> Span | None:
    for pattern, make in _WINDOWS:
        if m := pattern.fullmatch(text):
            return make(m, ctx)
    return _range(text, ctx)


# --- date ranges: "1/3–31/5 2026", "1 mars–31 maj 2026", "mellan den 18 och 24 augusti" -------

_RANGE_LEAD = re.compile(r"^(?:från\s+(?:och\s+med\s+)?|fr\.?o\.?m\.?\s+|mellan\s+)?(?:den\s+)?")
_RANGE_SEP = re.compile(r"\s*(?:-|\btill och med\b|\btill\b|\bt\.?o\.?m\.?|\boch\b)\s*(?:den\s+)?")
_RANGE_SIDES: list[re.Pattern[str]] = [
    re.compile(r"(?P<year>[0-9]{4})-(?P<mo>[0-9]{1,2})-(?P<d>[0-9]{1,2})"),
    re.compile(rf"(?P<d>[0-9]{{1,2}})(?::e|:a)?\s*(?P<month>{_MONTH})\.?(?:\s*(?P<year>[0-9]{{4}}))?"),
    re.compile(r"(?P<d>[0-9]{1,2})/(?P<mo>[0-9]{1,2})(?:\s*[/ ]\s*(?P<year>[0-9]{4}|[0-9]{2}))?"),
    re.compile(rf"(?P<month>{_MONTH})(?:\s*(?P<year>[0-9]{{4}}))?"),  # a whole month: "maj–september"
    re.compile(r"(?P<d>[0-9]{1,2})"),  # the first day only, its month from the second: "18 och 24 augusti"
]
_Side = tuple[int | None, int | None, int | None, bool]  # day, month, year, whole month


def _side(text: str) -> _Side | None:
    for pattern in _RANGE_SIDES:
        if m := pattern.fullmatch(text.strip()):
            groups = m.groupdict()
            month = _MONTHS[groups["month"]] if groups.get("month") else groups.get("mo")
            day = int(groups["d"]) if groups.get("d") else None
            year = _year(groups["year"]) if groups.get("year") else None
            return day, int(month) if month else None, year, day is None
    return None


def _range(text: str, ctx: TimingContext) -> Span | None:
    """Two dates (or months) joined by a dash, "till" or "och": the first takes what it leaves
    out (month, year) from the second; without any year, the span is placed like other year-less
    ones."""
    body = _RANGE_LEAD.sub("", text)
    for sep in _RANGE_SEP.finditer(body):
        a, b = _side(body[: sep.start()]), _side(body[sep.end() :])
        if (
            a is not None
            and b is not None
            and b[1] is not None
            and (b[0] is not None or b[3])
            and a[3] == b[3]
        ):
            return _range_span(a, b, ctx)
    return None


def _range_span(a: _Side, b: _Side, ctx: TimingContext) -> Span:
    (da, ma, ya, whole), (db, mb, yb, _) = a, b
    assert mb is not None
    first_month = ma or mb
    first_day, last_day = (1, 31) if whole else (da or 1, db or 1)

    def make(year: int) -> Span:
        start_year = ya or (year if (first_month, first_day) <= (mb, last_day) else year - 1)
        end = _month_span(year, mb)[1] if whole else _make_date(year, mb, last_day)
        start = date(start_year, first_month, 1) if whole else _make_date(start_year, first_month, first_day)
        if start > end:
            raise _Invalid(
                _l("the span ends before it starts"), WindowTiming(kind="window", start=end, end=end)
            )
        return start, end

    return make(yb) if yb else _in_period(ctx, make)


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


_DAY_NAMES = sorted([*_DAYS, *_DAY_ABBREVIATIONS], key=len, reverse=True)
_ALL_DAYS = {**_DAY_ABBREVIATIONS, **_DAYS}


def _weekdays(m: re.Match[str], evening: bool) -> Rule:
    """Days listed ("fredag och lördag", "tors, fre eller lör") or a run ("mån–fre")."""
    days: list[Weekday] = []
    run_from: Weekday | None = None  # the day before a dash: "mån-" of "mån-fre"
    for token in re.finditer(
        rf"(?P<day>{'|'.join(_DAY_NAMES)})[^\s,/&-]*(?P<run>\s*-\s*(?={'|'.join(_DAY_NAMES)}))?", m["days"]
    ):
        day = _ALL_DAYS[token["day"]]
        if run_from is not None:  # through the weekend if need be: "lör–mån"
            length = (WEEKDAYS.index(day) - WEEKDAYS.index(run_from)) % 7
            days += [WEEKDAYS[(WEEKDAYS.index(run_from) + i) % 7] for i in range(1, length + 1)]
        else:
            days.append(day)
        run_from = day if token["run"] else None
    freq = "biweekly" if m["every"] in ("varannan", "var annan") else "weekly"
    return Rule(freq=freq, weekdays=tuple(days))


def _per_year(m: re.Match[str], evening: bool) -> Rule:
    n = _NUMBERS.get(m["n"]) or int(m["n"])
    if n not in TIMES_PER_YEAR:
        near = min(TIMES_PER_YEAR, key=lambda t: abs(t - n))
        raise _Invalid(
            _l(
                "%(n)s times a year cannot be spread evenly over the months; use one of %(choices)s",
                n=n,
                choices=", ".join(map(str, TIMES_PER_YEAR)),
            ),
            RecurringTiming(kind="recurring", rule=Rule(freq="yearly", times=near)),
        )
    return Rule(freq="yearly", times=n)


def _fixed(freq: str, times: int = 1) -> Callable[[re.Match[str], bool], Rule]:
    return lambda m, evening: Rule(freq=freq, times=times)


# Weekend evenings and nights are Friday and Saturday; a plain weekend is Saturday and Sunday.
_RULES: list[tuple[re.Pattern[str], Callable[[re.Match[str], bool], Rule]]] = [
    (re.compile(rf"(?P<every>varje|alla|varannan|var annan|på)?\s*(?:antingen\s+)?"
                rf"(?P<days>{_DAY}(?:(?:\s*(?:,|och|eller|&|/|-)\s*|\s+){_DAY})*){_END}"), _weekdays),
    (re.compile(rf"(?:varje\s+|alla\s+)?vardag(?:ar|arna)?{_END}"),
     lambda m, evening: Rule(freq="weekly", weekdays=("mon", "tue", "wed", "thu", "fri"))),
    (re.compile(rf"(?:varje dygn|varje dag|dagligen|alla dagar){_END}"), _fixed("daily")),
    (re.compile(rf"(?:varje\s+|alla\s+)?helg(?:er|en|erna)?{_END}"),
     lambda m, evening: Rule(freq="weekly", weekdays=("fri", "sat") if evening else ("sat", "sun"))),
    (re.compile(rf"(?:varannan|var annan)\s+vecka{_END}|var\s+(?:fjortonde|14:e)\s+dag{_END}"),
     _fixed("biweekly")),
    (re.compile(rf"(?:varje vecka|veckovis|(?:en|1) gång\s*(?:/|i|per)\s*veckan?){_END}"), _fixed("weekly")),
    (re.compile(rf"(?:varje månad|månadsvis|månatligen|månatlig|(?:en|1) gång\s*(?:/|i|per|om)\s*månaden?)"
                rf"{_END}"), _fixed("monthly")),
    (re.compile(rf"(?:varje kvartal|kvartalsvis|en gång (?:i|per) kvartal(?:et)?){_END}"),
     _fixed("quarterly")),
    (re.compile(rf"(?:varje halvår|halvårsvis|varje termin|terminsvis|(?:en|1) gång\s*(?:/|i|per)\s*(?:termin|halvår)(?:en|et)?)"
                rf"{_END}"), _fixed("yearly", 2)),
    (re.compile(rf"(?:varje tertial|tertialvis|per tertial|(?:en|1) gång\s*(?:/|i|per)\s*tertial(?:et)?){_END}"),
     _fixed("yearly", 3)),
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
    """Read a När phrase; raises TimingError (only) with the phrase and a suggestion that is
    itself valid and dated inside the plan's period."""
    try:
        parts = _SPLIT.split(_normalise(str(text)))  # YAML may hand over `when: 2012` as an int
        if any(not p for p in parts):
            raise _Invalid(_l("empty timing"))
        timings = [_parse_part(p, ctx) for p in parts]
        if len(timings) == 1:
            return timings[0]
        return CombinedTiming(kind="combined", parts=tuple(timings))
    except _Invalid as error:
        raise TimingError(text, error.message, as_yaml(_suggestion(error.suggestion, ctx))) from None
    except (ValueError, OverflowError) as error:
        raise TimingError(
            text, _l("unreadable timing (%(error)s)", error=str(error)), as_yaml(_fallback(ctx))
        ) from None


def parse_timing_spec(data: Mapping[str, Any]) -> Timing:
    """A plan file's structured `timing:` mapping (or a stored one) as a Timing; TimingError if not."""
    try:
        return TIMING.validate_python(data)
    except ValidationError as error:
        where = "; ".join(f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in error.errors())
        raise TimingError(
            flow(data),
            _l("invalid timing (%(where)s)", where=where),
            "timing: {kind: window, start: 2012-01-01, end: 2012-12-31}",
        ) from None


def plan_period(ctx: TimingContext) -> Span:
    """The plan's own period: its year within the agreement's period, else the agreement's period."""
    if ctx.year is not None and ctx.period_start.year <= ctx.year <= ctx.period_end.year:
        return max(ctx.period_start, date(ctx.year, 1, 1)), min(ctx.period_end, date(ctx.year, 12, 31))
    return ctx.period_start, ctx.period_end


def timing_dates(timing: Timing) -> list[date]:
    """Every date a timing names (its due day, its span's ends, its parts' dates)."""
    if isinstance(timing, CombinedTiming):
        return [d for part in timing.parts for d in timing_dates(part)]
    found = [getattr(timing, name, None) for name in ("due", "start", "end")]
    return [d for d in found if isinstance(d, date)]


def timing_warnings(timing: Timing, ctx: TimingContext) -> list[LazyText]:
    """A readable timing whose dates fall outside the agreement's period: kept, but said."""
    outside = sorted({d for d in timing_dates(timing) if not ctx.period_start <= d <= ctx.period_end})
    if not outside:
        return []
    return [
        _l(
            "%(dates)s is outside the agreement's period %(start)s–%(end)s",
            dates=", ".join(d.isoformat() for d in outside),
            start=ctx.period_start.isoformat(),
            end=ctx.period_end.isoformat(),
        )
    ]


def _suggestion(timing: Timing | None, ctx: TimingContext) -> Timing:
    """The corrected reading when it lies inside the plan's period, else the period's own end."""
    first, last = plan_period(ctx)
    if timing is not None and all(first <= d <= last for d in timing_dates(timing)):
        return timing
    return _fallback(ctx)


def _fallback(ctx: TimingContext) -> Timing:
    return DeadlineTiming(kind="deadline", due=plan_period(ctx)[1])


def _normalise(text: str) -> str:
    s = re.sub(r"[–—−‐‑]", "-", text.lower())
    return re.sub(r"\s+", " ", s).strip(" .!?:,;")


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
    until: str | None  # "kl. 22–02": the end of the time of day


def _modifiers(text: str) -> _Modifiers:
    s, follow = _take(_FOLLOW_UP, text)
    s, cont = _take(_CONTINUOUS, s)
    clock: tuple[int, int] | None = None
    until: str | None = None
    if m := _CLOCK.search(s):
        clock = (int(m["h"]), int(m["m"] or 0))
        end = (int(m["h2"]), int(m["m2"] or 0)) if m["h2"] else None
        if any(h > 23 or mi > 59 for h, mi in filter(None, (clock, end))):
            raise _Invalid(_l("there is no time of day %(time)s", time=m.group()))
        until = f"{end[0]:02}:{end[1]:02}" if end else None
        s = _take(_CLOCK, s)[0]
    s, evening = _take(_TIME_WORDS, s)
    return _Modifiers(_LEAD.sub("", s), follow, cont, evening, clock or (EVENING if evening else None), until)


# "vid minst tre tillfällen per år", "2 gånger/månad", "minst sex riktade insatser", "4 ggr under hösten"
_OCCASIONS = re.compile(
    rf"(?:vid\s+)?(?P<min>minst|åtminstone)?\s*(?P<n>{_NUMBER})\s+"
    rf"(?:(?P<unit>tillfällen|tillfälle|gånger|gång|ggr|gg)\.?|(?P<noun>(?:[^\W\d_]+\s+){{0,2}}?[^\W\d_]+))"
    rf"(?:\s*(?:/|per|i|om|varje)\s*(?P<per>veckan|vecka|månaden|månad|terminen|termin|året|år))?"
    rf"(?:\s+(?P<rest>(?:under|inom|på|i|för)\s+.+))?"
)
_PER = {"vecka": "week", "månad": "month", "termin": "term", "år": "year"}
_NOT_NOUNS = {"gånger", "gång"}
_TIMES_WORD = ("gånger", "gång", "ggr", "gg")


def _occasions(s: str, ctx: TimingContext, mods: _Modifiers) -> Timing | None:
    """A count to follow up; an even "N gånger per år" (and once a week, month or term) stays a
    recurrence, the more specific reading."""
    m = _OCCASIONS.fullmatch(s)
    if m is None or mods.follow or (m["noun"] and not m["min"]) or (m["noun"] or "") in _NOT_NOUNS:
        return None
    n = _NUMBERS.get(m["n"]) or int(m["n"])
    per = next((v for k, v in _PER.items() if m["per"].startswith(k)), None) if m["per"] else None
    start, end = _bound(m["rest"] or "", ctx)
    if not m["min"] and m["unit"] in _TIMES_WORD and per:
        rule = _even_rule(n, per)
        if rule is not None:
            if mods.clock:
                rule = rule.model_copy(update={"hour": mods.clock[0], "minute": mods.clock[1]})
            return RecurringTiming(kind="recurring", rule=rule, start=start, end=end)
    if not m["rest"] and per is None and ctx.year is not None:
        start, end = plan_period(ctx)  # "vid minst femton tillfällen": within the plan's year
    return OccasionsTiming(kind="occasions", times=n, at_least=bool(m["min"]), per=per, start=start, end=end)


def _even_rule(n: int, per: str) -> Rule | None:
    if per == "year" and n in TIMES_PER_YEAR:
        return Rule(freq="yearly", times=n)
    if n == 1:
        return {
            "week": Rule(freq="weekly"),
            "month": Rule(freq="monthly"),
            "term": Rule(freq="yearly", times=2),
        }.get(per)
    return None


def _ambiguous(s: str, ctx: TimingContext) -> None:
    """A phrase two families read whole and differently: refused with both readings."""
    readings: list[str] = []
    if m := re.fullmatch(r"(?P<a>[0-9]{4})\s*/\s*(?P<b>[0-9]{4}|[0-9]{2})", s):
        a, b = m["a"], m["b"] if len(m["b"]) == 4 else m["a"][:2] + m["b"]
        readings = [f"Under {a}–{b}", f"Läsåret {a}/{b}"]
    elif m := re.fullmatch(r"jul(?:\s+(?P<year>[0-9]{4}))?", s):
        year = f" {m['year']}" if m["year"] else ""
        readings = [f"Juli{year}", f"Jullovet{year}"]
    if not readings:
        return
    read = [(r, parse_when(r, ctx)) for r in readings]
    raise _Invalid(
        _l(
            "ambiguous timing; it can be read as %(readings)s",
            readings="; ".join(f"'{r}' ({as_yaml(t)})" for r, t in read),
        ),
        read[0][1],
    )


def _parse_part(text: str, ctx: TimingContext) -> Timing:
    if m := re.fullmatch(rf"(?:{_AS_NEEDED.pattern})(?P<rest>.*)", text):
        start, end = _bound(m["rest"], ctx)
        return AsNeededTiming(kind="as_needed", start=start, end=end)
    mods = _modifiers(_corrected(text.replace(",", " ")))
    s, follow, cont, clock = mods.rest, mods.follow, mods.cont, mods.clock
    if found := _occasions(s, ctx, mods):
        return found
    # A count is never an event, though it starts with "vid" ("vid minst tre tillfällen …").
    if (m := _EVENT.fullmatch(text)) and not re.match(rf"(?:minst|åtminstone|{_NUMBER})\s", m["event"]):
        return EventTiming(kind="event", event=m["event"].strip(" ."))  # the event's words as written
    if m := re.fullmatch(rf"(?P<day>{_DAY})\s+(?P<date>(?:den\s+)?[0-9].*)", s):  # "onsdag den 7 mars 2018"
        if due := _date(m["date"], ctx):
            return _on_weekday(due, m["day"])
    _ambiguous(s, ctx)
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
    if found_rule := _rule(s, clock, mods.evening):
        rule, rest = found_rule
        if mods.until:
            rule = rule.model_copy(update={"until": mods.until})
        start, end = _bound(rest, ctx)
        if follow:
            return ContinuousTiming(kind="continuous", start=start, end=end, follow_up=rule)
        return RecurringTiming(kind="recurring", rule=rule, start=start, end=end)
    if follow:
        raise _Invalid(
            _l("say how often it is followed up (e.g. 'Uppföljning månadsvis')"),
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
        _l(
            "unreadable timing (e.g. %(examples)s)",
            examples="'Under 2026', 'Senast 30 juni 2026', 'Under höstterminen 2026', 'Tertial 2', "
            "'1/3–31/5 2026', 'v. 10–12', 'Läsåret 2026/2027', 'Under sommarlovet', "
            "'Fredagar kl. 22–02', 'Minst 4 tillfällen under 2026', '2 gånger per månad', "
            "'Löpande', 'Vid behov', 'vid remissförfarande'",
        )
    )


def _on_weekday(due: date, written: str) -> DeadlineTiming:
    """A date with its weekday ("onsdag den 7 mars 2018"): the two must agree."""
    name = next(n for n in sorted(_ALL_DAYS, key=len, reverse=True) if written.startswith(n))
    if WEEKDAYS.index(_ALL_DAYS[name]) != due.weekday():
        raise _Invalid(
            _l("%(date)s is not a %(weekday)s", date=due.isoformat(), weekday=name),
            DeadlineTiming(kind="deadline", due=due),
        )
    return DeadlineTiming(kind="deadline", due=due)


def _bound(text: str, ctx: TimingContext) -> Span:
    """The span a rule is qualified with ("… under vårterminen 2025"); the period if none."""
    text = _LEAD.sub("", text.strip(" -")).strip()
    if not text:
        return ctx.period_start, ctx.period_end
    span = _window(text, ctx)
    if span is None:
        raise _Invalid(_l("unreadable span %(span)r", span=text))
    return span
