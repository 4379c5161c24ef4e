"""A year of the Härnösand agreement: daily sweeps over 2012 convene the council and hold the check-ins.

The engine runs as it does live — a sweep and a delivery with the file transport at 08:00 on
every working day — while the test plays the secretary, recording minutes as meetings pass
(one set of check-in minutes late, to be chased). The outbox's `.eml` files are the evidence.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
from tests.mail_links import LINKS
from workflow import migrate
from workflow.audit import LoadResult, UnitOfWork
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.engine.sweep import sweep
from workflow.meetings import actions
from workflow.meetings.models import Meeting, MeetingStatus
from workflow.outbox.delivery import claim_lease, deliver
from workflow.outbox.transport import FileTransport
from workflow.status import resolve_agreement
from workflow.workdays import WorkCalendar

pytestmark = pytest.mark.slow  # a sweep on every working day of 2012

STHLM = ZoneInfo("Europe/Stockholm")
LATE = "check_in-2012-2"  # its minutes come ten days late


def secretary(sessions, now: datetime) -> None:
    """Record the minutes of every meeting that ended two days ago (the late one after ten)."""
    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        unit = UnitOfWork(session, FixedClock(now), "cli:karin", LoadResult(agreement.key, created=False))
        unit.agreement_id = agreement.id
        for m in session.scalars(
            select(Meeting).where(Meeting.status == MeetingStatus.PLANNED, Meeting.ends_at < now)
        ):
            if now - m.ends_at >= timedelta(days=10 if m.key == LATE else 2):
                present = [i.person for i in m.invitees][:3]
                actions.record_minutes(session, unit, m, f"Anteckningar från {m.title}.\n", present, now)


@pytest.fixture(scope="module")
def year_2012(tmp_path_factory) -> Path:
    """Every working day of 2012 swept at 08:00 (once for the module: it takes a while)."""
    tmp_path = tmp_path_factory.mktemp("year-2012")
    engine = make_engine(f"sqlite:///{tmp_path / 'trygg.db'}")
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    load_file(sessions, HARNOSAND)
    outbox = tmp_path / "mail"
    days = WorkCalendar("Europe/Stockholm")
    day = date(2012, 1, 2)
    while day <= date(2012, 12, 31):
        if days.is_working_day(day):
            now = datetime.combine(day, time(8, 0), tzinfo=STHLM)
            secretary(sessions, now - timedelta(hours=1))
            sweep(sessions, now)
            deliver(
                sessions,
                FixedClock(now),
                FileTransport(outbox),
                sender="trygg <trygg@example.org>",
                lease=claim_lease(30),
                links=LINKS,
            )
        day += timedelta(days=1)
    with sessions() as session:  # mails name a meeting by its title (its key left them with the Id lines)
        titles = {m.title: m.key for m in session.scalars(select(Meeting))}
    engine.dispose()
    assert len(titles) == len(set(titles.values())), (
        "two meetings share a title: mails cannot tell them apart"
    )
    (tmp_path / "titles.json").write_text(json.dumps(titles), encoding="utf-8")
    return outbox


def meeting_mails(outbox: Path) -> dict[str, list[tuple[str, str, object]]]:
    """Per meeting id: (kind, recipient, message) of every meeting mail naming it."""
    titles = json.loads((outbox.parent / "titles.json").read_text(encoding="utf-8"))
    out: dict[str, list] = defaultdict(list)
    for path in sorted(outbox.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(("plain",)).get_content()
        recipient = path.name.split("_")[-2]
        for line in body.splitlines():
            key = titles.get(line.strip())
            if key and key.split("-")[0] in ("council", "check_in", "yearly_review", "evaluation"):
                out[key].append((msg["X-Trygg-Kind"], recipient, msg, path.name[:10]))
    return out


COUNCIL = {
    "fred-nilsson",
    "thomas-nyberg",
    "anna-sjoberg",
    "johan-berg",
    "maria-lund",
    "erik-holm",
    "karin-ek",
}


class Mails:
    """The year's meeting mails, asked by meeting and kind."""

    def __init__(self, outbox: Path) -> None:
        self.by_meeting = meeting_mails(outbox)

    def who(self, key: str, kind: str) -> set[str]:
        return {r for k, r, _, _ in self.by_meeting[key] if k == kind}

    def when(self, key: str, kind: str) -> set[str]:
        return {d for k, _, _, d in self.by_meeting[key] if k == kind}

    def first(self, key: str, kind: str):
        return next(m for k, _, m, _ in self.by_meeting[key] if k == kind)


