"""The calendar: every dated event, and an iCalendar file that other calendar programs read."""

from __future__ import annotations

import json
from datetime import date

import pytest
import vobject
from sqlalchemy import select

from tests.conftest import HARNOSAND, trygg
from workflow import work
from workflow.agreement.validate import read_agreement
from workflow.audit import LoadResult, UnitOfWork
from workflow.calendar.events import calendar_events
from workflow.db import transaction
from workflow.loading import load_agreement
from workflow.plan.models import ActivityEvent
from workflow.plan.triggers import TriggerError
from workflow.status import resolve_agreement


@pytest.fixture
def env(cli_loaded):
    return {"TRYGG_DATABASE_URL": cli_loaded, "COLUMNS": "200"}


def read_ics(path):
    return vobject.readOne(path.read_text(encoding="utf-8"))


def test_the_two_year_calendar_file_holds_the_meetings_and_parses(env, tmp_path):
    ics = tmp_path / "x.ics"
    result = trygg("calendar", "--from", "2012-01-01", "--to", "2013-12-31", "--ics", str(ics), env=env)
    assert result.returncode == 0, result.stderr

    cal = read_ics(ics)
    assert cal.method.value == "PUBLISH"
    assert cal.vtimezone.tzid.value == "Europe/Stockholm"
    events = cal.vevent_list
    summaries = [e.summary.value for e in events]
    check_ins = [e for e in events if "Avstämning" in e.summary.value]
    assert len(check_ins) == 4
    assert len({e.uid.value for e in check_ins}) == 4
    assert sum("Utvärdering" in s for s in summaries) == 2
    assert sum("rådsmöte" in s for s in summaries) == 8
    assert sum("översyn" in s for s in summaries) == 2
    assert len({e.uid.value for e in events}) == len(events)
    first_check_in = min(check_ins, key=lambda e: e.dtstart.value)
    start = first_check_in.dtstart.value
    assert start.tzinfo is not None and start.isoformat() == "2012-06-07T10:00:00+02:00"
    assert "DTSTART;TZID=Europe/Stockholm:20120607T100000" in ics.read_text(encoding="utf-8")
    winter = min((e for e in events if "rådsmöte" in e.summary.value), key=lambda e: e.dtstart.value)
    assert winter.dtstart.value.isoformat() == "2012-02-14T13:00:00+01:00"
    deadlines = [e for e in events if e.summary.value.startswith("Senast")]
    assert deadlines and all(isinstance(e.dtstart.value, date) for e in deadlines)


def test_uids_are_stable_across_exports(env, tmp_path):
    one, two = tmp_path / "1.ics", tmp_path / "2.ics"
    trygg("calendar", "--from", "2012-01-01", "--to", "2013-12-31", "--ics", str(one), env=env)
    trygg("calendar", "--from", "2012-01-01", "--to", "2013-12-31", "--ics", str(two), env=env)
    uids = [sorted(e.uid.value for e in read_ics(p).vevent_list) for p in (one, two)]
    assert uids[0] == uids[1]


def test_json_lists_every_kind_of_event(env):
    result = trygg("calendar", "--from", "2012-01-01", "--to", "2012-12-31", "--json", env=env)
    events = json.loads(result.stdout)["events"]
    kinds = {e["kind"] for e in events}
    assert kinds >= {"council", "check_in", "yearly_review", "evaluation", "step", "deadline", "follow_up"}
    monthly = [e for e in events if e["kind"] == "follow_up" and e["refs"] == ["liv-arbetsgrupp"]]
    assert len(monthly) == 12  # "Uppföljning månadsvis": one follow-up a month
    twice = [e for e in events if e["kind"] == "follow_up" and e["refs"] == ["tra-planer"]]
    assert [e["start"] for e in twice] == ["2012-06-29", "2012-12-28"]  # "2 gånger/år", working days


def test_a_bad_date_is_a_clear_error(env):
    result = trygg("calendar", "--from", "2012-02-30", "--to", "2012-12-31", env=env)
    assert result.returncode == 2 and "2012-02-30" in result.stderr


def trigger(sessions, clock, key, day, note):
    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        unit = UnitOfWork(session, clock, "cli:per", LoadResult(agreement.key, created=False))
        unit.agreement_id = agreement.id
        return work.trigger(unit, agreement, key, day, note).due_on


def test_a_triggered_duty_gets_a_dated_follow_up_in_the_calendar(sessions, clock):
    with transaction(sessions) as session:
        load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    due = trigger(sessions, clock, "tra-planer", date(2012, 4, 2), "Remiss: ny detaljplan för Nattviken")
    assert due == date(2012, 4, 18)  # ten working days; Easter 6–9 April is off
    with sessions() as session:
        agreement = resolve_agreement(session, None)
        events = calendar_events(session, agreement, date(2012, 4, 1), date(2012, 4, 30))
        assert [e.day for e in events if e.kind == "event_follow_up"] == [due]
        assert session.scalar(select(ActivityEvent)).recorded_by == "cli:per"
    with pytest.raises(TriggerError, match="händelsestyrd"):
        trigger(sessions, clock, "ung-kontaktuppgifter", date(2012, 4, 2), "Remiss")
    with pytest.raises(TriggerError, match="okänd"):
        trigger(sessions, clock, "finns-inte", date(2012, 4, 2), "Remiss")


def test_the_time_zone_is_written_as_yearly_rules():
    from workflow.ical import vtimezone

    text = vtimezone("Europe/Stockholm", 2012, 2013).to_ical().decode()
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=3" in text
    assert "RRULE:FREQ=YEARLY;BYDAY=-1SU;BYMONTH=10" in text
    assert "TZNAME:CEST" in text and "TZOFFSETTO:+0200" in text
    # A zone without summer time falls back to icalendar's own description.
    assert "TZOFFSETTO:+0900" in vtimezone("Asia/Tokyo", 2012, 2013).to_ical().decode()


def test_cli_trigger_records_the_event_and_its_follow_up(env):
    result = trygg(
        "activity",
        "trigger",
        "tra-planer",
        "--note",
        "Remiss: detaljplan Nattviken",
        "--on",
        "2012-04-02",
        env=env,
    )
    assert result.returncode == 0, result.stderr
    assert "2012-04-18" in result.stdout
    events = json.loads(
        trygg("calendar", "--from", "2012-04-01", "--to", "2012-04-30", "--json", env=env).stdout
    )
    assert [e["start"] for e in events["events"] if e["kind"] == "event_follow_up"] == ["2012-04-18"]
    refused = trygg(
        "activity", "trigger", "ung-kontaktuppgifter", "--note", "x", "--on", "2012-04-02", env=env
    )
    assert refused.returncode == 3 and "händelsestyrd" in refused.stderr
