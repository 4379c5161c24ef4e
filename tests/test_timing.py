"""The När language: every seed phrase, the common families, impossible dates, and their dates."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from workflow.plan_language.timing import (
    DeadlineTiming,
    Rule,
    TimingContext,
    TimingError,
    WindowTiming,
    as_yaml,
    deadline_of,
    describe,
    event_due,
    follow_ups,
    occurrences,
    parse_timing_spec,
    parse_when,
    start_of,
    to_data,
)
from workflow.workdays import WorkCalendar

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CTX = TimingContext(period_start=date(2012, 1, 1), period_end=date(2013, 12, 31))
CAL = WorkCalendar()
SEED = (
    Path(__file__).resolve().parents[1]
    / "config"
    / "agreements"
    / "sources"
    / "overenskommelse-harnosand-2012-2013.txt"
)

PERIOD = {"start": "2012-01-01", "end": "2013-12-31"}
YEAR_2012 = {"kind": "window", "start": "2012-01-01", "end": "2012-12-31"}
FRI_SAT = ["fri", "sat"]

# The När column of the seed's action plan, row by row, and what it means.
SEED_ROWS: list[tuple[str, dict[str, Any]]] = [
    ("Under 2012", YEAR_2012),
    ("Under 2012", YEAR_2012),
    ("Under 2012", YEAR_2012),
    ("Under höstterminen 2012", {"kind": "window", "start": "2012-08-15", "end": "2012-12-20"}),
    ("Under helgkvällar/nätter",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": FRI_SAT, "hour": 22}, **PERIOD}),
    ("Under öppettider", {"kind": "continuous", **PERIOD, "note": "öppettider"}),
    ("Under 2012", YEAR_2012),
    ("Under 2012", YEAR_2012),
    ("Kontinuerligt varje fredag och lördag",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": FRI_SAT}, **PERIOD}),
    ("Kontinuerligt", {"kind": "continuous", **PERIOD}),
    ("Under 2012", YEAR_2012),
    ("Under hösten 2012", {"kind": "window", "start": "2012-09-01", "end": "2012-11-30"}),
    ("2012", YEAR_2012),
    ("2012", YEAR_2012),
    ("Under 2012", YEAR_2012),
    ("2 gånger/år samt vid remissförfarande",
     {"kind": "combined", "parts": [
         {"kind": "recurring", "rule": {"freq": "yearly", "times": 2}, **PERIOD},
         {"kind": "event", "event": "remissförfarande"}]}),
    ("2012", YEAR_2012),
    ("Uppföljning månadsvis", {"kind": "continuous", **PERIOD, "follow_up": {"freq": "monthly"}}),
    ("Under projektiden", {"kind": "window", **PERIOD}),
]  # fmt: skip


def _seed_when_column() -> list[str]:
    rows = [line.split("\t") for line in SEED.read_text(encoding="utf-8").splitlines()]
    return [r[2].strip() for r in rows if len(r) == 4 and r[2].strip() != "När"]


def test_the_table_holds_every_när_phrase_of_the_seed_in_order() -> None:
    assert _seed_when_column() == [phrase for phrase, _ in SEED_ROWS]


@pytest.mark.parametrize(("phrase", "expected"), SEED_ROWS)
def test_seed_phrase_parses_to_its_structure(phrase: str, expected: dict[str, Any]) -> None:
    timing = parse_when(phrase, CTX)
    assert to_data(timing) == expected
    assert parse_timing_spec(expected) == timing  # the structured form says the same


def test_seed_deadlines_fall_on_working_days() -> None:
    by_phrase = {p: deadline_of(parse_when(p, CTX), CTX, CAL) for p, _ in SEED_ROWS}
    assert by_phrase["Under 2012"] == date(2012, 12, 28)  # 29–30 weekend, 31 nyårsafton
    assert by_phrase["Under höstterminen 2012"] == date(2012, 12, 20)
    assert by_phrase["Under hösten 2012"] == date(2012, 11, 30)
    assert by_phrase["Under projektiden"] == date(2013, 12, 30)
    for ongoing in (
        "Kontinuerligt",
        "Under öppettider",
        "Uppföljning månadsvis",
        "Kontinuerligt varje fredag och lördag",
        "2 gånger/år samt vid remissförfarande",
    ):
        assert by_phrase[ongoing] is None


FAMILIES: list[tuple[str, dict[str, Any]]] = [
    ("Under 2013", {"kind": "window", "start": "2013-01-01", "end": "2013-12-31"}),
    ("  under   2013. ", {"kind": "window", "start": "2013-01-01", "end": "2013-12-31"}),
    ("2012-2013", {"kind": "window", **PERIOD}),
    ("Under våren 2013", {"kind": "window", "start": "2013-03-01", "end": "2013-05-31"}),
    ("Under sommaren 2012", {"kind": "window", "start": "2012-06-01", "end": "2012-08-31"}),
    ("Under hösten", {"kind": "window", "start": "2012-09-01", "end": "2012-11-30"}),
    ("Under vårterminen 2013", {"kind": "window", "start": "2013-01-09", "end": "2013-06-15"}),
    ("HT 2013", {"kind": "window", "start": "2013-08-15", "end": "2013-12-20"}),
    ("vt13", {"kind": "window", "start": "2013-01-09", "end": "2013-06-15"}),
    ("Senast 2012-06-30", {"kind": "deadline", "due": "2012-06-30"}),
    ("Senast 30 juni 2012", {"kind": "deadline", "due": "2012-06-30"}),
    ("senast den 30 juni", {"kind": "deadline", "due": "2012-06-30"}),
    ("Senast 30/6 2012", {"kind": "deadline", "due": "2012-06-30"}),
    ("senast 30/6-13", {"kind": "deadline", "due": "2013-06-30"}),
    ("30 juni 2012", {"kind": "deadline", "due": "2012-06-30"}),
    ("Senast juni 2013", {"kind": "deadline", "due": "2013-06-30"}),
    ("Senast vecka 34 2012", {"kind": "deadline", "due": "2012-08-24"}),
    ("Vecka 34 2012", {"kind": "window", "start": "2012-08-20", "end": "2012-08-24"}),
    ("v. 3", {"kind": "window", "start": "2012-01-16", "end": "2012-01-20"}),
    ("Vecka 53 2020", {"kind": "window", "start": "2020-12-28", "end": "2021-01-01"}),
    ("juni 2012", {"kind": "window", "start": "2012-06-01", "end": "2012-06-30"}),
    ("Under februari 2012", {"kind": "window", "start": "2012-02-01", "end": "2012-02-29"}),
    ("Kvartal 2 2013", {"kind": "window", "start": "2013-04-01", "end": "2013-06-30"}),
    ("kvartal 4", {"kind": "window", "start": "2012-10-01", "end": "2012-12-31"}),
    ("Q3 2012", {"kind": "window", "start": "2012-07-01", "end": "2012-09-30"}),
    ("Kvartalsvis", {"kind": "recurring", "rule": {"freq": "quarterly"}, **PERIOD}),
    ("Månadsvis", {"kind": "recurring", "rule": {"freq": "monthly"}, **PERIOD}),
    ("Månadsvis under 2013",
     {"kind": "recurring", "rule": {"freq": "monthly"}, "start": "2013-01-01", "end": "2013-12-31"}),
    ("Årligen", {"kind": "recurring", "rule": {"freq": "yearly"}, **PERIOD}),
    ("Varannan vecka", {"kind": "recurring", "rule": {"freq": "biweekly"}, **PERIOD}),
    ("Varannan vecka under vårterminen 2025",
     {"kind": "recurring", "rule": {"freq": "biweekly"}, "start": "2025-01-09", "end": "2025-06-15"}),
    ("varannan måndag", {"kind": "recurring", "rule": {"freq": "biweekly", "weekdays": ["mon"]}, **PERIOD}),
    ("Varje vecka", {"kind": "recurring", "rule": {"freq": "weekly"}, **PERIOD}),
    ("varje fredag och lördag",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": FRI_SAT}, **PERIOD}),
    ("Lördagar och fredagar",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": FRI_SAT}, **PERIOD}),
    ("måndag, onsdag och torsdag",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["mon", "wed", "thu"]}, **PERIOD}),
    ("fredagskvällar under hösten 2012",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri"], "hour": 22},
      "start": "2012-09-01", "end": "2012-11-30"}),
    ("varje lördag kl 21.30",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["sat"], "hour": 21, "minute": 30},
      **PERIOD}),
    ("helgkvällar/nätter",
     {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": FRI_SAT, "hour": 22}, **PERIOD}),
    ("varje helg", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["sat", "sun"]}, **PERIOD}),
    ("Kontinuerligt", {"kind": "continuous", **PERIOD}),
    ("Löpande", {"kind": "continuous", **PERIOD}),
    ("Löpande under 2013", {"kind": "continuous", "start": "2013-01-01", "end": "2013-12-31"}),
    ("Under öppettider", {"kind": "continuous", **PERIOD, "note": "öppettider"}),
    ("Uppföljning månadsvis", {"kind": "continuous", **PERIOD, "follow_up": {"freq": "monthly"}}),
    ("Kontinuerligt, uppföljning kvartalsvis",
     {"kind": "continuous", **PERIOD, "follow_up": {"freq": "quarterly"}}),
    ("2 gånger/år", {"kind": "recurring", "rule": {"freq": "yearly", "times": 2}, **PERIOD}),
    ("4 ggr/år", {"kind": "recurring", "rule": {"freq": "yearly", "times": 4}, **PERIOD}),
    ("två gånger per år", {"kind": "recurring", "rule": {"freq": "yearly", "times": 2}, **PERIOD}),
    ("Två gånger årligen", {"kind": "recurring", "rule": {"freq": "yearly", "times": 2}, **PERIOD}),
    ("Under projekttiden", {"kind": "window", **PERIOD}),
    ("vid behov", {"kind": "as_needed", **PERIOD}),
    ("Månadsvis och vid behov",
     {"kind": "combined", "parts": [{"kind": "recurring", "rule": {"freq": "monthly"}, **PERIOD},
                                    {"kind": "as_needed", **PERIOD}]}),
]  # fmt: skip


@pytest.mark.parametrize(("phrase", "expected"), FAMILIES)
def test_phrase_family_parses_to_its_structure(phrase: str, expected: dict[str, Any]) -> None:
    assert to_data(parse_when(phrase, CTX)) == expected


def test_a_missing_year_is_the_first_one_not_over_before_the_period() -> None:
    late = TimingContext(period_start=date(2012, 7, 1), period_end=date(2013, 12, 31))
    assert to_data(parse_when("Under våren", late))["start"] == "2013-03-01"
    assert to_data(parse_when("Senast 30 juni", late)) == {"kind": "deadline", "due": "2013-06-30"}
    assert to_data(parse_when("Under höstterminen", late))["start"] == "2012-08-15"
    assert to_data(parse_when("Senast 29 februari", CTX)) == {"kind": "deadline", "due": "2012-02-29"}


@pytest.mark.parametrize(
    ("phrase", "suggestion"),
    [
        ("Senast 31 februari 2012", "timing: {kind: deadline, due: 2012-02-29}"),
        ("Senast 2012-13-01", "timing: {kind: deadline, due: 2013-12-31}"),
        ("31/4 2013", "timing: {kind: deadline, due: 2013-04-30}"),
        ("Vecka 54 2012", "timing: {kind: window, start: 2012-12-24, end: 2012-12-28}"),
        ("Vecka 53 2012", "timing: {kind: window, start: 2012-12-24, end: 2012-12-28}"),
        ("Vecka 0", "timing: {kind: window, start: 2012-01-02, end: 2012-01-06}"),
        ("Kvartal 5", "timing: {kind: window, start: 2012-10-01, end: 2012-12-31}"),
        ("Kvartal 0 2013", "timing: {kind: window, start: 2013-10-01, end: 2013-12-31}"),
        ("varje fredag kl 25", "timing: {kind: deadline, due: 2013-12-31}"),
        ("Under 1066", "timing: {kind: deadline, due: 2013-12-31}"),
    ],
)
def test_impossible_dates_are_errors_naming_the_phrase(phrase: str, suggestion: str) -> None:
    with pytest.raises(TimingError) as caught:
        parse_when(phrase, CTX)
    assert caught.value.phrase == phrase
    assert caught.value.suggestion == suggestion
    assert phrase in str(caught.value) and suggestion in str(caught.value)


@pytest.mark.parametrize(
    "phrase", ["När det passar", "", "   ", "samt", "Uppföljning", "Under kvällar", "2 gånger/fortnight"]
)
def test_unreadable_phrase_gives_timing_error_with_phrase_and_suggestion(phrase: str) -> None:
    with pytest.raises(TimingError) as caught:
        parse_when(phrase, CTX)
    error = caught.value
    assert isinstance(error, ValueError)
    assert error.phrase == phrase
    assert error.message
    assert error.suggestion.startswith("timing: {kind: ")
    parse_timing_spec(_yaml_flow_to_data(error.suggestion))  # the suggestion is itself valid


def _yaml_flow_to_data(line: str) -> dict[str, Any]:
    from ruamel.yaml import YAML

    return YAML(typ="safe").load(line)["timing"]


def _local(times: list[datetime]) -> list[datetime]:
    return [t.astimezone(STOCKHOLM) for t in times]


def test_weekend_patrols_keep_22_local_across_both_dst_changes() -> None:
    patrols = parse_when("Under helgkvällar/nätter", CTX)
    march = occurrences(patrols, CTX, datetime(2012, 3, 16, tzinfo=UTC), datetime(2012, 4, 1, tzinfo=UTC))
    october = occurrences(patrols, CTX, datetime(2012, 10, 19, tzinfo=UTC), datetime(2012, 11, 4, tzinfo=UTC))
    for times in (march, october):
        assert all(t.tzinfo == UTC for t in times)
        assert {(t.hour, t.minute) for t in _local(times)} == {(22, 0)}
        assert {t.weekday() for t in _local(times)} == {4, 5}
    assert [t.hour for t in march] == [21, 21, 21, 21, 20, 20]  # CET, then CEST from 25 March
    assert [t.hour for t in october] == [20, 20, 20, 20, 21, 21]  # CEST, then CET from 28 October


def test_patrols_on_days_off_stay_while_deadlines_and_send_times_move() -> None:
    patrols = parse_when("Kontinuerligt varje fredag och lördag", CTX)
    days = {
        t.date()
        for t in _local(
            occurrences(
                patrols, CTX, datetime(2012, 1, 1, tzinfo=STOCKHOLM), datetime(2013, 1, 1, tzinfo=STOCKHOLM)
            )
        )
    }
    assert len(days) == 104
    days_off = [date(2012, 1, 6), date(2012, 4, 6), date(2012, 6, 22), date(2012, 6, 23), date(2012, 11, 3)]
    for day in days_off:
        assert day in days and not CAL.is_working_day(day)
    assert deadline_of(parse_when("Senast 6 april 2012", CTX), CTX, CAL) == date(2012, 4, 5)
    later = WorkCalendar(deadline_shift="later")
    assert deadline_of(parse_when("Senast 6 april 2012", CTX), CTX, later) == date(2012, 4, 10)
    assert deadline_of(parse_when("Senast 22 juni 2012", CTX), CTX, CAL) == date(2012, 6, 21)
    assert deadline_of(parse_when("Senast 3 november 2012", CTX), CTX, CAL) == date(2012, 11, 2)
    assert CAL.send_time(date(2012, 1, 6)).astimezone(STOCKHOLM) == datetime(2012, 1, 9, 8, tzinfo=STOCKHOLM)
    assert CAL.send_time(date(2012, 6, 22)).astimezone(STOCKHOLM) == datetime(
        2012, 6, 25, 8, tzinfo=STOCKHOLM
    )


def test_occurrences_stay_inside_the_timing_and_the_asked_range() -> None:
    autumn = parse_when("varje fredag under hösten 2012", CTX)
    fridays = _local(
        occurrences(autumn, CTX, datetime(2012, 1, 1, tzinfo=UTC), datetime(2014, 1, 1, tzinfo=UTC))
    )
    assert fridays[0] == datetime(2012, 9, 7, 8, tzinfo=STOCKHOLM)
    assert fridays[-1] == datetime(2012, 11, 30, 8, tzinfo=STOCKHOLM)
    half_open = occurrences(
        autumn, CTX, datetime(2012, 9, 7, 6, tzinfo=UTC), datetime(2012, 9, 14, 6, tzinfo=UTC)
    )
    assert half_open == [datetime(2012, 9, 7, 6, tzinfo=UTC)]
    assert (
        occurrences(
            parse_when("Under 2012", CTX),
            CTX,
            datetime(2012, 1, 1, tzinfo=UTC),
            datetime(2013, 1, 1, tzinfo=UTC),
        )
        == []
    )


def test_every_other_week_counts_from_the_first_day_of_its_span() -> None:
    timing = parse_when("Varannan vecka under vårterminen 2025", CTX)
    times = _local(
        occurrences(timing, CTX, datetime(2025, 1, 1, tzinfo=UTC), datetime(2025, 7, 1, tzinfo=UTC))
    )
    assert times[:3] == [datetime(2025, 1, d, 8, tzinfo=STOCKHOLM) for d in (9, 23)] + [
        datetime(2025, 2, 6, 8, tzinfo=STOCKHOLM)
    ]
    assert times[-1].date() == date(2025, 6, 12)
    assert all(
        (b - a).days in (13, 14) for a, b in zip(times, times[1:], strict=False)
    )  # 13 days + an hour at DST


def test_monthly_follow_up_is_due_at_each_month_end_on_a_working_day() -> None:
    timing = parse_when("Uppföljning månadsvis", CTX)
    dates = follow_ups(timing, CTX, CAL, date(2012, 1, 1), date(2013, 12, 31))
    assert len(dates) == 24
    assert dates[:4] == [date(2012, 1, 31), date(2012, 2, 29), date(2012, 3, 30), date(2012, 4, 30)]
    assert date(2012, 12, 28) in dates and date(2013, 3, 28) in dates  # nyårsafton, Easter 2013
    assert all(CAL.is_working_day(d) for d in dates)
    assert follow_ups(timing, CTX, CAL, date(2012, 3, 1), date(2012, 3, 31)) == [date(2012, 3, 30)]


def test_twice_a_year_is_followed_up_twice_a_year_and_events_when_they_happen() -> None:
    timing = parse_when("2 gånger/år samt vid remissförfarande", CTX)
    assert follow_ups(timing, CTX, CAL, date(2012, 1, 1), date(2013, 12, 31)) == [
        date(2012, 6, 29),
        date(2012, 12, 28),
        date(2013, 6, 28),
        date(2013, 12, 30),
    ]
    event = timing.parts[1]
    assert event_due(event, date(2012, 12, 20), CAL) == date(2013, 1, 10)  # 10 working days on
    assert start_of(timing, CTX) == date(2012, 1, 1)


def test_weekly_operations_and_plain_windows_have_no_follow_ups() -> None:
    for phrase in ("Kontinuerligt varje fredag och lördag", "Under 2012", "Kontinuerligt"):
        assert follow_ups(parse_when(phrase, CTX), CTX, CAL, date(2012, 1, 1), date(2013, 12, 31)) == []


def test_date_functions_accept_the_stored_json_form() -> None:
    stored = parse_when("Under höstterminen 2012", CTX).model_dump(mode="json")
    assert deadline_of(stored, CTX, CAL) == date(2012, 12, 20)
    assert start_of(stored, CTX) == date(2012, 8, 15)
    monthly = {"kind": "continuous", "follow_up": {"freq": "monthly"}}  # span: the period
    assert len(follow_ups(monthly, CTX, CAL, date(2012, 1, 1), date(2013, 12, 31))) == 24


def test_structured_form_is_strict_and_frozen() -> None:
    with pytest.raises(TimingError, match="due"):
        parse_timing_spec({"kind": "deadline", "due": "2012-06-31"})
    with pytest.raises(TimingError):
        parse_timing_spec({"kind": "deadline", "due": "2012-06-30", "when": "soon"})
    with pytest.raises(TimingError):
        parse_timing_spec({"kind": "window", "start": "2012-12-31", "end": "2012-01-01"})
    with pytest.raises(TimingError):
        parse_timing_spec({"kind": "someday"})
    with pytest.raises(ValidationError):
        Rule(freq="monthly", weekdays=("fri",))
    with pytest.raises(ValidationError):
        Rule(freq="yearly", times=5)
    timing = DeadlineTiming(kind="deadline", due=date(2012, 6, 30))
    with pytest.raises(ValidationError):
        timing.due = date(2012, 7, 1)  # type: ignore[misc]
    assert as_yaml(timing) == "timing: {kind: deadline, due: 2012-06-30}"


def test_describe_in_swedish_and_english() -> None:
    def both(phrase: str) -> tuple[str, str]:
        timing = parse_when(phrase, CTX)
        return describe(timing), describe(timing, "en")

    assert both("Under 2012") == ("under 2012", "during 2012")
    assert both("Senast 30 juni 2012") == ("senast 2012-06-30", "by 2012-06-30")
    assert both("Under helgkvällar/nätter") == (
        "varje fredag och lördag kl. 22:00 under 2012–2013",
        "every Friday and Saturday at 22:00 during 2012–2013",
    )
    assert both("Uppföljning månadsvis") == (
        "kontinuerligt under 2012–2013, uppföljning månadsvis",
        "continuously during 2012–2013, followed up monthly",
    )
    assert both("2 gånger/år samt vid remissförfarande")[0] == (
        "2 gånger/år under 2012–2013 samt vid remissförfarande (inom 10 arbetsdagar)"
    )
    assert describe(WindowTiming(kind="window", start=date(2012, 8, 15), end=date(2012, 12, 20))) == (
        "2012-08-15–2012-12-20"
    )


# Words of the grammar, to build phrases that come close to meaning something.
VOCABULARY = [
    "under", "senast", "den", "vecka", "v.", "kvartal", "q", "kvartalet", "kvartalsvis", "månadsvis",
    "varannan", "varje", "alla", "kontinuerligt", "löpande", "uppföljning", "helgkvällar/nätter",
    "kvällar", "natt", "kl", "kl.", "öppettider", "gånger/år", "ggr/år", "gånger", "per", "år",
    "årligen", "samt", "och", "vid", "remissförfarande", "projekttiden", "projektiden", "hösten",
    "våren", "sommaren", "höstterminen", "vårterminen", "ht", "vt", "juni", "februari", "dec",
    "fredag", "lördagar", "söndag", "helg", "två", "en", "0", "1", "2", "5", "12", "13", "29", "31",
    "53", "54", "99", "2012", "2013", "0000", "9999", "2012-06-30", "2012-02-31", "30/6", "31/2",
    "/", "-", ",", ".", ":", "i", "till",
    # issue 19's families
    "tertial", "halvåret", "första", "andra", "kvartalet", "h2", "t3", "läsåret", "2012/2013", "12/13",
    "sommarlovet", "jullovet", "påsklov", "minst", "tillfällen", "tillfälle", "månad", "vecka", "termin",
    "behov", "efter", "v.", "veckorna", "10-12", "51-2", "1/3-31/5", "1", "mars-31", "maj", "mellan", "och",
    "kl.", "22-02", "mån-fre", "fre", "eller", "vardagar", "varje", "dygn", "jul", "året", "onsdag", "den",
]  # fmt: skip
phrases = st.lists(st.sampled_from(VOCABULARY), min_size=1, max_size=7).map(" ".join)


def _parses_or_says_why(text: str) -> None:
    try:
        timing = parse_when(text, CTX)
    except TimingError as error:
        assert error.phrase == text and error.suggestion.startswith("timing: ")
    else:
        assert parse_timing_spec(to_data(timing)) == timing
        describe(timing)
        deadline_of(timing, CTX, CAL)
        follow_ups(timing, CTX, CAL, date(2012, 1, 1), date(2012, 12, 31))
        occurrences(timing, CTX, datetime(2012, 3, 1, tzinfo=UTC), datetime(2012, 4, 1, tzinfo=UTC))


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=80))
def test_arbitrary_text_parses_or_raises_timing_error(text: str) -> None:
    _parses_or_says_why(text)


@settings(max_examples=300, deadline=None)
@given(phrases)
def test_vocabulary_combinations_parse_or_raise_timing_error(text: str) -> None:
    _parses_or_says_why(text)
