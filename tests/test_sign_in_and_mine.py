"""Sign-in requests, *Mina uppgifter* and the calendar feed of one address."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from icalendar import Calendar
from sqlalchemy import select

from tests.answers_support import SIGNER, activity, meeting, person, unit_at
from workflow.answers.feeds import current_feed, feed_ics, replace_feed
from workflow.answers.links import LinkRefused
from workflow.answers.meetings import attend
from workflow.answers.mine import my_overview
from workflow.answers.signin import request_sign_in
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.outbox.compose import compose
from workflow.outbox.models import Mail, Notice
from workflow.work import mark_done

NOW = datetime(2012, 12, 20, 9, 0, tzinfo=UTC)


def sign_ins(sessions) -> list[Notice]:
    with sessions() as s:
        return list(s.scalars(select(Notice).where(Notice.rule == "sign_in")))


def test_a_known_address_in_any_case_gets_a_sign_in_mail_at_once(loaded):
    with transaction(loaded) as s:
        request_sign_in(s, FixedClock(NOW), "  Johan.Berg@EXAMPLE.org ")
    (notice,) = sign_ins(loaded)
    with loaded() as s:
        johan = person(s, "johan-berg")
        assert (notice.recipient_id, notice.subject_type, notice.subject_id) == (johan.id, "person", johan.id)
    assert notice.due_at == NOW and notice.payload["valid_minutes"] == 15
    with transaction(loaded) as s:
        mail = s.get(Mail, compose(s, NOW).mails[0])
        assert mail.kind == "sign_in"


def test_an_unknown_or_retired_address_gets_nothing(loaded):
    with transaction(loaded) as s:
        person(s, "maria-lund").active = False
    with transaction(loaded) as s:
        request_sign_in(s, FixedClock(NOW), "nobody@example.org")
        request_sign_in(s, FixedClock(NOW), "maria.lund@example.org")
        request_sign_in(s, FixedClock(NOW), "")
    assert sign_ins(loaded) == []


def test_asking_again_within_the_quarter_hour_sends_a_new_link(loaded):
    for minutes in (0, 3):
        with transaction(loaded) as s:
            request_sign_in(s, FixedClock(NOW + timedelta(minutes=minutes)), "johan.berg@example.org")
    assert len(sign_ins(loaded)) == 2


def test_my_overview_groups_my_activities_and_lists_my_meetings_with_my_answer(loaded):
    with transaction(loaded) as s:
        johan = person(s, "johan-berg")
        mark_done(unit_at(s, NOW), activity(s, "ung-natmobbning"))
        attend(unit_at(s, NOW), meeting(s, "council-2013-1"), johan)
    with loaded() as s:
        (mine,) = my_overview(s, "JOHAN.BERG@example.org", NOW + timedelta(hours=1)).agreements
        assert "cen-trygghetsvandring" in {a.key for a in mine.overdue}  # due 30 November 2012
        assert "ung-kontaktuppgifter" in {a.key for a in mine.due_soon}  # due 28 December 2012
        assert "liv-anmalningar" in {a.key for a in mine.ongoing}  # due 2013
        assert [a.key for a in mine.done_this_year] == ["ung-natmobbning"]
        assert mine.done_this_year[0].actions == ()
        actions = {a.key: a.actions for a in mine.ongoing}
        assert actions["liv-anmalningar"] == ("done", "progress", "extend")
        assert actions["ung-kaken"] == ("progress",)  # continuous: reported on, never done by a date
        assert "ung-utbildningsdagar" in {a.key for a in mine.due_soon}
        assert "ung-rokfria-skolgardar" not in {
            a.key for g in (mine.overdue, mine.due_soon, mine.ongoing) for a in g
        }
        answers = {m.meeting.key: m.answer for m in mine.meetings}
        assert answers["council-2013-1"] == "yes"
        assert all(m.meeting.starts_at >= NOW - timedelta(days=1) for m in mine.meetings)
        assert my_overview(s, "nobody@example.org", NOW).agreements == ()


def test_the_calendar_feed_has_my_deadlines_and_meetings_and_is_replaced_on_demand(loaded):
    with transaction(loaded) as s:
        feed = current_feed(unit_at(s, NOW, "person:1"), "johan.berg@example.org")
        again = current_feed(unit_at(s, NOW, "person:1"), "johan.berg@example.org")
        assert again.id == feed.id and current_feed(unit_at(s, NOW), "nobody@example.org") is None
        first = SIGNER.feed_token(feed.id, feed.person_id)
    with loaded() as s:
        text = feed_ics(s, SIGNER, first, NOW)
        assert feed_ics(s, SIGNER, first, NOW + timedelta(days=400)).count("BEGIN:VEVENT") > 0
    cal = Calendar.from_ical(text)
    assert cal["PRODID"] and cal["X-WR-CALNAME"] == "trygg – Johan Berg"
    assert any(c.name == "VTIMEZONE" for c in cal.walk())
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    deadline = events["harnosand-2012-2013.deadline.ung-kontaktuppgifter@trygg"]
    assert deadline.decoded("DTSTART").isoformat() == "2012-12-28"  # an all-day event
    council = events["harnosand-2012-2013.meeting.council-2013-1@trygg"]
    assert council.decoded("DTSTART").tzinfo is not None
    assert "harnosand-2012-2013.deadline.ung-rokfria-skolgardar@trygg" not in events  # not johan's
    with transaction(loaded) as s:
        new = replace_feed(unit_at(s, NOW), "johan.berg@example.org")
        second = SIGNER.feed_token(new.id, new.person_id)
    with loaded() as s:
        with pytest.raises(LinkRefused, match="unknown"):
            feed_ics(s, SIGNER, first, NOW)
        with pytest.raises(LinkRefused, match="tampered"):
            feed_ics(s, SIGNER, second[:-2] + "xx", NOW)
        assert Calendar.from_ical(feed_ics(s, SIGNER, second, NOW))["X-WR-CALNAME"]
