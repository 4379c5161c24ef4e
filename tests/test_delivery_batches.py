"""Delivery in batches (issue 17): one claim, one read and one connection for many mails, and
nothing lost or sent twice when a recipient is refused, the server closes, or a lease runs out.

The real sweep and delivery on SQLite and PostgreSQL, against a real SMTP server (aiosmtpd on
127.0.0.1) scripted to refuse, to answer 421 and close, or to drop the connection mid-batch.
"""

from __future__ import annotations

import email.policy
import re
import threading
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, text
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import selectinload

from tests.conftest import HARNOSAND, load_file
from tests.mail_links import LINKS
from tests.smtp_server import Script
from tests.test_hostile_delivery import AT_EIGHT, COORDINATOR, SENDER, mails, rcpts, smtp, ten_people
from workflow import migrate
from workflow.agreement.models import Person
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.engine.sweep import decide_activities, sweep
from workflow.outbox import delivery, render
from workflow.outbox.delivery import claim_batch, claim_lease, claimable, deliver
from workflow.outbox.models import Mail, MailStatus
from workflow.outbox.render import Attachment, CalendarPart, Rendered, build_message
from workflow.outbox.transport import wire_bytes
from workflow.plan.models import Activity

LEASE = claim_lease(5)


def ten_due(sessions, tmp_path) -> None:
    """Ten people, each with one mail due at AT_EIGHT."""
    load_file(sessions, ten_people(tmp_path))
    sweep(sessions, AT_EIGHT)


def address_of(sessions, key: str) -> str:
    with sessions() as session:
        return session.scalar(select(Person.email).where(Person.key == key))


def send(sessions, server, when=AT_EIGHT, **kwargs):
    return deliver(
        sessions, FixedClock(when), smtp(server), sender=SENDER, lease=LEASE, links=LINKS, **kwargs
    )


def test_a_batch_claim_takes_the_earliest_mails_under_one_lease(sessions, tmp_path):
    ten_due(sessions, tmp_path)
    with transaction(sessions) as session:
        taken = claim_batch(session, AT_EIGHT, LEASE, size=4)
    assert len(taken.mail_ids) == 4 and taken.until == AT_EIGHT + LEASE
    sending = mails(sessions, Mail.status == MailStatus.SENDING)
    assert sorted(m.id for m in sending) == sorted(taken.mail_ids)
    assert {m.claim_token for m in sending} == {taken.token}
    assert all(m.claimed_until == AT_EIGHT + LEASE and m.attempts == 1 for m in sending)


def test_two_workers_claiming_at_once_never_get_the_same_mail(sessions, tmp_path, db_url):
    ten_due(sessions, tmp_path)
    if db_url.startswith("sqlite"):  # one writer at a time: the second claims after the first
        with transaction(sessions) as first:
            one = claim_batch(first, AT_EIGHT, LEASE, size=6)
        with transaction(sessions) as second:
            two = claim_batch(second, AT_EIGHT, LEASE, size=6)
    else:  # both transactions open at once: SKIP LOCKED splits the queue
        with transaction(sessions) as first, transaction(sessions) as second:
            one = claim_batch(first, AT_EIGHT, LEASE, size=6)
            two = claim_batch(second, AT_EIGHT, LEASE, size=6)
    assert len(one.mail_ids) == 6 and len(two.mail_ids) == 4
    assert not set(one.mail_ids) & set(two.mail_ids)
    with transaction(sessions) as third:
        assert claim_batch(third, AT_EIGHT, LEASE) is None


def test_an_expired_lease_releases_the_whole_batch_and_its_worker_cannot_mark_it(
    sessions, tmp_path, smtp_server
):
    ten_due(sessions, tmp_path)
    with transaction(sessions) as session:  # a worker claims all ten, then dies
        dead = claim_batch(session, AT_EIGHT, LEASE, size=10)
    with transaction(sessions) as session:  # still leased: nobody else gets them
        assert claim_batch(session, AT_EIGHT + LEASE - timedelta(seconds=1), LEASE) is None
    server = smtp_server()
    later = AT_EIGHT + LEASE + timedelta(seconds=1)
    delivered = send(sessions, server, later)
    assert sorted(m["mail"] for m in delivered.sent) == sorted(dead.mail_ids)
    assert len(rcpts(server)) == 10 and delivered.lost_claims == 0
    assert all(m.status == MailStatus.SENT and m.attempts == 2 for m in mails(sessions))
    with transaction(sessions) as session:  # the dead worker's token marks nothing any more
        assert claim_batch(session, later + LEASE * 2, LEASE) is None
        assert session.scalar(select(Mail.id).where(Mail.claim_token == dead.token)) is None


