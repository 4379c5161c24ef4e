"""Meetings through the engine on SQLite and PostgreSQL: call, invitation, update, cancellation, minutes.

Every mail here is a notice in the outbox, composed and delivered like the reminders; the
calendar parts are read back with vobject, an iCalendar reader independent of the writer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from zoneinfo import ZoneInfo

import icalendar
import pytest
import vobject
from sqlalchemy import select

from tests.conftest import HARNOSAND, LOAD_INSTANT, load_file, load_harnosand
from tests.mail_links import LINKS, linked
from workflow.agreement.models import Person
from workflow.audit import LoadResult, UnitOfWork
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.meetings import actions
from workflow.meetings.models import Meeting, MeetingStatus
from workflow.outbox.delivery import claim_lease, deliver
from workflow.outbox.models import Mail, Notice
from workflow.outbox.transport import Outcome
from workflow.status import resolve_agreement

STHLM = ZoneInfo("Europe/Stockholm")
SENDER = "trygg <trygg@example.org>"
COUNCIL = {
    "fred-nilsson",
    "thomas-nyberg",
    "anna-sjoberg",
    "johan-berg",
    "maria-lund",
    "erik-holm",
    "karin-ek",
}
MEETING_KINDS = {
    "agenda_call",
    "invitation",
    "meeting_update",
    "cancellation",
    "minutes_request",
    "minutes",
    "checkin_invitation",
    "checkin_report",
    "evaluation",
}


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


@dataclass
class Mailbox:
    """A transport that keeps every message as the bytes a server would receive."""

    sent: list = field(default_factory=list)

    def send(self, message, *, sender, recipient, filename):
        self.sent.append(message_from_bytes(message.as_bytes(), policy=policy.default))
        return Outcome("sent", "250 ok")

    def close(self):
        pass

    def of(self, kind: str, since: int = 0) -> list:
        return [m for m in self.sent[since:] if m["X-Trygg-Kind"] == kind]


def to(message) -> str:
    return message["To"].addresses[0].addr_spec.split("@")[0].replace(".", "-")


def calendar_of(message):
    """The text/calendar alternative, parsed by vobject; checks the attached copy is the same."""
    parts = {p.get_content_type(): p for p in message.walk()}
    inline, attached = parts["text/calendar"], parts["application/ics"]
    assert inline.get_payload(decode=True) == attached.get_payload(decode=True)
    raw = inline.get_payload(decode=True).decode("utf-8")
    assert "\r\n" in raw
    return inline.get_param("method"), vobject.readOne(raw)


@pytest.fixture
def world(request, sessions):
    load_harnosand(request, LOAD_INSTANT)
    return sessions


def run(sessions, when: str, box: Mailbox) -> int:
    """One sweep and delivery at a local instant; returns where this run's mails begin in `box`."""
    start = len(box.sent)
    instant = at(when)
    sweep(sessions, instant)
    deliver(sessions, FixedClock(instant), box, sender=SENDER, lease=claim_lease(30), links=LINKS)
    return start


def act(sessions, when: str, fn):
    clock = FixedClock(at(when))
    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        unit = UnitOfWork(session, clock, "cli:anna", LoadResult(agreement.key, created=False))
        unit.agreement_id = agreement.id
        return fn(session, agreement, unit)


def person(session, key: str) -> Person:
    return session.scalar(select(Person).where(Person.key == key))


def meeting(sessions, key: str) -> Meeting:
    with sessions() as session:
        m = session.scalar(select(Meeting).where(Meeting.key == key))
        session.expunge(m)
        return m


def assert_first_council_invitation(fred) -> None:
    """Fred's invitation to the first council meeting: the agenda, Reply-To and its calendar part."""
    assert "Trygghetsvandring i centrum" in fred.get_body(("plain",)).get_content()
    assert fred["Reply-To"].addresses[0].addr_spec == "anna.sjoberg@example.org"
    method, cal = calendar_of(fred)
    assert method == "REQUEST" and cal.method.value == "REQUEST"
    event = cal.vevent
    assert event.uid.value == "harnosand-2012-2013.meeting.council-2012-1@trygg"
    assert int(event.sequence.value) == 0
    assert event.dtstart.value == datetime(2012, 2, 14, 13, 0, tzinfo=STHLM)
    assert event.dtstart.value.utcoffset() == at("2012-02-14T13:00").utcoffset()
    assert event.organizer.value == "mailto:anna.sjoberg@example.org"
    assert event.organizer.params["SENT-BY"] == ["mailto:trygg@example.org"]  # From trygg, for her
    # The coordinator convenes: never an attendee of her own meeting; nobody is asked to RSVP.
    assert {a.value for a in event.attendee_list} == {
        f"mailto:{k.replace('-', '.')}@example.org" for k in COUNCIL - {"anna-sjoberg"}
    }
    assert {a.params["RSVP"][0] for a in event.attendee_list} == {"FALSE"}
    assert cal.vtimezone.tzid.value == "Europe/Stockholm"
    assert "Trygghetsvandring i centrum" in event.description.value


