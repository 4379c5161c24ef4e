"""Swedish working days: days off, deadlines moved off them, send times at 08:00 local."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workflow.workdays import WorkCalendar

STOCKHOLM = ZoneInfo("Europe/Stockholm")
CAL = WorkCalendar()
LATER = WorkCalendar(deadline_shift="later")


@pytest.mark.parametrize(
    ("day", "name"),
    [
        (date(2012, 12, 24), "Julafton"),
        (date(2012, 6, 22), "Midsommarafton"),
        (date(2012, 12, 31), "Nyårsafton"),
        (date(2012, 1, 6), "Trettondedag jul"),
        (date(2012, 4, 6), "Långfredagen"),
        (date(2012, 4, 9), "Annandag påsk"),
        (date(2012, 5, 17), "Kristi himmelsfärdsdag"),
        (date(2012, 6, 6), "Nationaldagen"),
        (date(2012, 6, 23), "Midsommardagen"),
        (date(2012, 11, 3), "Alla helgons dag"),
        (date(2012, 6, 2), "lördag"),
        (date(2012, 6, 3), "söndag"),
    ],
)
def test_holidays_eves_and_weekends_are_days_off(day: date, name: str) -> None:
    assert not CAL.is_working_day(day)
    assert CAL.day_off_name(day) == name


def test_ordinary_weekdays_are_working_days() -> None:
    for day in (date(2012, 6, 21), date(2012, 12, 27), date(2013, 1, 2), date(2012, 4, 10)):
        assert CAL.is_working_day(day)
        assert CAL.day_off_name(day) is None


def test_a_weekday_that_is_not_a_holiday_in_sweden_is_a_working_day() -> None:
    # 26 December is a holiday, 27 December is not: the eves are the only de facto additions.
    assert CAL.day_off_name(date(2013, 12, 26)) == "Annandag jul"
    assert CAL.is_working_day(date(2013, 12, 27))


def test_deadline_on_a_day_off_moves_earlier_by_default_and_later_if_configured() -> None:
    assert CAL.adjust_deadline(date(2012, 4, 6)) == date(2012, 4, 5)  # Good Friday
    assert LATER.adjust_deadline(date(2012, 4, 6)) == date(2012, 4, 10)  # past Easter Monday
    assert CAL.adjust_deadline(date(2012, 12, 31)) == date(2012, 12, 28)  # nyårsafton + weekend
    assert LATER.adjust_deadline(date(2012, 12, 24)) == date(2012, 12, 27)
    assert CAL.adjust_deadline(date(2012, 6, 20)) == date(2012, 6, 20)  # a working day stays


def test_add_working_days_skips_easter_both_ways() -> None:
    maundy_thursday, tuesday_after = date(2012, 4, 5), date(2012, 4, 10)
    assert CAL.add_working_days(maundy_thursday, 1) == tuesday_after
    assert CAL.add_working_days(tuesday_after, -1) == maundy_thursday
    assert CAL.add_working_days(date(2012, 4, 2), 5) == date(2012, 4, 11)
    assert CAL.add_working_days(date(2012, 4, 13), -5) == date(2012, 4, 4)  # "5 days before"
    assert CAL.add_working_days(maundy_thursday, 0) == maundy_thursday


def test_send_time_on_a_holiday_goes_to_the_next_working_day_at_8_local() -> None:
    sent = CAL.send_time(date(2012, 4, 6))
    assert sent.tzinfo == UTC
    assert sent == datetime(2012, 4, 10, 6, 0, tzinfo=UTC)  # 08:00 CEST
    assert sent.astimezone(STOCKHOLM) == datetime(2012, 4, 10, 8, 0, tzinfo=STOCKHOLM)
    assert CAL.send_time(date(2012, 12, 24)) == datetime(2012, 12, 27, 7, 0, tzinfo=UTC)  # CET
    assert CAL.send_time(date(2012, 6, 22), hour=9, minute=30).astimezone(STOCKHOLM) == datetime(
        2012, 6, 25, 9, 30, tzinfo=STOCKHOLM
    )


def test_send_times_keep_8_local_across_the_dst_changes() -> None:
    # 2012: summer time from 25 March, winter time from 28 October.
    assert CAL.send_time(date(2012, 3, 23)) == datetime(2012, 3, 23, 7, 0, tzinfo=UTC)
    assert CAL.send_time(date(2012, 3, 26)) == datetime(2012, 3, 26, 6, 0, tzinfo=UTC)
    assert CAL.send_time(date(2012, 10, 26)) == datetime(2012, 10, 26, 6, 0, tzinfo=UTC)
    assert CAL.send_time(date(2012, 10, 29)) == datetime(2012, 10, 29, 7, 0, tzinfo=UTC)


def test_next_send_time_is_the_first_slot_at_or_after_the_instant() -> None:
    friday_8 = datetime(2012, 3, 23, 8, 0, tzinfo=STOCKHOLM)
    assert CAL.next_send_time(friday_8) == friday_8.astimezone(UTC)
    assert CAL.next_send_time(friday_8 - timedelta(hours=3)) == friday_8.astimezone(UTC)
    # After Friday's slot the next one is Monday, already in summer time.
    assert CAL.next_send_time(friday_8 + timedelta(minutes=1)) == datetime(2012, 3, 26, 6, 0, tzinfo=UTC)
    # An instant given in UTC is read in Stockholm: 23:30 UTC Sunday is Monday 00:30 local.
    assert CAL.next_send_time(datetime(2012, 12, 30, 23, 30, tzinfo=UTC)) == datetime(
        2013, 1, 2, 7, 0, tzinfo=UTC
    )


def test_next_send_time_refuses_a_naive_instant() -> None:
    with pytest.raises(ValueError):
        CAL.next_send_time(datetime(2012, 3, 23, 8, 0))


def test_unknown_deadline_shift_is_refused() -> None:
    with pytest.raises(ValueError):
        WorkCalendar(deadline_shift="sideways")  # type: ignore[arg-type]


days = st.dates(min_value=date(2000, 1, 1), max_value=date(2100, 12, 31))


@settings(max_examples=300, deadline=None)
@given(days)
def test_adjusted_deadlines_are_working_days_close_by(day: date) -> None:
    for cal, sign in ((CAL, -1), (LATER, 1)):
        moved = cal.adjust_deadline(day)
        assert cal.is_working_day(moved)
        assert 0 <= (moved - day).days * sign <= 5
        assert moved == day or not cal.is_working_day(day)


@settings(max_examples=300, deadline=None)
@given(days, st.integers(min_value=-30, max_value=30))
def test_adding_then_subtracting_working_days_returns_to_a_working_day(day: date, n: int) -> None:
    start = CAL.next_working_day(day)
    there = CAL.add_working_days(start, n)
    assert CAL.add_working_days(there, -n) == start
    assert n == 0 or CAL.is_working_day(there)


@settings(max_examples=300, deadline=None)
@given(st.datetimes(min_value=datetime(2000, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)))
def test_next_send_time_is_a_working_day_at_8_local_not_before_the_instant(instant: datetime) -> None:
    slot = CAL.next_send_time(instant)
    local = slot.astimezone(STOCKHOLM)
    assert slot >= instant and slot - instant < timedelta(days=7)
    assert (local.hour, local.minute) == (8, 0)
    assert CAL.is_working_day(local.date())