def test_one_connection_carries_a_batch_and_the_mails_are_marked_sent_with_their_replies(
    sessions, tmp_path, smtp_server
):
    ten_due(sessions, tmp_path)
    server = smtp_server()
    delivered = send(sessions, server, batch=4)  # three batches: 4, 4, 2
    assert len(delivered.sent) == 10 and len(server.recorder.peers) == 1
    sent = mails(sessions)
    assert all(m.status == MailStatus.SENT and m.sent_at == AT_EIGHT for m in sent)
    assert len({m.smtp_reply for m in sent}) == 10  # each its own "queued as …"
    assert all(m.message_id.endswith(f".mail-{m.id}@example.org>") for m in sent)
    assert {m.kind for m in sent} == {"reminder"}


def test_a_refused_recipient_mid_batch_is_failed_with_the_servers_reason_and_the_others_go(
    sessions, tmp_path, smtp_server
):
    ten_due(sessions, tmp_path)
    refused = address_of(sessions, "person-5")
    server = smtp_server(Script(refuse={refused: f"550 5.1.1 <{refused}>: Recipient address rejected"}))
    delivered = send(sessions, server)
    assert [m["to"] for m in delivered.failed] == [refused]
    assert [m["kind"] for m in delivered.sent].count("reminder") == 9
    assert len(server.recorder.peers) == 1  # RSET, and the same connection went on
    # The nine others, and then the coordinator's report of the refused one.
    assert refused not in rcpts(server) and rcpts(server)[-1] == COORDINATOR and len(rcpts(server)) == 10
    (failed,) = mails(sessions, Mail.status == MailStatus.FAILED)
    assert failed.last_error == f"550 5.1.1 <{refused}>: Recipient address rejected"
    assert mails(sessions, Mail.status.in_([MailStatus.PENDING, MailStatus.SENDING])) == []


@pytest.mark.parametrize("fault", ["closing", "drops"])
def test_a_421_or_a_dropped_connection_mid_batch_reconnects_and_loses_nothing(
    sessions, tmp_path, smtp_server, fault
):
    ten_due(sessions, tmp_path)
    victim = address_of(sessions, "person-5")
    server = smtp_server(Script(**{fault: {victim: 1}}))
    delivered = send(sessions, server)
    assert len(delivered.sent) == 10 and delivered.retrying == [] and delivered.failed == []
    assert sorted(rcpts(server)) == _recipients(sessions)  # each once
    assert len(server.recorder.peers) == 2  # the first connection, then a new one
    assert all(m.status == MailStatus.SENT for m in mails(sessions))


def _recipients(sessions) -> list[str]:
    with sessions() as session:
        return sorted(session.scalars(select(Person.email).join(Mail, Mail.recipient_id == Person.id)))


def _mails_by_person(sessions) -> list[tuple[str, str, tuple[str, ...]]]:
    """Each mail as (recipient, kind, its notices' keys): comparable across two databases."""
    with sessions() as session:
        rows = session.scalars(select(Mail).options(selectinload(Mail.notices))).all()
        people = dict(session.execute(select(Person.id, Person.key)).all())
        return sorted(
            (
                m.kind or "",
                people[m.recipient_id],
                tuple(sorted(f"{n.rule} {n.occurrence}" for n in m.notices)),
            )
            for m in rows
        )


def test_helpers_deciding_beside_the_sweep_leave_each_persons_notices_in_one_mail(sessions, tmp_path):
    """A sweep that asks other processes to decide with it (the Celery task does, when more than a
    batch is due) composes only once every due activity is decided: the mails are those of a sweep
    deciding alone, digests whole."""
    at = datetime.fromisoformat("2012-12-17T08:00:00+01:00")
    load_file(sessions, HARNOSAND)
    helpers: list[threading.Thread] = []

    def ask_for_help(now):
        for _ in range(2):
            helper = threading.Thread(target=decide_activities, args=(sessions, now), kwargs={"batch": 2})
            helper.start()
            helpers.append(helper)

    helped = sweep(sessions, at, batch=2, helpers=ask_for_help)
    for helper in helpers:
        helper.join()
    alone_engine = make_engine(f"sqlite:///{tmp_path / 'alone.db'}")
    migrate.upgrade(alone_engine)
    alone = session_factory(alone_engine)
    load_file(alone, HARNOSAND)
    by_itself = sweep(alone, at)
    assert helpers and helped.notices > 0  # more than a batch was due: help was asked for
    assert _mails_by_person(sessions) == _mails_by_person(alone)
    assert len(helped.mails) == len(by_itself.mails)
    assert any(kind == "digest" for kind, _, _ in _mails_by_person(sessions))
    with sessions() as session:  # nothing left due, nothing left unmailed
        assert (
            session.scalar(select(func.count()).select_from(Activity).where(Activity.next_action_at <= at))
            == 0
        )
    alone_engine.dispose()