def record_first_minutes(world, when: str) -> None:
    """The secretary records the first council meeting's minutes (three were there)."""
    act(
        world,
        when,
        lambda s, a, unit: actions.record_minutes(
            s,
            unit,
            actions.find_meeting(s, a, "council-2012-1"),
            "1. Mötet öppnades.\n2. Lägesbilden.\n",
            [person(s, k) for k in ("fred-nilsson", "anna-sjoberg", "karin-ek")],
            unit.clock.now(),
        ),
    )


def test_a_council_meeting_from_agenda_call_to_closed_with_minutes(world):
    box = Mailbox()
    first = run(world, "2012-01-31T08:00", box)  # 14 days before Tuesday 14 February
    calls = box.of("agenda_call", first)
    assert {to(m) for m in calls} == COUNCIL
    council = meeting(world, "council-2012-1").id
    assert all(linked(m) == {("propose", "meeting", council)} for m in calls)

    act(
        world,
        "2012-02-01T10:00",
        lambda s, a, unit: actions.add_agenda_item(
            s,
            unit,
            actions.find_meeting(s, a, "council-2012-1"),
            "Trygghetsvandring i centrum",
            person(s, "maria-lund"),
        ),
    )
    for day in ("2012-02-01", "2012-02-02", "2012-02-06"):
        assert not box.of("agenda_call", run(world, f"{day}T08:00", box))  # asked once

    first = run(world, "2012-02-07T08:00", box)  # 7 days before: the invitation
    invitations = box.of("invitation", first)
    assert {to(m) for m in invitations} == COUNCIL
    assert_first_council_invitation(next(m for m in invitations if to(m) == "fred-nilsson"))

    first = run(world, "2012-02-15T08:00", box)  # the day after: the secretary is asked
    assert [to(m) for m in box.of("minutes_request", first)] == ["karin-ek"]

    record_first_minutes(world, "2012-02-16T14:00")
    first = run(world, "2012-02-17T08:00", box)
    minutes = box.of("minutes", first)
    assert {to(m) for m in minutes} == COUNCIL
    text = minutes[0].get_body(("plain",)).get_content()
    assert (
        "2. Lägesbilden." in text
        and "Närvarande (3 av 7 kallade): Anna Sjöberg, Fred Nilsson, Karin Ek" in text
    )
    assert text.count("Närvarande") == 1
    held = meeting(world, "council-2012-1")
    assert held.status == MeetingStatus.CLOSED and held.next_action_at is None
    for day in ("2012-02-21", "2012-02-28"):
        assert not box.of("minutes_request", run(world, f"{day}T08:00", box))  # recorded: no chase


def test_a_correction_of_the_minutes_is_a_new_revision_sent_again(world):
    box = Mailbox()
    run(world, "2012-02-07T08:00", box)
    for n, text in enumerate(("Första versionen.\n", "Rättad version.\n"), start=1):
        act(
            world,
            f"2012-02-1{5 + n}T10:00",
            lambda s, a, unit, text=text: actions.record_minutes(
                s,
                unit,
                actions.find_meeting(s, a, "council-2012-1"),
                text,
                [person(s, "fred-nilsson")],
                unit.clock.now(),
            ),
        )
        first = run(world, f"2012-02-{17 + 3 * (n - 1)}T08:00", box)
        assert len(box.of("minutes", first)) == len(COUNCIL)
    corrected = box.of("minutes", first)[0]
    assert (
        "version 2" in corrected["Subject"]
        and "Rättad version." in corrected.get_body(("plain",)).get_content()
    )


