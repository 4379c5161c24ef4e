"""A year of the Härnösand agreement: daily sweeps over 2012 convene the council and hold the check-ins.

The engine runs as it does live — a sweep and a delivery with the file transport at 08:00 on
every working day — while the test plays the secretary, recording minutes as meetings pass
(one set of check-in minutes late, to be chased). The outbox's `.eml` files are the evidence.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from datetime import date, datetime, time, timedelta
from email import message_from_bytes, policy
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import vobject
from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
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


@pytest.fixture
def year_2012(tmp_path) -> Path:
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
            )
        day += timedelta(days=1)
    engine.dispose()
    return outbox


def meeting_mails(outbox: Path) -> dict[str, list[tuple[str, str, object]]]:
    """Per meeting id: (kind, recipient, message) of every meeting mail naming it."""
    out: dict[str, list] = defaultdict(list)
    for path in sorted(outbox.glob("*.eml")):
        msg = message_from_bytes(path.read_bytes(), policy=policy.default)
        body = msg.get_body(("plain",)).get_content()
        recipient = path.name.split("_")[-2]
        for line in body.splitlines():
            if line.strip().startswith("Id: ") and "-" in line:
                key = line.split("Id: ", 1)[1].strip()
                if key.split("-")[0] in ("council", "check_in", "yearly_review", "evaluation"):
                    out[key].append((msg["X-Trygg-Kind"], recipient, msg, path.name[:10]))
    return out


def test_sweeps_over_2012_convene_the_council_and_hold_both_check_ins(year_2012):
    by_meeting = meeting_mails(year_2012)
    council = {
        "fred-nilsson",
        "thomas-nyberg",
        "anna-sjoberg",
        "johan-berg",
        "maria-lund",
        "erik-holm",
        "karin-ek",
    }

    def who(key: str, kind: str) -> set[str]:
        return {r for k, r, _, _ in by_meeting[key] if k == kind}

    def when(key: str, kind: str) -> set[str]:
        return {d for k, _, _, d in by_meeting[key] if k == kind}

    # The council, four times: called, invited (with a calendar part), minutes asked for and sent.
    for n, (call, invite) in enumerate(
        [
            ("2012-01-31", "2012-02-07"),
            ("2012-03-27", "2012-04-03"),
            ("2012-08-28", "2012-09-04"),
            ("2012-10-30", "2012-11-06"),
        ],
        start=1,
    ):
        key = f"council-2012-{n}"
        assert who(key, "agenda_call") == council and when(key, "agenda_call") == {call}, key
        assert who(key, "invitation") == council and when(key, "invitation") == {invite}, key
        assert who(key, "minutes_request") == {"karin-ek"}
        assert who(key, "minutes") == council
        kinds = Counter(k for k, _, _, _ in by_meeting[key])
        assert (
            kinds["agenda_call"] == kinds["invitation"] == kinds["minutes"] == 7
            and kinds["minutes_request"] == 1
        )
        invitation = next(m for k, r, m, _ in by_meeting[key] if k == "invitation")
        cal = vobject.readOne(
            next(p for p in invitation.walk() if p.get_content_type() == "text/calendar")
            .get_payload(decode=True)
            .decode()
        )
        assert cal.vevent.uid.value == f"harnosand-2012-2013.meeting.{key}@trygg"

    # Both check-ins: the two parties' contacts invited, the status report before, minutes after.
    for key, invite, report in (
        ("check_in-2012-1", "2012-05-31", "2012-06-05"),
        ("check_in-2012-2", "2012-10-25", "2012-10-30"),
    ):
        assert who(key, "checkin_invitation") == {"anna-sjoberg", "johan-berg"} and when(
            key, "checkin_invitation"
        ) == {invite}
        assert who(key, "checkin_report") == {"anna-sjoberg", "johan-berg"} and when(
            key, "checkin_report"
        ) == {report}
        text = (
            next(m for k, _, m, _ in by_meeting[key] if k == "checkin_report")
            .get_body(("plain",))
            .get_content()
        )
        assert "== Trygga medborgare i ett tryggt centrum ==" in text and "Läge: " in text
        assert who(key, "minutes_request") == {"anna-sjoberg"}  # the coordinator: no secretary invited
        assert who(key, "minutes") == {"anna-sjoberg", "johan-berg"}
    # The late minutes were asked for the day after, then chased a week after the meeting.
    assert when(LATE, "minutes_request") == {"2012-11-02", "2012-11-08"}

    # The yearly review is the council's own meeting: called, invited, agenda from the cycle.
    assert who("yearly_review-2012", "agenda_call") == council
    review = (
        next(m for k, _, m, _ in by_meeting["yearly_review-2012"] if k == "invitation")
        .get_body(("plain",))
        .get_content()
    )
    assert (
        "Översyn av handlingsplanen 2012" in review
        and "Revidering: förslag till handlingsplan 2013" in review
    )

    # The evaluation: invited like any meeting, and both leaderships get the yearly report.
    assert who("evaluation-2012", "invitation") == {"thomas-nyberg", "fred-nilsson", "anna-sjoberg"}
    assert who("evaluation-2012", "evaluation") == {"thomas-nyberg", "fred-nilsson"}
    report = next(m for k, _, m, _ in by_meeting["evaluation-2012"] if k == "evaluation")
    attached = next(p for p in report.iter_attachments())
    assert attached.get_content_type() == "text/html" and attached.get_filename().endswith("-2012.html")
    assert "2012" in attached.get_content() and "<html" in attached.get_content().lower()

    # Nothing was moved or cancelled, and nothing left outside a working day's send hour.
    everything = [entry for entries in by_meeting.values() for entry in entries]
    assert not {k for k, _, _, _ in everything} & {"meeting_update", "cancellation"}
    days = WorkCalendar("Europe/Stockholm")
    assert all(days.is_working_day(date.fromisoformat(d)) for _, _, _, d in everything)
