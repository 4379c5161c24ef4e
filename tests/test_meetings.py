"""Meetings: agenda items, co-opted guests, moves and cancellations, minutes and attendance."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import vobject
from sqlalchemy import select

from tests.conftest import act, trygg
from workflow.agreement.models import Person
from workflow.audit import AuditEntry
from workflow.meetings import actions
from workflow.meetings.agenda import agenda
from workflow.meetings.invitation import meeting_ics
from workflow.meetings.models import Meeting


def person(session, key):
    return session.scalar(select(Person).where(Person.key == key))


def test_planned_meetings_invite_by_kind(loaded):
    with loaded() as session:
        invited = {
            m.key: {i.person.key for i in m.invitees}
            for m in session.scalars(select(Meeting).where(Meeting.year == 2012))
        }
    assert invited["council-2012-1"] == {
        "fred-nilsson",
        "thomas-nyberg",
        "anna-sjoberg",
        "johan-berg",
        "maria-lund",
        "erik-holm",
        "karin-ek",
    }
    assert invited["check_in-2012-1"] == {"anna-sjoberg", "johan-berg"}  # the two parties' contacts
    assert invited["evaluation-2012"] == {"thomas-nyberg", "fred-nilsson", "anna-sjoberg"}


def test_agenda_items_and_co_opted_guests_belong_to_one_meeting(loaded, clock):
    def work(session, agr, sync):
        meeting = actions.find_meeting(session, agr, "council-2012-2")
        actions.add_agenda_item(
            session, sync, meeting, "Trygghetsvandring i centrum", person(session, "maria-lund")
        )
        actions.coopt(session, sync, meeting, person(session, "eva-strom"))
        with pytest.raises(actions.MeetingError, match="redan"):
            actions.coopt(session, sync, meeting, person(session, "eva-strom"))
        return agenda(session, agr, meeting)

    items = act(loaded, clock, work)
    assert "Trygghetsvandring i centrum" in items and items[0] == "Mötets öppnande"
    with loaded() as session:
        guests = {m.key for m in session.scalars(select(Meeting)) if any(i.co_opted for i in m.invitees)}
    assert guests == {"council-2012-2"}


def test_a_move_raises_the_sequence_and_a_cancellation_keeps_the_uid(loaded, clock):
    def move(session, agr, sync):
        meeting = actions.find_meeting(session, agr, "council-2012-3")
        first = meeting_ics(
            agr,
            meeting,
            organizer=person(session, "anna-sjoberg"),
            attendees=[(i.person, i.co_opted) for i in meeting.invitees],
            method="REQUEST",
            stamp=clock.now(),
        )
        actions.reschedule(session, sync, meeting, meeting.starts_at + timedelta(days=7), None, "Polishuset")
        moved = meeting_ics(
            agr,
            meeting,
            organizer=person(session, "anna-sjoberg"),
            attendees=[(i.person, i.co_opted) for i in meeting.invitees],
            method="REQUEST",
            stamp=clock.now(),
        )
        actions.cancel(session, sync, meeting, "Ersätts av extra möte")
        cancelled = meeting_ics(
            agr,
            meeting,
            organizer=person(session, "anna-sjoberg"),
            attendees=[(i.person, i.co_opted) for i in meeting.invitees],
            method="CANCEL",
            stamp=clock.now(),
        )
        return first, moved, cancelled

    first, moved, cancelled = (vobject.readOne(x.decode()) for x in act(loaded, clock, move))
    assert first.method.value == "REQUEST" and cancelled.method.value == "CANCEL"
    uids = {c.vevent.uid.value for c in (first, moved, cancelled)}
    assert len(uids) == 1
    sequences = [int(c.vevent.sequence.value) for c in (first, moved, cancelled)]
    assert sequences[0] < sequences[1] < sequences[2]
    assert moved.vevent.dtstart.value - first.vevent.dtstart.value == timedelta(days=7)
    assert moved.vevent.location.value == "Polishuset"
    assert first.vevent.organizer.value == "mailto:anna.sjoberg@example.org"
    # Seven are invited; the coordinator convenes, so she is the organizer and not an attendee.
    assert len(first.vevent.attendee_list) == 6
    assert "mailto:anna.sjoberg@example.org" not in {a.value for a in first.vevent.attendee_list}
    assert cancelled.vevent.status.value == "CANCELLED"
    with loaded() as session:
        entry = session.scalar(
            select(AuditEntry).where(AuditEntry.action == "cancel", AuditEntry.actor == "cli:anna")
        )
        assert entry.reason == "Ersätts av extra möte"


def test_minutes_close_the_meeting_record_attendance_and_corrections_are_revisions(loaded, clock):
    clock.instant = datetime(2012, 2, 20, 9, tzinfo=UTC)

    def record(text, present):
        def work(session, agr, sync):
            meeting = actions.find_meeting(session, agr, "council-2012-1")
            people = [person(session, k) for k in present]
            return actions.record_minutes(session, sync, meeting, text, people, clock.now()).revision

        return act(loaded, clock, work, actor="cli:karin")

    assert record("Rådet gick igenom lägesbilden.", ["fred-nilsson", "thomas-nyberg", "karin-ek"]) == 1
    assert (
        record(
            "Rådet gick igenom lägesbilden. Rättelse: även skolan deltog.",
            ["fred-nilsson", "thomas-nyberg", "karin-ek", "maria-lund"],
        )
        == 2
    )
    with loaded() as session:
        meeting = session.scalar(select(Meeting).where(Meeting.key == "council-2012-1"))
        assert meeting.status == "closed"
        assert [r.revision for r in meeting.minutes] == [1, 2]
        assert meeting.minutes[0].text == "Rådet gick igenom lägesbilden."  # never rewritten
        present = {i.person.key for i in meeting.invitees if i.attended}
        assert present == {"fred-nilsson", "thomas-nyberg", "karin-ek", "maria-lund"}
        actions_logged = [
            e.action
            for e in session.scalars(select(AuditEntry).where(AuditEntry.entity_key == "council-2012-1"))
        ]
        assert "minutes" in actions_logged and "correct_minutes" in actions_logged


def test_minutes_need_a_held_meeting_and_invited_people(loaded, clock):
    def early(session, agr, sync):
        meeting = actions.find_meeting(session, agr, "council-2012-2")
        actions.record_minutes(session, sync, meeting, "x", [], clock.now())

    with pytest.raises(actions.MeetingError, match="inte hållits"):
        act(loaded, clock, early)
    clock.instant = datetime(2012, 4, 20, tzinfo=UTC)

    def stranger(session, agr, sync):
        meeting = actions.find_meeting(session, agr, "council-2012-2")
        actions.record_minutes(session, sync, meeting, "x", [person(session, "nils-ek")], clock.now())

    with pytest.raises(actions.MeetingError, match="nils-ek"):
        act(loaded, clock, stranger)


def test_generated_agendas_of_the_review_and_the_evaluation(loaded, clock):
    def both(session, agr, sync):
        review = agenda(session, agr, actions.find_meeting(session, agr, "yearly_review-2012"))
        evaluation = agenda(session, agr, actions.find_meeting(session, agr, "evaluation-2012"))
        return review, evaluation

    review, evaluation = act(loaded, clock, both)
    assert "Revidering: förslag till handlingsplan 2013" in review
    assert "Område: Livsstilskriminella (0 av 2 åtgärder klara)" in review
    assert "Hur rådet har fungerat: 0 av 5 planerade möten hållna" in evaluation  # four and the review


def test_meeting_cli(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded, "COLUMNS": "200"}
    assert (
        trygg(
            "meeting",
            "agenda-item",
            "add",
            "council-2012-2",
            "Klotter vid resecentrum",
            "--by",
            "johan-berg",
            env=env,
        ).returncode
        == 0
    )
    assert trygg("meeting", "coopt", "council-2012-2", "eva-strom", env=env).returncode == 0
    moved = trygg("meeting", "reschedule", "council-2012-2", "--start", "2012-04-17T13:00", env=env)
    assert moved.returncode == 0, moved.stderr
    shown = trygg("meeting", "show", "council-2012-2", "--json", env=env)
    import json

    data = json.loads(shown.stdout)
    assert data["starts_at"] == "2012-04-17T13:00:00+02:00" and data["sequence"] == 1
    assert "Klotter vid resecentrum" in data["agenda"]
    assert any(i["id"] == "eva-strom" and i["co_opted"] for i in data["invitees"])
    unknown = trygg("meeting", "coopt", "council-2012-2", "nobody", env=env)
    assert unknown.returncode == 3 and "nobody" in unknown.stderr
    listed = json.loads(trygg("meeting", "list", "--year", "2013", "--json", env=env).stdout)
    assert len(listed["meetings"]) == 8


def test_the_cli_moves_and_removes_proposed_agenda_items_audited_as_the_user(cli_loaded):
    import json

    env = {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_LANGUAGE": "sv"}
    for title in ("Klotter vid resecentrum", "Nattvandring i centrum", "Belysning i parken"):
        assert trygg("meeting", "agenda-item", "add", "council-2012-2", title, env=env).returncode == 0

    moved = trygg("meeting", "agenda-item", "move", "council-2012-2", "3", "--to", "1", env=env)
    assert moved.returncode == 0, moved.stderr
    removed = trygg("meeting", "agenda-item", "remove", "council-2012-2", "2", env=env)
    assert removed.returncode == 0, removed.stderr
    assert "Klotter vid resecentrum" in removed.stdout

    data = json.loads(trygg("meeting", "show", "council-2012-2", "--json", env=env).stdout)
    assert [p["title"] for p in data["proposed"]] == ["Belysning i parken", "Nattvandring i centrum"]
    assert [p["number"] for p in data["proposed"]] == [1, 2]
    assert "Klotter vid resecentrum" not in data["agenda"]
    shown = trygg("meeting", "show", "council-2012-2", env=env).stdout
    assert "1. Belysning i parken" in shown

    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    with Session(create_engine(cli_loaded)) as session:
        entries = session.scalars(
            select(AuditEntry)
            .where(AuditEntry.action.in_(["move_agenda_item", "remove_agenda_item"]))
            .order_by(AuditEntry.id)
        ).all()
        assert [e.action for e in entries] == ["move_agenda_item", "remove_agenda_item"]
        assert all(e.actor.startswith("cli:") for e in entries)
        assert entries[0].before == {"title": "Belysning i parken", "position": 3}
        assert entries[0].after == {"title": "Belysning i parken", "position": 1}


def test_the_cli_refuses_an_unknown_agenda_item_meeting_or_place_and_changes_nothing(cli_loaded):
    import json

    env = {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_LANGUAGE": "sv"}
    for title in ("Klotter vid resecentrum", "Nattvandring i centrum"):
        assert trygg("meeting", "agenda-item", "add", "council-2012-2", title, env=env).returncode == 0
    refused = [
        (("move", "council-2012-2", "7", "--to", "1"), "7"),
        (("move", "council-2012-2", "1", "--to", "5"), "5"),
        (("move", "council-2012-2", "1", "--to", "0"), "0"),
        (("remove", "council-2012-2", "3"), "3"),
        (("remove", "no-such-meeting", "1"), "no-such-meeting"),
        (("move", "no-such-meeting", "1", "--to", "2"), "no-such-meeting"),
    ]
    for args, named in refused:
        result = trygg("meeting", "agenda-item", *args, env=env)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        assert named in result.stderr, (args, result.stderr)
    data = json.loads(trygg("meeting", "show", "council-2012-2", "--json", env=env).stdout)
    assert [p["title"] for p in data["proposed"]] == ["Klotter vid resecentrum", "Nattvandring i centrum"]


def test_the_cli_refuses_agenda_changes_of_an_archived_agreement(cli_loaded):
    import json

    env = {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_LANGUAGE": "sv"}
    for title in ("Klotter vid resecentrum", "Nattvandring i centrum"):
        assert trygg("meeting", "agenda-item", "add", "council-2012-2", title, env=env).returncode == 0
    assert trygg("agreement", "archive", "harnosand-2012-2013", env=env).returncode == 0
    for args in (("move", "council-2012-2", "2", "--to", "1"), ("remove", "council-2012-2", "1")):
        result = trygg("meeting", "agenda-item", *args, env=env)
        assert result.returncode == 2 and "arkiverad" in result.stderr, (args, result.stderr)
    data = json.loads(trygg("meeting", "show", "council-2012-2", "--json", env=env).stdout)
    assert [p["title"] for p in data["proposed"]] == ["Klotter vid resecentrum", "Nattvandring i centrum"]
