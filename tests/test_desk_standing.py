"""How activities stand at an instant: overdue since when, the ladder stage the engine reached (from
the notices it made), the next step and its date, acknowledged, a pending extension, the last report."""

from __future__ import annotations

from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select, update

from workflow.agreement.models import Agreement
from workflow.audit import UnitOfWork, cli_actor
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.desk.standing import activity_standing
from workflow.engine.sweep import sweep
from workflow.outbox.models import Mail, MailStatus
from workflow.work import acknowledge, find_activity, report_progress

STOCKHOLM = ZoneInfo("Europe/Stockholm")
KEY = "ung-kontaktuppgifter"


def at(day: str, hour: int = 8) -> datetime:
    return datetime.combine(date.fromisoformat(day), datetime.min.time(), STOCKHOLM).replace(hour=hour)


def standing_of(sessions, now: datetime, key: str = KEY):
    with transaction(sessions) as session:
        agreement = session.scalar(select(Agreement))
        return {s.key: s for s in activity_standing(session, agreement, now)}[key]


def delivered(sessions) -> None:
    """Every mail composed so far has left (delivery itself is tested in test_outbox)."""
    with transaction(sessions) as session:
        session.execute(update(Mail).values(status=MailStatus.SENT))


def test_an_activity_before_its_deadline_is_open_with_nothing_on_the_ladder(loaded):
    s = standing_of(loaded, at("2012-06-01"))
    assert (s.status, s.overdue_since, s.stage, s.next_step) == ("open", None, None, None)
    assert s.deadline == date(2012, 12, 28) and s.area and s.owners


def test_after_the_coordinator_was_told_the_stage_is_the_coordinator_and_management_comes_next(loaded):
    for day in ("2012-12-17", "2013-01-02", "2013-01-09"):
        sweep(loaded, at(day))
    delivered(loaded)
    s = standing_of(loaded, at("2013-01-10"))
    assert s.status == "overdue" and s.overdue_since == date(2012, 12, 29)
    assert (s.stage.to, s.stage.after, s.stage.sent) == ("coordinator", 5, True)
    assert (s.next_step.to, s.next_step.after) == ("management", 10)
    assert s.next_step.at.astimezone(STOCKHOLM).date() == date(2013, 1, 15)


def test_a_sweep_that_has_not_run_yet_reaches_no_stage_but_the_next_step_is_named(loaded):
    s = standing_of(loaded, at("2013-01-10"))
    assert s.status == "overdue" and s.stage is None
    assert (s.next_step.to, s.next_step.after) == ("owner", 1)


def test_an_acknowledged_overdue_item_has_no_next_step(loaded):
    sweep(loaded, at("2013-01-02"))
    delivered(loaded)
    with transaction(loaded) as session:
        agreement = session.scalar(select(Agreement))
        unit = UnitOfWork(session, FixedClock(at("2013-01-03")), cli_actor("test"))
        acknowledge(unit, find_activity(session, agreement, KEY), note="vi vet")
    s = standing_of(loaded, at("2013-01-04"))
    assert s.stage.to == "owner" and s.acknowledged_at is not None and s.next_step is None


def test_the_last_report_says_the_note_when_and_by_whom(loaded):
    with transaction(loaded) as session:
        agreement = session.scalar(select(Agreement))
        unit = UnitOfWork(session, FixedClock(at("2012-05-02")), cli_actor("anna@host"))
        report_progress(unit, find_activity(session, agreement, KEY), note="Listor utbytta")
    s = standing_of(loaded, at("2012-06-01"))
    assert (s.last_report.note, s.last_report.by) == ("Listor utbytta", "cli:anna@host")
    assert s.state == "in_progress"


def test_a_notice_cancelled_before_its_mail_left_is_no_stage_reached(loaded):
    sweep(loaded, at("2013-01-02"))
    with transaction(loaded) as session:
        agreement = session.scalar(select(Agreement))
        unit = UnitOfWork(session, FixedClock(at("2013-01-02", 9)), cli_actor("test"))
        acknowledge(unit, find_activity(session, agreement, KEY), note="vi vet")
    assert standing_of(loaded, at("2013-01-04")).stage is None


def test_the_standings_are_read_in_a_fixed_number_of_queries(loaded):
    from sqlalchemy import event

    with transaction(loaded) as session:
        agreement = session.scalar(select(Agreement))
        count = []

        def counted(*args) -> None:
            count.append(1)

        event.listen(session.get_bind(), "before_cursor_execute", counted)
        standings = activity_standing(session, agreement, at("2013-01-10"))
        event.remove(session.get_bind(), "before_cursor_execute", counted)
    assert len(standings) == 19 and len(count) <= 10, len(count)