def test_a_rescheduled_meeting_sends_an_update_with_a_higher_sequence(world):
    box = Mailbox()
    invited = box.of("invitation", run(world, "2012-02-07T08:00", box))
    _, before = calendar_of(invited[0])
    act(
        world,
        "2012-02-11T11:00",
        lambda s, a, unit: actions.reschedule(
            s, unit, actions.find_meeting(s, a, "council-2012-1"), at("2012-02-21T09:00"), None, "Polishuset"
        ),
    )
    # Nothing goes out on a Saturday: the update leaves at Monday's send hour.
    assert not box.of("meeting_update", run(world, "2012-02-11T11:05", box))
    updates = box.of("meeting_update", run(world, "2012-02-13T08:00", box))
    assert {to(m) for m in updates} == COUNCIL
    fred = next(m for m in updates if to(m) == "fred-nilsson")
    method, after = calendar_of(fred)
    assert method == "REQUEST"
    assert after.vevent.uid.value == before.vevent.uid.value
    assert int(after.vevent.sequence.value) > int(before.vevent.sequence.value)
    assert after.vevent.dtstart.value == datetime(2012, 2, 21, 9, 0, tzinfo=STHLM)
    assert after.vevent.location.value == "Polishuset"
    assert "Ändrat möte" in fred["Subject"]
    # What changed, old → new, in the text, the HTML and the calendar event's description.
    old_time = "tisdag 14 februari 2012 kl. 13:00–15:00 → tisdag 21 februari 2012 kl. 09:00–11:00"
    old_place = "Kommunhuset, Härnösand (exempel) → Polishuset"
    for text in (
        fred.get_body(("plain",)).get_content(),
        after.vevent.description.value,
        re.sub(r"<[^>]+>", "", fred.get_body(("html",)).get_content()),
    ):
        assert old_time in text and old_place in text, text
    # The coordinator convenes: her copy is a PUBLISH of the same event, asking nothing of her.
    anna = next(m for m in updates if to(m) == "anna-sjoberg")
    method, hers = calendar_of(anna)
    assert method == "PUBLISH" and hers.method.value == "PUBLISH"
    assert hers.vevent.uid.value == after.vevent.uid.value
    assert hers.vevent.sequence.value == after.vevent.sequence.value
    assert not hasattr(hers.vevent, "attendee")
    assert not linked(anna)
    # The minutes are asked for after the new date, not the old one.
    assert not box.of("minutes_request", run(world, "2012-02-15T08:00", box))
    assert [to(m) for m in box.of("minutes_request", run(world, "2012-02-22T08:00", box))] == ["karin-ek"]


def test_a_cancelled_meeting_sends_a_cancel_with_the_same_uid(world):
    box = Mailbox()
    invited = box.of("invitation", run(world, "2012-02-07T08:00", box))
    _, before = calendar_of(invited[0])
    act(
        world,
        "2012-02-08T11:00",
        lambda s, a, unit: actions.cancel(
            s, unit, actions.find_meeting(s, a, "council-2012-1"), "För få kan komma"
        ),
    )
    cancellations = box.of("cancellation", run(world, "2012-02-09T08:00", box))
    assert {to(m) for m in cancellations} == COUNCIL
    method, cal = calendar_of(next(m for m in cancellations if to(m) == "fred-nilsson"))
    assert method == "CANCEL" and cal.method.value == "CANCEL"
    # The coordinator's calendar copy is published as cancelled, not a CANCEL sent to its organizer.
    method, hers = calendar_of(next(m for m in cancellations if to(m) == "anna-sjoberg"))
    assert method == "PUBLISH" and hers.vevent.status.value == "CANCELLED"
    assert cal.vevent.uid.value == before.vevent.uid.value
    assert cal.vevent.status.value == "CANCELLED"
    assert int(cal.vevent.sequence.value) > int(before.vevent.sequence.value)
    assert "För få kan komma" in cancellations[0].get_body(("plain",)).get_content()
    for day in ("2012-02-15", "2012-02-22"):
        assert not {m["X-Trygg-Kind"] for m in box.sent[run(world, f"{day}T08:00", box) :]} & MEETING_KINDS