class _Killed(BaseException):
    """The worker's process ending mid-send (kill -9): nothing after it runs, no handler catches it."""


def _dies_after(transport, sent: int):
    """The transport of a worker whose process ends (kill -9) when it has sent `sent` mails."""
    real_send, done = transport.send, []

    def send_or_die(message, **kwargs):
        if len(done) == sent:
            raise _Killed
        done.append(kwargs["recipient"])
        return real_send(message, **kwargs)

    transport.send = send_or_die
    return transport


def test_a_worker_killed_mid_batch_re_sends_only_what_it_sent_since_its_last_mark(
    sessions, tmp_path, smtp_server, monkeypatch
):
    ten_due(sessions, tmp_path)
    monkeypatch.setattr(delivery, "MARK_EVERY", 3)
    server = smtp_server()
    with pytest.raises(_Killed):
        deliver(
            sessions,
            FixedClock(AT_EIGHT),
            _dies_after(smtp(server), 7),
            sender=SENDER,
            lease=LEASE,
            links=LINKS,
        )
    assert len(mails(sessions, Mail.status == MailStatus.SENT)) == 6  # marked after the 3rd and the 6th
    send(sessions, server, AT_EIGHT + LEASE + timedelta(seconds=1))  # the lease ran out: another worker
    received = rcpts(server)
    assert sorted(set(received)) == _recipients(sessions)  # nothing lost
    assert len(received) - len(set(received)) == 1  # the 7th: sent, not yet marked, sent again
    assert all(m.status == MailStatus.SENT for m in mails(sessions))


def test_a_delivery_at_a_past_instant_leases_on_the_real_clock(sessions, tmp_path, smtp_server):
    """`trygg sweep --now` in the past: its claims run on the real clock, so a worker at real time
    takes nothing it is still sending (the lease was already over in real time: sent twice)."""
    ten_due(sessions, tmp_path)
    real = AT_EIGHT + timedelta(days=5000)  # today, as far as this test goes
    server = smtp_server()
    with pytest.raises(_Killed):
        deliver(
            sessions, FixedClock(AT_EIGHT), _dies_after(smtp(server), 7), sender=SENDER, lease=LEASE, links=LINKS,
            lease_clock=FixedClock(real),
        )  # fmt: skip
    held = mails(sessions, Mail.status == MailStatus.SENDING)
    assert held and all(m.claimed_until == real + LEASE for m in held)
    assert send(sessions, server, real).sent == []  # still leased: nobody sends them twice
    again = send(sessions, server, real + LEASE + timedelta(seconds=1))  # the worker really stopped
    assert sorted(m["mail"] for m in again.sent) == sorted(m.id for m in held)
    assert sorted(set(rcpts(server))) == _recipients(sessions)


def test_a_mark_that_meets_the_database_away_is_written_when_it_is_back(
    sessions, tmp_path, smtp_server, monkeypatch, caplog
):
    ten_due(sessions, tmp_path)
    monkeypatch.setattr(delivery, "MARK_RETRY", (0.01, 0.01))
    real_mark, refusals = delivery._mark_sent, []

    def restarting(session, *args):
        if len(refusals) < 2:  # the server restarting: the first two tries find it away
            refusals.append(1)
            raise OperationalError("UPDATE mails …", {}, Exception("server closed the connection"))
        return real_mark(session, *args)

    monkeypatch.setattr(delivery, "_mark_sent", restarting)
    server = smtp_server()
    delivered = send(sessions, server)
    assert len(delivered.sent) == 10 and delivered.lost_claims == 0 and len(refusals) == 2
    assert all(m.status == MailStatus.SENT for m in mails(sessions))
    assert "the database is unreachable; marking again" in caplog.text
    # Nothing is claimable again, so nothing goes twice.
    assert send(sessions, server, AT_EIGHT + LEASE * 2).sent == [] and len(rcpts(server)) == 10