@pytest.fixture(scope="module")
def mails(year_2012) -> Mails:
    return Mails(year_2012)


@pytest.mark.parametrize(
    ("n", "call", "invite"),
    [
        (1, "2012-01-31", "2012-02-07"),
        (2, "2012-03-27", "2012-04-03"),
        (3, "2012-08-28", "2012-09-04"),
        (4, "2012-10-30", "2012-11-06"),
    ],
)
def test_sweeps_over_2012_call_invite_and_ask_minutes_of_each_council_meeting(mails, n, call, invite):
    key = f"council-2012-{n}"
    assert mails.who(key, "agenda_call") == COUNCIL and mails.when(key, "agenda_call") == {call}
    assert mails.who(key, "invitation") == COUNCIL and mails.when(key, "invitation") == {invite}
    assert mails.who(key, "minutes_request") == {"karin-ek"}
    assert mails.who(key, "minutes") == COUNCIL
    kinds = Counter(k for k, _, _, _ in mails.by_meeting[key])
    assert kinds["agenda_call"] == kinds["invitation"] == kinds["minutes"] == 7
    assert kinds["minutes_request"] == 1
    invitation = mails.first(key, "invitation")
    part = next(p for p in invitation.walk() if p.get_content_type() == "text/calendar")
    cal = vobject.readOne(part.get_payload(decode=True).decode())
    assert cal.vevent.uid.value == f"harnosand-2012-2013.meeting.{key}@trygg"


@pytest.mark.parametrize(
    ("key", "invite", "report"),
    [("check_in-2012-1", "2012-05-31", "2012-06-05"), ("check_in-2012-2", "2012-10-25", "2012-10-30")],
)
def test_both_check_ins_invite_the_parties_report_before_and_send_minutes_after(mails, key, invite, report):
    parties = {"anna-sjoberg", "johan-berg"}
    assert mails.who(key, "checkin_invitation") == parties
    assert mails.when(key, "checkin_invitation") == {invite}
    assert mails.who(key, "checkin_report") == parties and mails.when(key, "checkin_report") == {report}
    text = mails.first(key, "checkin_report").get_body(("plain",)).get_content()
    assert "== Trygga medborgare i ett tryggt centrum ==" in text and "Läge: " in text
    assert mails.who(key, "minutes_request") == {"anna-sjoberg"}  # the coordinator: no secretary invited
    assert mails.who(key, "minutes") == parties


def test_late_minutes_are_asked_for_the_day_after_then_chased_a_week_after(mails):
    assert mails.when(LATE, "minutes_request") == {"2012-11-02", "2012-11-08"}


def test_the_yearly_review_is_the_councils_meeting_with_its_agenda_from_the_cycle(mails):
    assert mails.who("yearly_review-2012", "agenda_call") == COUNCIL
    review = mails.first("yearly_review-2012", "invitation").get_body(("plain",)).get_content()
    assert "Översyn av handlingsplanen 2012" in review
    assert "Revidering: förslag till handlingsplan 2013" in review


def test_the_evaluation_invites_and_both_leaderships_get_the_yearly_report(mails):
    assert mails.who("evaluation-2012", "invitation") == {"thomas-nyberg", "fred-nilsson", "anna-sjoberg"}
    assert mails.who("evaluation-2012", "evaluation") == {"thomas-nyberg", "fred-nilsson"}
    attached = next(p for p in mails.first("evaluation-2012", "evaluation").iter_attachments())
    assert attached.get_content_type() == "application/pdf" and attached.get_filename().endswith("-2012.pdf")
    assert attached["Content-Transfer-Encoding"] == "base64" and attached.get_content().startswith(b"%PDF")


def test_nothing_was_moved_or_cancelled_and_nothing_left_outside_a_working_day(mails):
    everything = [entry for entries in mails.by_meeting.values() for entry in entries]
    assert not {k for k, _, _, _ in everything} & {"meeting_update", "cancellation"}
    days = WorkCalendar("Europe/Stockholm")
    assert all(days.is_working_day(date.fromisoformat(d)) for _, _, _, d in everything)