def test_minutes_missing_a_week_after_the_meeting_are_chased_until_recorded(world):
    box = Mailbox()
    asked: dict[str, list[str]] = {}
    for day in (
        "2012-02-07",
        "2012-02-15",
        "2012-02-16",
        "2012-02-20",
        "2012-02-21",
        "2012-02-22",
        "2012-02-27",
        "2012-02-28",
    ):
        asked[day] = [m["Subject"] for m in box.of("minutes_request", run(world, f"{day}T08:00", box))]
    assert asked["2012-02-15"] and asked["2012-02-15"][0].startswith("Mötesanteckningar: ")
    assert asked["2012-02-21"] and asked["2012-02-21"][0].startswith("Mötesanteckningar saknas")
    assert asked["2012-02-28"] and asked["2012-02-28"][0].startswith("Mötesanteckningar saknas")
    assert [d for d, subjects in asked.items() if subjects] == ["2012-02-15", "2012-02-21", "2012-02-28"]
    assert "påminnelse 2" in box.of("minutes_request")[-1].get_body(("plain",)).get_content()
    act(
        world,
        "2012-03-01T10:00",
        lambda s, a, unit: actions.record_minutes(
            s, unit, actions.find_meeting(s, a, "council-2012-1"), "Anteckningar.\n", [], unit.clock.now()
        ),
    )
    assert not box.of("minutes_request", run(world, "2012-03-06T08:00", box))


def test_co_opted_guests_get_the_invitation_of_their_meeting_only_and_survive_a_reload(world):
    def invite_guests(s, a, unit):
        guest = actions.add_guest(
            s,
            unit,
            a,
            name="Ola Föreningsson",
            email="ola@forening.example.org",
            organisation="foreningar",
            language="en",
        )
        actions.coopt(s, unit, actions.find_meeting(s, a, "council-2012-2"), guest)
        actions.coopt(s, unit, actions.find_meeting(s, a, "council-2012-2"), person(s, "eva-strom"))
        return guest.key

    guest_key = act(world, "2012-01-20T10:00", invite_guests)
    load_file(world, HARNOSAND)  # a reload of the file must not retire the guest
    with world() as session:
        guest = person(session, guest_key)
        assert guest.active and guest.is_guest
    box = Mailbox()
    days = (
        "2012-01-31",
        "2012-02-07",
        "2012-03-27",
        "2012-04-03",
    )  # calls and invitations of meetings 1 and 2
    for day in days:
        run(world, f"{day}T08:00", box)
    guests = {"ola", "eva-strom"}
    assert not guests & {to(m) for m in box.of("agenda_call")}  # the call is for members
    first = [m for m in box.of("invitation") if "rådsmöte 1 av 4" in m["Subject"]]
    second = [m for m in box.of("invitation") if "rådsmöte 2 av 4" in m["Subject"]]
    assert {to(m) for m in first} == COUNCIL
    assert {to(m) for m in second} == COUNCIL | guests
    ola = next(m for m in second if to(m) == "ola")
    assert ola["Content-Language"] == "en" and ola["Subject"].startswith("Invitation:")
    assert "co-opted" in ola.get_body(("plain",)).get_content()
    _, cal = calendar_of(ola)
    roles = {a.value: a.params["ROLE"][0] for a in cal.vevent.attendee_list}
    assert roles["mailto:ola@forening.example.org"] == "OPT-PARTICIPANT"
    assert roles["mailto:fred.nilsson@example.org"] == "REQ-PARTICIPANT"


def test_a_guest_co_opted_after_the_invitations_left_gets_one_at_the_next_sweep(world):
    box = Mailbox()
    run(world, "2012-02-07T08:00", box)
    act(
        world,
        "2012-02-08T09:00",
        lambda s, a, unit: actions.coopt(
            s, unit, actions.find_meeting(s, a, "council-2012-1"), person(s, "eva-strom")
        ),
    )
    late = box.of("invitation", run(world, "2012-02-09T08:00", box))
    assert [to(m) for m in late] == ["eva-strom"]


def test_an_ad_hoc_meeting_called_at_short_notice_gets_its_invitation_without_a_call(world):
    def add(s, a, unit):
        council = [
            p for p in a.people if {"council_member", "council_secretary", "coordinator"} & set(p.role_names)
        ]
        return actions.add_meeting(
            s,
            unit,
            a,
            title="Extra rådsmöte om skadegörelse",
            starts_at=at("2012-03-08T15:00"),
            ends_at=at("2012-03-08T16:00"),
            location=None,
            invite=council,
        ).key

    key = act(world, "2012-03-05T10:00", add)
    first = run(world, "2012-03-06T08:00", box := Mailbox())
    assert not box.of("agenda_call", first)
    assert {to(m) for m in box.of("invitation", first)} == COUNCIL
    called = meeting(world, key).id
    answers = {("attend", "meeting", called), ("decline", "meeting", called)}
    invited = [m for m in box.of("invitation", first) if to(m) != "anna-sjoberg"]
    assert invited and all(linked(m) == answers for m in invited)
    # The coordinator convenes it: her copy is for her calendar, with nothing to answer.
    assert all(not linked(m) for m in box.of("invitation", first) if to(m) == "anna-sjoberg")