def test_a_421_on_a_new_connection_is_a_retry_later_not_a_loop(sessions, tmp_path, smtp_server):
    ten_due(sessions, tmp_path)
    victim = address_of(sessions, "person-1")
    server = smtp_server(Script(closing={victim: 5}))
    delivered = send(sessions, server, batch=1)  # person-1's mail first, each on a fresh connection
    (retrying,) = delivered.retrying
    assert retrying["to"] == victim and retrying["reply"].startswith("421 ")
    assert len(delivered.sent) == 9 and victim not in rcpts(server)


# The same bytes: the lighter policy is the default one, remembering what it parsed and folded.

BOUNDARY = re.compile(rb"===============\d+==")


def _message(subject: str, to: tuple[str, str], **kwargs):
    rendered = Rendered(
        subject, "Hej Åsa!\n\nRad två, lite längre än de andra raderna. " * 3 + "\n", "<p>Hej</p>\n"
    )
    return build_message(
        rendered,
        kind="reminder",
        sender="trygg <trygg@example.org>",
        to=to,
        reply_to=("Fredrik Nilsson", "fredrik.nilsson@example.org"),
        message_id="<trygg.h.mail-1@example.org>",
        date=datetime(2013, 3, 15, 7, 0, tzinfo=UTC),
        language="sv",
        **kwargs,
    )


CASES = [
    ("Påminnelse: aktiviteten ska vara klar fredag 15 mars 2013", ("Åsa Öberg", "asa.oberg@example.org"), {}),
    ("Reminder", ("Maria Lund", "maria.lund@example.org"), {}),
    ("Ett mycket långt ämne " * 8, ('Lund, "Maria" (polis)', "maria@example.org"), {}),
    ("=?utf-8?q?inte_kodat?= men som text", ("", "x@example.org"), {}),
    ("Kallelse", ("Jörgen", "jörgen@exämple.se"), {}),
    ('Svar: (ja) eller <nej>; "citat"  två  mellanslag', ("O'Brien, J. [IT]", "ob+trygg@example.org"), {}),
    ("Kort", ('Anna  Sjöberg (polis), "chef"', "anna@example.org"), {}),
    ("x" * 70, ("A" * 70, "a@example.org"), {}),
    (
        "Kallelse: Rådet för trygghet och hälsa",
        ("Karin Ek", "karin.ek@example.org"),
        {
            "calendar": CalendarPart("REQUEST", "BEGIN:VCALENDAR\r\nMETHOD:REQUEST\r\nEND:VCALENDAR\r\n"),
            "attachments": (Attachment("rapport.pdf", "application/pdf", b"%PDF-1.4 \x00\xff"),),
        },
    ),
]


@pytest.mark.parametrize(("subject", "to", "extra"), CASES)
def test_the_lighter_policy_writes_the_same_bytes_as_the_default_one(monkeypatch, subject, to, extra):
    ours = [_message(subject, to, **extra) for _ in range(2)]  # the second from what was remembered
    monkeypatch.setattr(render, "POLICY", email.policy.default)
    theirs = _message(subject, to, **extra)
    assert type(ours[0].policy) is not type(theirs.policy)
    for utf8 in (False, True):
        for linesep in ("\n", "\r\n"):
            expected = BOUNDARY.sub(b"B", wire_bytes(theirs, utf8=utf8, linesep=linesep))
            for message in ours:
                assert BOUNDARY.sub(b"B", wire_bytes(message, utf8=utf8, linesep=linesep)) == expected


@pytest.mark.postgres
def test_the_claim_reads_the_waiting_index_and_never_sorts_the_sent_mails(postgres_url, tmp_path):
    engine = make_engine(postgres_url)
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    ten_due(sessions, tmp_path)
    with transaction(sessions) as session:  # 50,000 sent mails behind the ten waiting ones
        session.execute(
            text(
                "INSERT INTO mails (agreement_id, key, recipient_id, kind, status, created_at, attempts)"
                " SELECT m.agreement_id, 'old-' || g, m.recipient_id, 'reminder', 'sent', m.created_at, 1"
                " FROM generate_series(1, 50000) g, (SELECT * FROM mails LIMIT 1) m"
            )
        )
        session.execute(text("ANALYZE mails"))
    earliest = (
        select(Mail.id)
        .where(claimable(AT_EIGHT))
        .order_by(Mail.next_attempt_at, Mail.id)
        .limit(50)
        .with_for_update(skip_locked=True)
    )
    with sessions() as session:
        compiled = earliest.compile(engine, compile_kwargs={"literal_binds": True})
        plan = "\n".join(session.scalars(text(f"EXPLAIN {compiled}")))
    engine.dispose()
    assert "ix_mails_waiting" in plan and "Sort" not in plan, plan
