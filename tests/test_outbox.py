"""The outbox on SQLite and PostgreSQL: notices by key, one mail per person and day, claims, retries, failures."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import func, select

from tests.conftest import HARNOSAND, LOAD_INSTANT, load_file, load_harnosand
from tests.mail_links import LINKS, linked_ids
from workflow.agreement.models import Person
from workflow.audit import AuditEntry, UnitOfWork
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.outbox.delivery import BACKOFF, MAX_ATTEMPTS, claim, claim_lease, deliver, retry_at
from workflow.outbox.kinds import KINDS, mail_kind
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.outbox.notices import add_notices
from workflow.outbox.transport import Outcome
from workflow.plan.models import Activity
from workflow.status import resolve_agreement
from workflow.work import WorkError, acknowledge, extend, find_activity, mark_done, report_progress

STHLM = ZoneInfo("Europe/Stockholm")
SENDER = "trygg <trygg@example.org>"


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


@dataclass
class FakeTransport:
    """Answers from a script (default: accepted) and keeps what it was given."""

    script: list[Outcome] = field(default_factory=list)
    sent: list = field(default_factory=list)
    closed: int = 0

    def send(self, message, *, sender, recipient, filename):
        outcome = self.script.pop(0) if self.script else Outcome("sent", "250 ok")
        if outcome.status == "sent":
            self.sent.append((recipient, message))
        return outcome

    def close(self):
        self.closed += 1


@pytest.fixture
def harnosand(request, sessions):
    load_harnosand(request, LOAD_INSTANT)
    return sessions


def run(sessions, when: datetime, transport: FakeTransport | None = None):
    transport = transport or FakeTransport()
    report = sweep(sessions, when)
    delivered = deliver(
        sessions, FixedClock(when), transport, sender=SENDER, lease=claim_lease(30), links=LINKS
    )
    return report, delivered, transport


def person_id(sessions, key: str) -> int:
    with sessions() as session:
        return session.scalar(select(Person.id).where(Person.key == key))


def activity_id(sessions, key: str) -> int:
    with sessions() as session:
        return session.scalar(select(Activity.id).where(Activity.key == key))


def count(sessions, model, *where) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model).where(*where))


def act(sessions, key: str, action, when: datetime, **kwargs):
    with transaction(sessions) as session:
        activity = find_activity(session, resolve_agreement(session, None), key)
        return action(UnitOfWork(session, FixedClock(when), "cli:test"), activity, **kwargs)


# --- from notices to mails -----------------------------------------------------------------


def test_a_due_item_becomes_one_mail_and_a_second_sweep_sends_nothing(harnosand):
    _, delivered, transport = run(harnosand, at("2012-12-17T08:00"))
    recipients = [m["to"] for m in delivered.sent if m["kind"] != "weekly_summary"]
    assert len(recipients) == len(set(recipients)) == 8  # one mail per person
    assert "maria.lund@example.org" in recipients
    # A Monday: the coordinator's weekly summary is a mail of its own, besides her digest.
    assert [m["to"] for m in delivered.sent if m["kind"] == "weekly_summary"] == ["anna.sjoberg@example.org"]
    _, again, transport2 = run(harnosand, at("2012-12-17T08:00"))
    assert transport2.sent == [] and again.sent == []
    _, later, transport3 = run(harnosand, at("2012-12-17T14:00"))
    assert transport3.sent == []


def test_several_notices_of_a_person_on_one_day_are_one_digest(harnosand):
    _, delivered, transport = run(harnosand, at("2012-12-17T08:00"))
    kinds = {m["to"]: m["kind"] for m in delivered.sent}
    assert kinds["johan.berg@example.org"] == "digest"
    assert kinds["maria.lund@example.org"] == "reminder"
    johan = person_id(harnosand, "johan-berg")
    assert count(harnosand, Notice, Notice.recipient_id == johan) > 5
    assert count(harnosand, Mail, Mail.recipient_id == johan) == 1


def test_escalations_go_to_each_manager_in_one_mail_a_day(harnosand):
    run(harnosand, at("2012-12-17T08:00"))
    _, delivered, transport = run(harnosand, at("2013-01-16T08:00"))
    escalations = [m for m in delivered.sent if m["kind"] == "escalation"]
    assert sorted(m["to"] for m in escalations) == ["fred.nilsson@example.org", "thomas.nyberg@example.org"]
    for _, message in transport.sent:
        assert message["X-Trygg-Kind"] in KINDS
        assert message["Auto-Submitted"] == "auto-generated"
        assert "anna.sjoberg@example.org" in message["Reply-To"]


def test_the_same_notice_key_is_made_once(harnosand):
    fred = person_id(harnosand, "fred-nilsson")
    row = {
        "agreement_id": 1,
        "key": f"reminder/{fred}/x",
        "rule": "reminder",
        "recipient_id": fred,
        "occurrence": "x",
        "subject_type": "activity",
        "subject_id": 1,
        "payload": {},
        "due_at": at("2012-12-17T08:00"),
        "created_at": at("2012-12-17T08:00"),
    }
    with transaction(harnosand) as session:
        assert add_notices(session, [row]) == 1
    with transaction(harnosand) as session:
        assert add_notices(session, [row, {**row, "key": f"reminder/{fred}/y"}]) == 1
    assert count(harnosand, Notice) == 2


def test_a_notice_made_after_the_days_mail_left_waits_for_the_next_working_day(harnosand):
    run(harnosand, at("2012-12-17T08:00"))
    maria = person_id(harnosand, "maria-lund")
    with transaction(harnosand) as session:
        add_notices(
            session,
            [
                {
                    "agreement_id": 1,
                    "key": f"reminder/{maria}/late",
                    "rule": "reminder",
                    "recipient_id": maria,
                    "occurrence": "late",
                    "subject_type": "activity",
                    "subject_id": 1,
                    "payload": {},
                    "due_at": at("2012-12-17T13:00"),
                    "created_at": at("2012-12-17T13:00"),
                }
            ],
        )
    report, _, transport = run(harnosand, at("2012-12-17T13:05"))
    assert report.deferred == 1 and transport.sent == []
    with harnosand() as session:
        late = session.scalar(select(Notice).where(Notice.key == f"reminder/{maria}/late"))
    assert late.due_at == at("2012-12-18T08:00") and late.mail_id is None


def test_mail_kinds_of_notices():
    assert mail_kind(["reminder"]) == "reminder"
    assert mail_kind(["reminder", "overdue"]) == "digest"
    assert mail_kind(["escalation", "escalation"]) == "escalation"
    with pytest.raises(ValueError):
        mail_kind(["reminder", "escalation"])


# --- claims, retries, failures -------------------------------------------------------------


def test_a_claim_is_a_lease_and_an_expired_lease_is_claimable_again(harnosand):
    when = at("2012-12-17T08:00")
    sweep(harnosand, when)
    lease = timedelta(minutes=3)
    with transaction(harnosand) as session:
        first = claim(session, when, lease)
    with transaction(harnosand) as session:
        second = claim(session, when, lease)
    assert first and second and first[0] != second[0]
    with transaction(harnosand) as session:  # the claimer died; its lease runs out
        ids = set()
        while (taken := claim(session, when + lease + timedelta(seconds=1), lease)) is not None:
            ids.add(taken[0])
    assert first[0] in ids and second[0] in ids


def test_a_temporary_failure_waits_in_the_row_then_is_delivered_once(harnosand):
    when = at("2012-12-17T08:00")
    transport = FakeTransport(script=[Outcome("retry", "451 4.3.0 Try again later")])
    _, delivered, _ = run(harnosand, when, transport)
    (retrying,) = delivered.retrying
    assert len(delivered.sent) == 8  # seven people's mails and the coordinator's weekly summary
    with harnosand() as session:
        mail = session.get(Mail, retrying["mail"])
    assert mail.status == MailStatus.PENDING and mail.attempts == 1
    assert mail.next_attempt_at == when + BACKOFF[0] and mail.last_error.startswith("451")
    _, early, _ = run(harnosand, when + timedelta(seconds=30))
    assert early.sent == []  # not before next_attempt_at
    _, later, t2 = run(harnosand, when + BACKOFF[0])
    assert [m["mail"] for m in later.sent] == [mail.id]
    with harnosand() as session:
        mail = session.get(Mail, mail.id)
    assert mail.status == MailStatus.SENT and mail.attempts == 2 and mail.smtp_reply == "250 ok"
    assert mail.message_id == f"<trygg.harnosand-2012-2013.mail-{mail.id}@example.org>"


def test_retries_back_off_and_give_up():
    now = datetime(2012, 12, 17, tzinfo=UTC)
    assert [retry_at(n, now) - now for n in range(1, MAX_ATTEMPTS)] == list(BACKOFF)
    assert retry_at(MAX_ATTEMPTS, now) is None


def test_a_permanent_failure_is_failed_and_the_coordinator_is_told(harnosand):
    when = at("2012-12-17T08:00")
    script = [Outcome("sent", "250 ok")] * 4 + [Outcome("failed", "550 5.1.1 no such user")]
    _, delivered, transport = run(harnosand, when, FakeTransport(script=script))
    (failed,) = delivered.failed
    with harnosand() as session:
        mail = session.get(Mail, failed["mail"])
        assert mail.status == MailStatus.FAILED and mail.last_error.startswith("550")
        report = session.scalar(select(Mail).where(Mail.kind == "delivery_failure"))
        assert report.status == MailStatus.SENT
        assert session.get(Person, report.recipient_id).key == "anna-sjoberg"
        (notice,) = report.notices
        assert notice.payload["to_email"] == failed["to"] and notice.payload["error"].startswith("550")
    told = [m for to, m in transport.sent if m["X-Trygg-Kind"] == "delivery_failure"]
    assert len(told) == 1 and told[0]["To"].addresses[0].addr_spec == "anna.sjoberg@example.org"


def test_a_claim_that_lapsed_and_moved_on_is_not_marked_by_its_old_holder(harnosand):
    when = at("2012-12-17T08:00")
    sweep(harnosand, when)
    with transaction(harnosand) as session:
        mail_id, old_token = claim(session, when, timedelta(minutes=3))
    with transaction(harnosand) as session:
        taken = None
        while (c := claim(session, when + timedelta(minutes=4), timedelta(minutes=3))) is not None:
            taken = c if c[0] == mail_id else taken
    assert taken is not None and taken[1] != old_token


# --- acting on the work ends what it makes moot ---------------------------------------------


def test_done_stops_reminders_and_cancels_what_has_not_left(harnosand):
    when = at("2012-12-17T08:00")
    sweep(harnosand, when)  # composed, not delivered yet
    acted = act(harnosand, "ung-kontaktuppgifter", mark_done, when + timedelta(minutes=1), note="klart")
    assert acted.changed and acted.cancelled_notices == 2  # Johan's and Maria's
    _, delivered, transport = run(harnosand, when + timedelta(minutes=2))
    assert "maria.lund@example.org" not in [to for to, _ in transport.sent]  # her only notice went moot
    assert delivered.cancelled == 1
    _, later, t2 = run(harnosand, at("2013-01-16T08:00"))
    assert t2.sent and all(
        activity_id(harnosand, "ung-kontaktuppgifter") not in linked_ids(m, "activity") for _, m in t2.sent
    )
    with harnosand() as session:
        activity = session.scalar(select(Activity).where(Activity.key == "ung-kontaktuppgifter"))
        assert activity.state == "done" and activity.next_action_at is None
        assert (
            session.scalar(select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "state"))
            == 1
        )


def test_an_extension_moves_the_reminders_to_the_new_deadline(harnosand):
    run(harnosand, at("2012-12-17T08:00"))
    act(
        harnosand,
        "ung-kontaktuppgifter",
        extend,
        at("2012-12-18T09:00"),
        new_deadline=date(2013, 2, 28),
        reason="skolan bad om tid",
    )
    _, delivered, transport = run(harnosand, at("2013-01-02T08:00"))
    bodies = {to: m.get_body(("plain",)).get_content() for to, m in transport.sent}
    assert "Kontaktuppgifter" not in bodies.get("maria.lund@example.org", "")  # no overdue for her
    _, delivered, transport = run(harnosand, at("2013-02-14T08:00"))  # 10 working days before 28 Feb
    maria = {to: m for to, m in transport.sent}["maria.lund@example.org"]
    assert "28 februari 2013" in maria.get_body(("plain",)).get_content()
    with harnosand() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "extend"))
        assert entry.reason == "skolan bad om tid" and entry.after == {"extended_deadline": "2013-02-28"}


def test_an_extension_must_move_the_deadline_later_and_give_a_reason(harnosand):
    with pytest.raises(WorkError):
        act(
            harnosand,
            "ung-kontaktuppgifter",
            extend,
            at("2012-12-18T09:00"),
            new_deadline=date(2012, 12, 1),
            reason="x",
        )
    with pytest.raises(WorkError):
        act(
            harnosand,
            "ung-kontaktuppgifter",
            extend,
            at("2012-12-18T09:00"),
            new_deadline=date(2013, 1, 31),
            reason=" ",
        )
    with pytest.raises(WorkError):  # ongoing work has no deadline to move
        act(
            harnosand,
            "cen-ordning",
            extend,
            at("2012-12-18T09:00"),
            new_deadline=date(2013, 1, 31),
            reason="x",
        )


def test_an_acknowledged_delay_is_not_escalated_further(harnosand):
    run(harnosand, at("2013-01-02T08:00"))  # owners told it is overdue
    with pytest.raises(WorkError):
        act(harnosand, "liv-anmalningar", acknowledge, at("2013-01-02T09:00"))  # not overdue
    act(harnosand, "ung-kontaktuppgifter", acknowledge, at("2013-01-03T09:00"), note="vi vet")
    _, delivered, transport = run(harnosand, at("2013-01-16T08:00"))
    assert transport.sent
    for _, message in transport.sent:
        assert activity_id(harnosand, "ung-kontaktuppgifter") not in linked_ids(message, "activity")
    assert {m["kind"] for m in delivered.sent} == {"escalation"}  # the other items still climb


def test_a_progress_report_answers_the_follow_up(harnosand):
    act(harnosand, "liv-arbetsgrupp", report_progress, at("2012-12-10T09:00"), note="möte hållet")
    _, delivered, transport = run(harnosand, at("2012-12-20T08:00"))  # 3 working days before the 28th
    followed = activity_id(harnosand, "liv-arbetsgrupp")
    assert transport.sent
    for _, message in transport.sent:
        assert followed not in linked_ids(message, "activity")
    _, delivered, transport = run(harnosand, at("2013-01-28T08:00"))  # the January follow-up
    assert any(followed in linked_ids(m, "activity") for _, m in transport.sent)


def test_reloading_an_unchanged_agreement_sends_nothing_again(harnosand):
    run(harnosand, at("2012-12-17T08:00"))
    load_file(harnosand, HARNOSAND)
    _, delivered, _ = run(harnosand, at("2012-12-17T09:00"))
    assert delivered.sent == []


def test_a_mail_that_cannot_be_rendered_waits_and_is_not_lost(harnosand, monkeypatch):
    when = at("2012-12-17T08:00")
    sweep(harnosand, when)

    def broken(*args, **kwargs):
        raise RuntimeError("a template fault")

    monkeypatch.setattr("workflow.outbox.delivery.render", broken)
    delivered = deliver(
        harnosand, FixedClock(when), FakeTransport(), sender=SENDER, lease=claim_lease(30), links=LINKS
    )
    # Eight people's mails and the coordinator's weekly summary (17 December 2012 is a Monday).
    assert delivered.sent == [] and len(delivered.retrying) == 9
    assert count(harnosand, Mail, Mail.status == MailStatus.PENDING, Mail.attempts == 1) == 9
    monkeypatch.undo()
    _, later, transport = run(harnosand, when + BACKOFF[0])
    assert len(later.sent) == 9


def test_new_reminder_settings_reschedule_every_activity(harnosand, agreement_copy):
    run(harnosand, at("2012-12-17T08:00"))
    text = agreement_copy.read_text(encoding="utf-8")
    agreement_copy.write_text(
        text.replace("\ncycle:\n", "\nreminders:\n  stages: [20, 10, 3, 0]\n\ncycle:\n", 1), encoding="utf-8"
    )
    load_file(harnosand, agreement_copy)
    with harnosand() as session:
        liv = session.scalar(select(Activity).where(Activity.key == "liv-anmalningar"))  # due 2013-12-30
    assert liv.next_action_at == at("2013-11-27T08:00")  # 20 working days before, jul not counted
