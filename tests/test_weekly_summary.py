"""The coordinator's weekly summary: the week's first working day at the send hour, once a week."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import select

from workflow.agreement.context import reminder_policy
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.engine.weekly import occurrence_of, summary_day
from workflow.outbox.models import Mail, Notice
from workflow.workdays import WorkCalendar

CAL = WorkCalendar("Europe/Stockholm")
POLICY = reminder_policy({})  # the default quiet weeks: ISO weeks 28–31


def test_an_ordinary_week_is_summarised_on_its_monday():
    assert summary_day(date(2012, 12, 3), CAL, POLICY) == date(2012, 12, 3)


def test_a_week_whose_monday_is_a_holiday_is_summarised_on_its_first_working_day():
    assert summary_day(date(2012, 4, 9), CAL, POLICY) == date(2012, 4, 10)  # annandag påsk
    assert summary_day(date(2012, 12, 31), CAL, POLICY) == date(2013, 1, 2)  # nyårsafton, nyårsdagen


def test_a_quiet_week_gets_no_summary():
    assert summary_day(date(2012, 7, 16), CAL, POLICY) is None  # week 29, the summer's quiet weeks


def test_the_key_is_one_per_agreement_and_iso_week():
    assert occurrence_of(1, date(2012, 12, 31)) == "agreement:1:week:2013-W01"


def test_a_monday_sweep_sends_the_coordinator_one_weekly_summary_and_a_later_sweep_none(loaded):
    monday = datetime(2012, 12, 3, 7, 0, tzinfo=UTC)  # 08:00 in Härnösand
    sweep(loaded, datetime(2012, 12, 3, 6, 0, tzinfo=UTC))  # before the send hour: nothing yet
    with transaction(loaded) as session:
        assert session.scalars(select(Notice).where(Notice.rule == "weekly_summary")).all() == []
    sweep(loaded, monday)
    sweep(loaded, datetime(2012, 12, 5, 7, 0, tzinfo=UTC))
    with transaction(loaded) as session:
        notices = session.scalars(select(Notice).where(Notice.rule == "weekly_summary")).all()
        assert len(notices) == 1  # Härnösand has one coordinator, told once that week
        payload = notices[0].payload
        assert payload["week"] == 49 and payload["monday"] == "2012-12-03"
        assert [a["title"] for a in payload["overdue"]] == ["Utföra trygghetsvandring (ar)"]
        assert payload["overdue"][0]["days_late"] == 1 and payload["overdue"][0]["stage"] == "owner"
        mail = session.get(Mail, notices[0].mail_id)
        assert mail.kind == "weekly_summary"


def test_no_summary_goes_on_a_sunday_nor_for_a_week_before_the_agreement_began(loaded):
    # 1 January 2012, a Sunday, the agreement's first day: its week began on 26 December 2011.
    sweep(loaded, datetime(2012, 1, 1, 7, 0, tzinfo=UTC))
    with transaction(loaded) as session:
        assert session.scalars(select(Notice).where(Notice.rule == "weekly_summary")).all() == []


def test_a_summary_missed_on_its_day_goes_the_next_working_day_and_not_later_in_the_week(loaded):
    # Monday 3 December 2012 passes without a sweep: Tuesday's sends the week's summary.
    sweep(loaded, datetime(2012, 12, 4, 7, 0, tzinfo=UTC))
    with transaction(loaded) as session:
        assert len(session.scalars(select(Notice).where(Notice.rule == "weekly_summary")).all()) == 1
    # Monday and Tuesday of the next week pass without one: on Wednesday that week is half gone.
    sweep(loaded, datetime(2012, 12, 12, 7, 0, tzinfo=UTC))
    with transaction(loaded) as session:
        assert len(session.scalars(select(Notice).where(Notice.rule == "weekly_summary")).all()) == 1
