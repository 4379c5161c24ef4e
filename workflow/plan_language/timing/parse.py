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
    TIMES_PER_YEAR,
    TIMING,
    YEARS,
    CombinedTiming,
    ContinuousTiming,
    DeadlineTiming,
    EventTiming,
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


def _quarter(m: re.Match[str], ctx: TimingContext) -> Span:
    q = int(m["q"])

    def make(year: int) -> Span:
        if not 1 <= q <= 4:
            last = WindowTiming(kind="window", start=date(year, 10, 1), end=date(year, 12, 31))
            raise _Invalid(_l("there is no quarter %(quarter)s", quarter=q), last)
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
            raise _Invalid(_l("empty timing"))
        timings = [_parse_part(p, ctx) for p in parts]
        if len(timings) == 1:
            return timings[0]
        return CombinedTiming(kind="combined", parts=tuple(timings))
    except _Invalid as error:
        raise TimingError(text, error.message, as_yaml(error.suggestion or _fallback(ctx))) from None
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
            raise _Invalid(_l("there is no time of day %(time)s", time=m.group()))
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
            examples="'Under 2012', 'Senast 30 juni 2012', 'Under höstterminen 2012', "
            "'Varje fredag och lördag', 'Månadsvis', '2 gånger/år', 'Kontinuerligt', "
            "'Uppföljning månadsvis', 'vid remissförfarande'",
        )
    )


def _bound(text: str, ctx: TimingContext) -> Span:
    """The span a rule is qualified with ("… under vårterminen 2025"); the period if none."""
    text = _LEAD.sub("", text.strip(" -")).strip()
    if not text:
        return ctx.period_start, ctx.period_end
    span = _window(text, ctx)
    if span is None:
        raise _Invalid(_l("unreadable span %(span)r", span=text))
    return span