def test_a_late_load_does_not_chase_the_history_it_never_convened(world):
    box = Mailbox()
    run(world, "2012-12-17T08:00", box)
    assert not {m["X-Trygg-Kind"] for m in box.sent} & MEETING_KINDS
    with world() as session:
        past = session.scalars(select(Meeting).where(Meeting.starts_at < at("2012-12-17T08:00"))).all()
        assert past and all(m.next_action_at is None for m in past)


def test_meeting_mails_are_notices_with_keys_and_a_sweep_reads_only_due_meetings(world):
    report = sweep(world, at("2012-01-31T08:00"))
    assert report.meetings == 1  # council-2012-1 only: every other meeting waits for its day
    again = sweep(world, at("2012-01-31T08:00"))
    assert again.meetings == 0 and again.notices == 0
    with world() as session:
        notices = session.scalars(select(Notice).where(Notice.subject_type == "meeting")).all()
        assert len(notices) == len(COUNCIL)
        assert {n.key.split("/")[0] for n in notices} == {"agenda_call"}
        assert all(n.key.endswith(f"/meeting:{n.subject_id}:agenda_call") for n in notices)
        mails = session.scalars(select(Mail).where(Mail.kind == "agenda_call")).all()
        assert len(mails) == len(COUNCIL) and all(m.key.startswith("agenda_call/") for m in mails)


@pytest.fixture
def cli_env(cli_loaded, tmp_path) -> dict[str, str]:
    return {
        "TRYGG_DATABASE_URL": cli_loaded,
        "TRYGG_MAIL_DIR": str(tmp_path / "mail"),
        "COLUMNS": "200",
        "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
    }


def test_meeting_cli_co_opts_a_guest_and_the_sweep_invites_them(cli_env, tmp_path):
    """`trygg meeting coopt --name …` makes a guest; `trygg sweep --now` sends the invitation as a file."""
    import json

    from tests.conftest import trygg

    env = cli_env
    guest = (
        "--name",
        "Ola Föreningsson",
        "--email",
        "ola@forening.example.org",
        "--organisation",
        "foreningar",
    )
    added = trygg("meeting", "coopt", "council-2012-2", *guest, env=env)
    assert added.returncode == 0, added.stderr
    assert "ola-foreningsson" in added.stdout
    swept = json.loads(trygg("sweep", "--now", "2012-04-03T08:00:00+02:00", "--json", env=env).stdout)
    assert swept["sweep"]["meetings"] >= 1
    names = sorted(p.name for p in (tmp_path / "mail").glob("*_invitation_*.eml"))
    assert any(n.startswith("2012-04-03_invitation_ola-foreningsson_") for n in names)
    shown = json.loads(trygg("meeting", "show", "council-2012-2", "--json", env=env).stdout)
    assert any(i["id"] == "ola-foreningsson" and i["guest"] and i["co_opted"] for i in shown["invitees"])
    assert shown["next_action_at"] is not None

    minutes = tmp_path / "minutes.md"
    minutes.write_text("1. Klotter vid resecentrum.\n", encoding="utf-8")
    # The CLI's clock is the real one: the meeting of 2012 lies in its past.
    attended = ("--attended", "fred-nilsson,ola-foreningsson")
    recorded = trygg("meeting", "minutes", "council-2012-2", str(minutes), *attended, env=env)
    assert recorded.returncode == 0, recorded.stderr
    trygg("sweep", "--now", "2012-04-12T08:00:00+02:00", env=env)
    sent = sorted(p.name for p in (tmp_path / "mail").glob("2012-04-12_minutes_*.eml"))
    assert len(sent) == 8 and any("ola-foreningsson" in n for n in sent)


def test_meeting_cli_refuses_a_guest_both_known_and_new_or_of_an_unknown_organisation(cli_env):
    from tests.conftest import trygg

    both = trygg("meeting", "coopt", "council-2012-2", "eva-strom", "--name", "X", env=cli_env)
    assert both.returncode == 2
    stranger = ("--name", "Y", "--email", "y@example.org", "--organisation", "nowhere")
    unknown_org = trygg("meeting", "coopt", "council-2012-2", *stranger, env=cli_env)
    assert unknown_org.returncode == 3 and "nowhere" in unknown_org.stderr


