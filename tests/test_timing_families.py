"""The När families grown from real Swedish plans (issue 19): 100 phrases beyond the seed's with
the structure each must give, and what the new kinds mean to deadlines, follow-ups and words."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from typing import Any

import pytest
from ruamel.yaml import YAML

from workflow.agreement.context import timing_context
from workflow.agreement.schema import CalendarSpec
from workflow.plan_language.document import title_year
from workflow.plan_language.timing import (
    TimingContext,
    TimingError,
    deadline_of,
    describe,
    follow_ups,
    occurrences,
    parse_timing_spec,
    parse_when,
    start_of,
    timing_warnings,
    to_data,
)
from workflow.workdays import WorkCalendar

# An agreement for 2025–2027 and its plan for 2026 ("Handlingsplan 2026").
CTX = TimingContext(period_start=date(2025, 1, 1), period_end=date(2027, 12, 31), year=2026)
CAL = WorkCalendar()

# fmt: off
FAMILIES: list[tuple[str, dict[str, Any]]] = [tuple(row) for row in [  # type: ignore[misc]
    ["Första halvåret", {"kind": "window", "start": "2026-01-01", "end": "2026-06-30"}],
    ["andra halvåret 2027", {"kind": "window", "start": "2027-07-01", "end": "2027-12-31"}],
    ["H2 2025", {"kind": "window", "start": "2025-07-01", "end": "2025-12-31"}],
    ["halvår 1", {"kind": "window", "start": "2026-01-01", "end": "2026-06-30"}],
    ["Tertial 1", {"kind": "window", "start": "2026-01-01", "end": "2026-04-30"}],
    ["tertial 3 2027", {"kind": "window", "start": "2027-09-01", "end": "2027-12-31"}],
    ["T2", {"kind": "window", "start": "2026-05-01", "end": "2026-08-31"}],
    ["Första tertialet", {"kind": "window", "start": "2026-01-01", "end": "2026-04-30"}],
    ["tredje tertialet 2025", {"kind": "window", "start": "2025-09-01", "end": "2025-12-31"}],
    ["Första kvartalet", {"kind": "window", "start": "2026-01-01", "end": "2026-03-31"}],
    ["andra kvartalet 2027", {"kind": "window", "start": "2027-04-01", "end": "2027-06-30"}],
    ["3:e kvartalet", {"kind": "window", "start": "2026-07-01", "end": "2026-09-30"}],
    ["Fjärde kvartalet", {"kind": "window", "start": "2026-10-01", "end": "2026-12-31"}],
    ["Q4 2025", {"kind": "window", "start": "2025-10-01", "end": "2025-12-31"}],
    ["Tertialvis", {"kind": "recurring", "rule": {"freq": "yearly", "times": 3}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["Varje tertial", {"kind": "recurring", "rule": {"freq": "yearly", "times": 3}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["Uppföljning per tertial", {"kind": "continuous", "start": "2025-01-01", "end": "2027-12-31", "follow_up": {"freq": "yearly", "times": 3}}],
    ["Halvårsvis", {"kind": "recurring", "rule": {"freq": "yearly", "times": 2}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["2 gånger per vecka", {"kind": "occasions", "times": 2, "per": "week", "start": "2025-01-01", "end": "2027-12-31"}],
    ["3 ggr/vecka", {"kind": "occasions", "times": 3, "per": "week", "start": "2025-01-01", "end": "2027-12-31"}],
    ["2 gånger per månad", {"kind": "occasions", "times": 2, "per": "month", "start": "2025-01-01", "end": "2027-12-31"}],
    ["4 gånger/månad", {"kind": "occasions", "times": 4, "per": "month", "start": "2025-01-01", "end": "2027-12-31"}],
    ["två gånger per termin", {"kind": "occasions", "times": 2, "per": "term", "start": "2025-01-01", "end": "2027-12-31"}],
    ["en gång per termin", {"kind": "recurring", "rule": {"freq": "yearly", "times": 2}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["3 gånger per år", {"kind": "recurring", "rule": {"freq": "yearly", "times": 3}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["5 gånger per år", {"kind": "occasions", "times": 5, "per": "year", "start": "2025-01-01", "end": "2027-12-31"}],
    ["minst en gång per år", {"kind": "occasions", "times": 1, "at_least": True, "per": "year", "start": "2025-01-01", "end": "2027-12-31"}],
    ["en gång i veckan", {"kind": "recurring", "rule": {"freq": "weekly"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["1 gång/månad", {"kind": "recurring", "rule": {"freq": "monthly"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["1/3–31/5 2026", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["1/3-31/5", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["1 mars–31 maj 2026", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["1 mars - 31 maj", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["2026-03-01 - 2026-05-31", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["från 1 september till 15 december", {"kind": "window", "start": "2026-09-01", "end": "2026-12-15"}],
    ["Från och med 1 april till och med 30 juni 2027", {"kind": "window", "start": "2027-04-01", "end": "2027-06-30"}],
    ["mellan den 18 och 24 augusti", {"kind": "window", "start": "2026-08-18", "end": "2026-08-24"}],
    ["mars–maj", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["maj till september 2027", {"kind": "window", "start": "2027-05-01", "end": "2027-09-30"}],
    ["1/12 2026 - 31/1 2027", {"kind": "window", "start": "2026-12-01", "end": "2027-01-31"}],
    ["v. 10–12", {"kind": "window", "start": "2026-03-02", "end": "2026-03-20"}],
    ["v 10-12 2027", {"kind": "window", "start": "2027-03-08", "end": "2027-03-26"}],
    ["Vecka 34–36", {"kind": "window", "start": "2026-08-17", "end": "2026-09-04"}],
    ["veckorna 51-2", {"kind": "window", "start": "2026-12-14", "end": "2027-01-15"}],
    ["Läsåret 2026/2027", {"kind": "window", "start": "2026-08-15", "end": "2027-06-15"}],
    ["läsåret 25/26", {"kind": "window", "start": "2025-08-15", "end": "2026-06-15"}],
    ["läsår 2027/28", {"kind": "window", "start": "2027-08-15", "end": "2028-06-15"}],
    ["Under läsåret", {"kind": "window", "start": "2026-08-15", "end": "2027-06-15"}],
    ["Hela läsåret", {"kind": "window", "start": "2026-08-15", "end": "2027-06-15"}],
    ["Under sommarlovet", {"kind": "window", "start": "2026-06-16", "end": "2026-08-14"}],
    ["sommarlovet 2027", {"kind": "window", "start": "2027-06-16", "end": "2027-08-14"}],
    ["Under höstlovet", {"kind": "window", "start": "2026-10-26", "end": "2026-10-30"}],
    ["höstlovet 2025", {"kind": "window", "start": "2025-10-27", "end": "2025-10-31"}],
    ["jullovet", {"kind": "window", "start": "2026-12-21", "end": "2027-01-08"}],
    ["sportlovet 2027", {"kind": "window", "start": "2027-02-22", "end": "2027-02-26"}],
    ["påsklovet", {"kind": "window", "start": "2026-04-06", "end": "2026-04-10"}],
    ["påsklov 2027", {"kind": "window", "start": "2027-03-29", "end": "2027-04-02"}],
    ["Fredagar kl. 22–02", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri"], "hour": 22, "until": "02:00"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["fredagar och lördagar kl 21-03", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri", "sat"], "hour": 21, "until": "03:00"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["fre-lör kl. 22.00–03.00", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri", "sat"], "hour": 22, "until": "03:00"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["mån–fre kl 15–18", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["mon", "tue", "wed", "thu", "fri"], "hour": 15, "until": "18:00"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["lör–mån", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["mon", "sat", "sun"]}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["Vardagar", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["mon", "tue", "wed", "thu", "fri"]}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["tisdagar och torsdagar", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["tue", "thu"]}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["varje onsdag eller torsdag", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["wed", "thu"]}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["alla fredags- och lördagskvällar", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri", "sat"], "hour": 22}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["Varje lördag under sommarlovet 2026", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["sat"]}, "start": "2026-06-16", "end": "2026-08-14"}],
    ["Fredagar kl. 22–02 under höstlovet", {"kind": "recurring", "rule": {"freq": "weekly", "weekdays": ["fri"], "hour": 22, "until": "02:00"}, "start": "2026-10-26", "end": "2026-10-30"}],
    ["Varannan vecka under läsåret", {"kind": "recurring", "rule": {"freq": "biweekly"}, "start": "2026-08-15", "end": "2027-06-15"}],
    ["Våren 2026", {"kind": "window", "start": "2026-03-01", "end": "2026-05-31"}],
    ["Hösten", {"kind": "window", "start": "2026-09-01", "end": "2026-11-30"}],
    ["Sommaren 2027", {"kind": "window", "start": "2027-06-01", "end": "2027-08-31"}],
    ["Under sommarperioden", {"kind": "window", "start": "2026-06-01", "end": "2026-08-31"}],
    ["Minst 4 tillfällen under 2026", {"kind": "occasions", "times": 4, "at_least": True, "start": "2026-01-01", "end": "2026-12-31"}],
    ["minst 4 tillfällen under året", {"kind": "occasions", "times": 4, "at_least": True, "start": "2026-01-01", "end": "2026-12-31"}],
    ["4 tillfällen under våren", {"kind": "occasions", "times": 4, "start": "2026-03-01", "end": "2026-05-31"}],
    ["2 gånger under höstterminen", {"kind": "occasions", "times": 2, "start": "2026-08-15", "end": "2026-12-20"}],
    ["Vid minst tre tillfällen", {"kind": "occasions", "times": 3, "at_least": True, "start": "2026-01-01", "end": "2026-12-31"}],
    ["vid minst 2 tillfällen under sommarlovet", {"kind": "occasions", "times": 2, "at_least": True, "start": "2026-06-16", "end": "2026-08-14"}],
    ["Minst sex riktade insatser", {"kind": "occasions", "times": 6, "at_least": True, "start": "2026-01-01", "end": "2026-12-31"}],
    ["minst en trafikkontroll per vecka", {"kind": "occasions", "times": 1, "at_least": True, "per": "week", "start": "2025-01-01", "end": "2027-12-31"}],
    ["vid minst tre tillfällen per år", {"kind": "occasions", "times": 3, "at_least": True, "per": "year", "start": "2025-01-01", "end": "2027-12-31"}],
    ["Löpande", {"kind": "continuous", "start": "2025-01-01", "end": "2027-12-31"}],
    ["Löpande under året", {"kind": "continuous", "start": "2026-01-01", "end": "2026-12-31"}],
    ["Löpande under 2027", {"kind": "continuous", "start": "2027-01-01", "end": "2027-12-31"}],
    ["Kontinuerligt under läsåret", {"kind": "continuous", "start": "2026-08-15", "end": "2027-06-15"}],
    ["Vid behov", {"kind": "as_needed", "start": "2025-01-01", "end": "2027-12-31"}],
    ["vid behov under 2026", {"kind": "as_needed", "start": "2026-01-01", "end": "2026-12-31"}],
    ["Efter behov", {"kind": "as_needed", "start": "2025-01-01", "end": "2027-12-31"}],
    ["Vid förfrågan", {"kind": "as_needed", "start": "2025-01-01", "end": "2027-12-31"}],
    ["Vid behov samt vid remissförfarande", {"kind": "combined", "parts": [{"kind": "as_needed", "start": "2025-01-01", "end": "2027-12-31"}, {"kind": "event", "event": "remissförfarande"}]}],
    ["Tertialvis och vid behov", {"kind": "combined", "parts": [{"kind": "recurring", "rule": {"freq": "yearly", "times": 3}, "start": "2025-01-01", "end": "2027-12-31"}, {"kind": "as_needed", "start": "2025-01-01", "end": "2027-12-31"}]}],
    ["Varje dygn", {"kind": "recurring", "rule": {"freq": "daily"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["dagligen", {"kind": "recurring", "rule": {"freq": "daily"}, "start": "2025-01-01", "end": "2027-12-31"}],
    ["Under året", {"kind": "window", "start": "2026-01-01", "end": "2026-12-31"}],
    ["Hela året", {"kind": "window", "start": "2026-01-01", "end": "2026-12-31"}],
    ["Senast 30/6", {"kind": "deadline", "due": "2026-06-30"}],
    ["senast 31 mars 2027", {"kind": "deadline", "due": "2027-03-31"}],
    ["Klart senast tertial 2", {"kind": "deadline", "due": "2026-08-31"}],
    ["Senast v. 12", {"kind": "deadline", "due": "2026-03-20"}],
    ["fram till och med den 18 december 2026", {"kind": "deadline", "due": "2026-12-18"}],
]]
# fmt: on


def test_the_table_holds_at_least_sixty_phrases_beyond_the_seed() -> None:
    assert len(FAMILIES) >= 60 and len({p for p, _ in FAMILIES}) == len(FAMILIES)


@pytest.mark.parametrize(("phrase", "expected"), FAMILIES, ids=[p for p, _ in FAMILIES])
def test_phrase_of_a_grown_family_parses_to_its_structure(phrase: str, expected: dict[str, Any]) -> None:
    timing = parse_when(phrase, CTX)
    assert to_data(timing) == expected
    assert parse_timing_spec(to_data(timing)) == timing  # the stored form reads back the same


def test_the_plans_own_year_dates_a_phrase_without_one_before_the_periods_rule() -> None:
    without_year = replace(CTX, year=None)
    assert to_data(parse_when("Tertial 2", CTX))["start"] == "2026-05-01"
    assert to_data(parse_when("Tertial 2", without_year))["start"] == "2025-05-01"
    assert to_data(parse_when("Senast 30/6", replace(CTX, year=2027))) == {
        "kind": "deadline",
        "due": "2027-06-30",
    }


def test_a_plans_heading_gives_its_year() -> None:
    assert title_year("Handlingsplan 2026") == 2026
    assert title_year("Handlingsplan för 2026–2027") == 2026
    assert title_year("Handlingsplan för trygghet") is None
    assert title_year(None) is None


def test_a_count_of_occasions_is_due_at_the_end_of_its_span_and_never_on_fixed_days() -> None:
    timing = parse_when("Minst 4 tillfällen under våren", CTX)
    assert deadline_of(timing, CTX, CAL) == date(2026, 5, 29)  # 31 May 2026 is a Sunday
    assert start_of(timing, CTX) == date(2026, 3, 1)
    assert follow_ups(timing, CTX, CAL, date(2026, 1, 1), date(2026, 12, 31)) == []
    assert occurrences(timing, CTX, _utc(2026, 3, 1), _utc(2026, 6, 1)) == []
    assert describe(timing) == "minst 4 tillfällen 2026-03-01–2026-05-31"
    assert describe(timing, "en") == "at least 4 occasions 2026-03-01 to 2026-05-31"


def test_a_count_per_month_or_term_is_followed_up_at_each_end_and_has_no_deadline() -> None:
    monthly = parse_when("2 gånger per månad under 2026", CTX)
    assert deadline_of(monthly, CTX, CAL) is None
    assert follow_ups(monthly, CTX, CAL, date(2026, 1, 1), date(2026, 3, 31)) == [
        date(2026, 1, 30), date(2026, 2, 27), date(2026, 3, 31)
    ]  # fmt: skip
    termly = parse_when("två gånger per termin under läsåret", CTX)
    assert follow_ups(termly, CTX, CAL, date(2026, 1, 1), date(2027, 12, 31)) == [
        date(2026, 12, 18),
        date(2027, 6, 15),
    ]  # fmt: skip  (20 Dec 2026 is a Sunday)
    weekly = parse_when("2 gånger per vecka", CTX)
    assert follow_ups(weekly, CTX, CAL, date(2026, 1, 1), date(2026, 12, 31)) == []
    assert describe(monthly) == "2 tillfällen per månad under 2026"


def test_as_needed_has_no_deadline_no_follow_up_and_no_event() -> None:
    timing = parse_when("Vid behov", CTX)
    assert deadline_of(timing, CTX, CAL) is None
    assert follow_ups(timing, CTX, CAL, date(2025, 1, 1), date(2027, 12, 31)) == []
    assert describe(timing) == "vid behov under 2025–2027"


def test_a_daily_rule_and_a_time_span_of_the_evening_reach_the_scheduler() -> None:
    daily = parse_when("Varje dygn under v. 10", CTX)
    assert len(occurrences(daily, CTX, _utc(2026, 1, 1), _utc(2026, 12, 31))) == 5
    friday_nights = parse_when("Fredagar kl. 22–02 under höstlovet", CTX)
    (only,) = occurrences(friday_nights, CTX, _utc(2026, 1, 1), _utc(2026, 12, 31))
    assert only == _utc(2026, 10, 30, 21)  # 22:00 in Stockholm, winter time
    assert describe(friday_nights) == "varje fredag kl. 22:00–02:00 2026-10-26–2026-10-30"


def test_school_holidays_come_from_the_agreement_where_it_gives_them() -> None:
    calendar = {"holidays": [{"name": "sportlov", "start": "2026-03-09", "end": "2026-03-13"}]}
    ctx = replace(
        timing_context(date(2025, 1, 1), date(2027, 12, 31), "Europe/Stockholm", calendar), year=2026
    )
    assert to_data(parse_when("Under sportlovet", ctx)) == {
        "kind": "window",
        "start": "2026-03-09",
        "end": "2026-03-13",
    }
    assert to_data(parse_when("sportlovet 2027", ctx))["start"] == "2027-02-22"  # the default, week 8


@pytest.mark.parametrize(
    ("holidays", "words"),
    [
        ([{"name": "vinterlov", "start": "2026-02-16", "end": "2026-02-20"}], "name"),
        ([{"name": "sportlov", "start": "2026-02-20", "end": "2026-02-16"}], "slutar innan"),
        ([{"name": "sommarlov", "start": "2026-01-01", "end": "2026-12-31"}], "kortare"),
        ([{"name": "höstlov", "start": "2026-10-26", "end": "2026-10-30"},
          {"name": "höstlov", "start": "2026-11-02", "end": "2026-11-06"}], "mer än en gång"),
    ],
)  # fmt: skip
def test_a_wrong_holiday_in_the_agreement_is_refused_naming_it(
    holidays: list[dict[str, str]], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        CalendarSpec.model_validate({"holidays": holidays})


def test_a_count_is_never_read_as_an_event_though_it_starts_with_vid() -> None:
    assert to_data(parse_when("Vid minst tre tillfällen per år", CTX))["kind"] == "occasions"
    assert to_data(parse_when("vid remissförfarande", CTX))["kind"] == "event"
    with pytest.raises(TimingError):
        parse_when("vid minst tre", CTX)  # a count of nothing is neither


@pytest.mark.parametrize("phrase", ["2026/2027", "2026/27", "jul 2026"])
def test_an_ambiguous_phrase_is_refused_with_both_readings(phrase: str) -> None:
    with pytest.raises(TimingError) as caught:
        parse_when(phrase, CTX)
    message = str(caught.value)
    assert message.count("' (timing: {kind: window") == 2  # both readings, each in the structured form


def test_a_weekday_that_does_not_fit_the_date_is_refused() -> None:
    with pytest.raises(TimingError, match="2027-03-07"):
        parse_when("Onsdag den 7 mars 2027, klockan 15:30", CTX)
    assert to_data(parse_when("söndag den 7 mars 2027", CTX)) == {"kind": "deadline", "due": "2027-03-07"}


@pytest.mark.parametrize(
    "phrase",
    ["När det passar", "Senast 31 februari 2013", "Tertial 4 2013", "läsåret 2013/2015", "31/4 2013",
     "v. 60-62", "31/6-1/7 2013", "Vecka 54 2013"],
)  # fmt: skip
def test_a_refusals_suggestion_is_valid_and_inside_the_plans_period(phrase: str) -> None:
    with pytest.raises(TimingError) as caught:
        parse_when(phrase, CTX)
    suggested = parse_timing_spec(YAML(typ="safe").load(caught.value.suggestion)["timing"])
    dates = [d for d in (getattr(suggested, k, None) for k in ("due", "start", "end")) if d]
    assert dates and all(date(2026, 1, 1) <= d <= date(2026, 12, 31) for d in dates)


def test_dates_outside_the_agreements_period_are_a_warning_not_an_error() -> None:
    inside, outside = parse_when("Läsåret 2026/2027", CTX), parse_when("läsår 2027/28", CTX)
    assert timing_warnings(inside, CTX) == []
    (warning,) = timing_warnings(outside, CTX)
    assert "2028-06-15" in str(warning) and "2025-01-01" in str(warning)


def _utc(year: int, month: int, day: int, hour: int = 0) -> Any:
    from datetime import UTC, datetime

    return datetime(year, month, day, hour, tzinfo=UTC)
