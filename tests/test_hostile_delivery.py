"""Hostile and odd input at delivery (issue 13): one bad mail never stops the others.

Each test runs the real sweep and delivery on SQLite and PostgreSQL against a real SMTP server
(aiosmtpd on 127.0.0.1). Faults a real server cannot be made to produce (a transport raising
something nobody foresaw) come from a transport that wraps the real one and raises for one address.
"""

from __future__ import annotations

import logging
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import deadline_area, load_file, run_trygg
from tests.mail_links import LINKS
from tests.smtp_server import Script
from workflow.agreement.models import Person
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.outbox.delivery import MAX_ATTEMPTS, claim, claim_lease, deliver
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.outbox.transport import SmtpConfig, SmtpTransport
from workflow.status import engine_status
from workflow.synthetic import as_yaml, synthetic_agreement

DAY = date(2013, 3, 15)  # a Friday: every activity is due today, so everyone gets a reminder
AT_EIGHT = datetime(2013, 3, 15, 8, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
SENDER = "trygg <trygg@example.org>"
IDN = "x@xn--exmple-cua.se"  # what `check` turns into x@exämple.se
COORDINATOR = "samordnare@example.org"


def ten_people(tmp_path, emails: dict[int, str] | None = None, *, coordinator: bool = True, drop=()):
    """A synthetic agreement whose ten officers person-1…10 each get one reminder at AT_EIGHT."""
    data = synthetic_agreement(activities=1, people=13, around=DAY, spread_days=0)
    for person in data["people"]:
        number = person["id"].removeprefix("person-")
        if number.isdigit() and int(number) in (emails or {}):
            person["email"] = emails[int(number)]
        if not coordinator:
            person["roles"] = [r for r in person["roles"] if r != "coordinator"]
    data["people"] = [p for p in data["people"] if p["id"] not in drop]
    owners = ["Polis"] + [f"Enhet {i}" for i in range(1, 10)]
    data["plan"]["areas"] = deadline_area(owners, DAY)
    path = tmp_path / "agreement.yaml"
    path.write_text(as_yaml(data), encoding="utf-8")
    return path


def smtp(server) -> SmtpTransport:
    return SmtpTransport(SmtpConfig.from_url(server.url, 5.0))


def run(sessions, transport, when=AT_EIGHT):
    sweep(sessions, when)
    return deliver(sessions, FixedClock(when), transport, sender=SENDER, lease=claim_lease(5), links=LINKS)


def mails(sessions, *where) -> list[Mail]:
    with sessions() as session:
        return list(session.scalars(select(Mail).where(*where).order_by(Mail.id)))


def mail_to(sessions, address: str) -> Mail:
    with sessions() as session:
        person = session.scalar(select(Person).where(Person.email == address))
        return session.scalar(select(Mail).where(Mail.recipient_id == person.id))


def rcpts(server) -> list[str]:
    with server.recorder.lock:
        return [to for _, tos in server.recorder.envelopes for to in tos]


def test_an_idn_recipient_among_ten_is_delivered_and_nothing_is_left_sending(sessions, tmp_path, smtp_server):
    load_file(sessions, ten_people(tmp_path, {4: IDN}))
    server = smtp_server()
    delivered = run(sessions, smtp(server))
    assert len(delivered.sent) == 10 and delivered.failed == delivered.retrying == []
    assert mails(sessions, Mail.status != MailStatus.SENT) == []
    assert IDN in rcpts(server) and len(rcpts(server)) == 10
    (received,) = [m for m in server.messages if m["To"].addresses[0].addr_spec == IDN]
    assert received["To"].addresses[0].domain == "xn--exmple-cua.se"  # a valid ASCII header


def test_a_local_part_outside_ascii_fails_with_the_reason_and_the_coordinator_is_told(
    sessions, tmp_path, smtp_server
):
    load_file(sessions, ten_people(tmp_path, {4: "åsa@example.org"}))
    server = smtp_server()  # no SMTPUTF8 offered
    delivered = run(sessions, smtp(server))
    assert len(delivered.sent) == 10  # the nine, then the coordinator's failure report
    (failed,) = delivered.failed
    assert failed["to"] == "åsa@example.org" and "SMTPUTF8" in failed["reply"]
    assert mail_to(sessions, "åsa@example.org").status == MailStatus.FAILED
    (report,) = mails(sessions, Mail.kind == "delivery_failure")
    assert report.status == MailStatus.SENT and COORDINATOR in rcpts(server)
    assert mails(sessions, Mail.status == MailStatus.SENDING) == []


def test_a_local_part_outside_ascii_goes_out_where_the_server_offers_smtputf8(
    sessions, tmp_path, smtp_server
):
    load_file(sessions, ten_people(tmp_path, {4: "åsa@exämple.se"}))
    server = smtp_server(smtputf8=True)
    delivered = run(sessions, smtp(server))
    assert len(delivered.sent) == 10 and delivered.failed == []
    assert "åsa@xn--exmple-cua.se" in rcpts(server)


class Exploding(SmtpTransport):
    """The real SMTP transport, but sending to one address raises what nobody foresaw."""

    def __init__(self, config, victim: str, times: int) -> None:
        super().__init__(config)
        self.victim, self.times = victim, times

    def send(self, message, *, sender, recipient, filename):
        if recipient == self.victim and self.times > 0:
            self.times -= 1
            raise UnicodeEncodeError("ascii", recipient, 0, 1, "a fault nobody foresaw")
        return super().send(message, sender=sender, recipient=recipient, filename=filename)


def test_a_transport_raising_once_is_retried_then_delivered(sessions, tmp_path, smtp_server):
    load_file(sessions, ten_people(tmp_path))
    server = smtp_server()
    victim = "person-3@example.org"
    first = run(sessions, Exploding(SmtpConfig.from_url(server.url, 5.0), victim, times=1))
    assert len(first.sent) == 9 and [r["to"] for r in first.retrying] == [victim]
    mail = mail_to(sessions, victim)
    assert mail.status == MailStatus.PENDING and "UnicodeEncodeError" in mail.last_error
    later = run(sessions, smtp(server), when=mail.next_attempt_at)
    assert [m["to"] for m in later.sent] == [victim]
    assert mail_to(sessions, victim).attempts == 2 and len(rcpts(server)) == 10


def test_a_transport_raising_always_fails_the_mail_tells_the_coordinator_and_the_queue_drains(
    sessions, tmp_path, smtp_server
):
    load_file(sessions, ten_people(tmp_path))
    server = smtp_server()
    victim = "person-3@example.org"
    transport_config = SmtpConfig.from_url(server.url, 5.0)
    when = AT_EIGHT
    for _ in range(MAX_ATTEMPTS):
        run(sessions, Exploding(transport_config, victim, times=1), when=when)
        mail = mail_to(sessions, victim)
        when = mail.next_attempt_at or when
    assert mail.status == MailStatus.FAILED and mail.attempts == MAX_ATTEMPTS
    assert "UnicodeEncodeError" in mail.last_error
    assert COORDINATOR in rcpts(server) and len(rcpts(server)) == 10  # nine reminders, one report
    assert mails(sessions, Mail.status.in_([MailStatus.SENDING, MailStatus.PENDING])) == []


def test_a_mail_whose_worker_died_goes_behind_the_others_and_never_past_the_maximum(
    sessions, tmp_path, smtp_server
):
    load_file(sessions, ten_people(tmp_path))
    server = smtp_server()
    sweep(sessions, AT_EIGHT)
    lease = claim_lease(5)
    with transaction(sessions) as session:  # claimed, then the worker dies mid-send
        dead, _ = claim(session, AT_EIGHT, lease)
    later = AT_EIGHT + lease + timedelta(seconds=1)
    delivered = deliver(sessions, FixedClock(later), smtp(server), sender=SENDER, lease=lease, links=LINKS)
    assert [m["mail"] for m in delivered.sent][-1] == dead  # the others went first
    # The same mail dying on its last allowed attempt is failed, not tried a ninth time.
    with transaction(sessions) as session:
        session.get(Mail, dead).status = MailStatus.PENDING
        session.get(Mail, dead).attempts = MAX_ATTEMPTS - 1
        session.get(Mail, dead).next_attempt_at = later
        claim(session, later, lease)
    last = later + lease + timedelta(seconds=1)
    again = deliver(sessions, FixedClock(last), smtp(server), sender=SENDER, lease=lease, links=LINKS)
    (failed,) = [m for m in mails(sessions) if m.id == dead]
    assert failed.status == MailStatus.FAILED and failed.attempts == MAX_ATTEMPTS
    assert dead in [m["mail"] for m in again.failed] and COORDINATOR in rcpts(server)


def test_a_mail_dir_that_is_a_file_retries_every_mail_and_exits_cleanly(db_url, tmp_path):
    (tmp_path / "mail").write_text("not a directory")
    env = {"TRYGG_DATABASE_URL": db_url, "TRYGG_MAIL_DIR": str(tmp_path / "mail")}
    assert run_trygg("db", "upgrade", env=env).returncode == 0
    assert run_trygg("load", str(ten_people(tmp_path)), env=env).returncode == 0
    result = run_trygg("sweep", "--now", AT_EIGHT.isoformat(), "--json", env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    import json

    delivery = json.loads(result.stdout)["delivery"]
    assert delivery["sent"] == [] and len(delivery["retrying"]) == 10
    assert all("cannot write" in r["reply"] for r in delivery["retrying"])


def test_two_people_sharing_an_address_get_one_mail_and_check_warns(sessions, tmp_path, smtp_server):
    path = ten_people(tmp_path, {5: "delad@example.org", 6: "Delad@example.org"})
    checked = run_trygg("check", str(path))
    assert checked.returncode == 0 and "person-5" in checked.stderr and "person-6" in checked.stderr
    load_file(sessions, path)
    server = smtp_server()
    delivered = run(sessions, smtp(server))
    assert len(delivered.sent) == 9 and rcpts(server).count("delad@example.org") == 1
    (shared,) = [m for m in server.messages if m["To"].addresses[0].addr_spec == "delad@example.org"]
    body = shared.get_body(("plain",)).get_content()
    assert "Aktivitet 5" in body and "Aktivitet 6" in body and shared["X-Trygg-Kind"] == "digest"


def test_a_person_retired_by_a_reload_gets_nothing_already_pending(sessions, tmp_path, smtp_server):
    load_file(sessions, ten_people(tmp_path))
    sweep(sessions, AT_EIGHT)  # composed, not sent
    load_file(sessions, ten_people(tmp_path, drop=("person-7",)))
    with sessions() as session:
        retired = session.scalar(select(Person).where(Person.key == "person-7"))
        assert not retired.active
        live = session.scalars(
            select(Notice).where(Notice.recipient_id == retired.id, Notice.cancelled_at.is_(None))
        ).all()
        assert live == []
    server = smtp_server()
    delivered = deliver(
        sessions, FixedClock(AT_EIGHT), smtp(server), sender=SENDER, lease=claim_lease(5), links=LINKS
    )
    assert "person-7@example.org" not in rcpts(server) and delivered.cancelled == 1


def test_without_a_coordinator_there_is_no_reply_to_and_a_failure_is_logged_and_counted(
    sessions, tmp_path, smtp_server, caplog
):
    load_file(sessions, ten_people(tmp_path, coordinator=False))
    server = smtp_server(Script(refuse={"person-2@example.org": "550 5.1.1 No such user"}))
    with caplog.at_level(logging.ERROR, logger="workflow.outbox.delivery"):
        delivered = run(sessions, smtp(server))
    assert len(delivered.sent) == 9 and len(delivered.failed) == 1
    assert all(m["Reply-To"] is None for m in server.messages)
    assert "no coordinator" in caplog.text
    with sessions() as session:
        health = engine_status(session, AT_EIGHT)
    assert health["mails_failed_untold"] == 1 and health["warnings"] == ["mail_failures_untold"]


def test_trygg_mail_test_reports_the_servers_answer(smtp_server):
    server = smtp_server(Script(refuse={"nobody@example.org": "550 5.1.1 No such user"}))
    env = {"TRYGG_SMTP_URL": server.url, "TRYGG_BOUNCE_ADDRESS": "bounces@example.org"}
    accepted = run_trygg("mail", "test", "anna@exämple.se", env=env)
    assert accepted.returncode == 0 and "250" in accepted.stdout, accepted.stderr
    with server.recorder.lock:
        assert server.recorder.envelopes[0] == ("bounces@example.org", ["anna@xn--exmple-cua.se"])
    refused = run_trygg("mail", "test", "nobody@example.org", env=env)
    assert refused.returncode == 1 and "550 5.1.1 No such user" in refused.stderr
    bad = run_trygg("mail", "test", "inte en adress", env=env)
    assert bad.returncode == 2 and "Traceback" not in bad.stderr


@pytest.mark.parametrize("address", ["inte en adress", "a@b", "x@exämple..se", "a\n@example.org"])
def test_check_refuses_what_delivery_would_refuse(tmp_path, address):
    from workflow.addresses import AddressError, parse_address

    with pytest.raises(AddressError):
        parse_address(address)
    result = run_trygg("check", str(ten_people(tmp_path, {2: address})))
    assert result.returncode == 2 and "people[4].email" in result.stderr.replace("\n", "")