def test_meeting_settings_are_read_from_the_file_and_bad_ones_refused_with_their_place(tmp_path, sessions):
    from workflow.agreement.validate import read_agreement
    from workflow.source import InputError

    text = HARNOSAND.read_text(encoding="utf-8")
    good = tmp_path / "good.yaml"
    good.write_text(
        text.replace(
            "\ncycle:\n", "\nmeetings:\n  agenda_call_days: 21\n  invitation_days: 10\n\ncycle:\n", 1
        ),
        encoding="utf-8",
    )
    load_file(sessions, good)
    box = Mailbox()
    assert {
        to(m) for m in box.of("agenda_call", run(sessions, "2012-01-24T08:00", box))
    } == COUNCIL  # 21 days before
    assert {
        to(m) for m in box.of("invitation", run(sessions, "2012-02-03T08:00", box))
    } == COUNCIL  # 10 days before (Sat → Fri)

    bad = tmp_path / "bad.yaml"
    bad.write_text(
        text.replace("\ncycle:\n", "\nmeetings:\n  agenda_call_days: 5\n\ncycle:\n", 1), encoding="utf-8"
    )
    with pytest.raises(InputError) as refused:
        read_agreement(bad)
    (problem,) = refused.value.problems
    assert problem.path == "meetings" and problem.line is not None and "invitation_days" in problem.message


def attached_calendar(message) -> icalendar.Calendar:
    """The calendar file a mail attaches (not a calendar part a client acts on), parsed by icalendar."""
    files = [p for p in message.iter_attachments() if p.get_content_type() == "text/calendar"]
    assert len(files) == 1 and files[0].get_filename() == "moten-2012.ics"
    assert not [p for p in message.walk() if p.get_param("method")]  # no text/calendar alternative
    return icalendar.Calendar.from_ical(files[0].get_payload(decode=True))


def test_the_years_meeting_plan_holds_the_slots_the_invitations_later_update(world):
    box = Mailbox()
    plans = box.of("meeting_plan", run(world, "2012-01-02T08:00", box))  # the first send slot of 2012
    assert {to(m) for m in plans} == COUNCIL  # one each
    fred = next(m for m in plans if to(m) == "fred-nilsson")
    cal = attached_calendar(fred)
    assert cal["METHOD"] == "PUBLISH"
    events = {str(e["UID"]): e for e in cal.walk("VEVENT")}
    with world() as session:
        held = session.scalars(select(Meeting).where(Meeting.year == 2012).order_by(Meeting.starts_at)).all()
        his = [m for m in held if any(i.person.key == "fred-nilsson" for i in m.invitees)]
    assert len(events) == len(his) >= 5  # four council meetings and the yearly review, at least
    assert all(not e.get("ATTENDEE") for e in events.values())
    assert all(str(e["ORGANIZER"]) == "mailto:anna.sjoberg@example.org" for e in events.values())
    text = fred.get_body(("plain",)).get_content()
    assert "tisdag 14 februari 2012 kl. 13:00–15:00" in text and "Kommunhuset, Härnösand (exempel)" in text
    assert f"Dina {len(his)} möten 2012" in fred["Subject"]
    # The feed address is the person's own and opens their calendar.
    feed = re.search(r"https://trygg\.example\.org/calendar/(\S+)\.ics", text)
    assert feed and LINKS.signer.verify_feed(feed.group(1))[1] == person_id(world, "fred-nilsson")
    assert "webcal://trygg.example.org/calendar/" in text
    # Once a year: the next sweeps send no second plan.
    assert not box.of("meeting_plan", run(world, "2012-01-03T08:00", box))

    invitations = box.of("invitation", run(world, "2012-02-07T08:00", box))
    _, invitation = calendar_of(next(m for m in invitations if to(m) == "fred-nilsson"))
    assert invitation.vevent.uid.value in events  # the invitation updates the held slot
    held_slot = events[invitation.vevent.uid.value]
    assert int(invitation.vevent.sequence.value) >= int(held_slot["SEQUENCE"])
    assert held_slot.decoded("DTSTART") == invitation.vevent.dtstart.value
    for message in (*plans, *invitations):  # nobody is asked to answer through a calendar client
        for part in message.walk():
            if part.get_content_type() == "text/calendar":
                assert "RSVP=TRUE" not in part.get_payload(decode=True).decode("utf-8")


def person_id(sessions, key: str) -> int:
    with sessions() as session:
        return person(session, key).id
