"""Delivery: claim a mail (a lease), render, send, mark it sent — or retry later, or fail and tell.

Claims are short transactions of their own, so the row is visibly "sending" while the SMTP
conversation runs; the lease is longer than the SMTP timeouts, and an expired lease makes the
row claimable again, so a killed worker never leaves a mail "sending" for ever. The only place
a duplicate can come from is the window between the server's "250" and the mark.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.clock import Clock
from workflow.db import transaction
from workflow.outbox.compose import compose
from workflow.outbox.kinds import mail_kind
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.outbox.notices import add_notices
from workflow.outbox.render import Attachment, CalendarPart, Rendered, build_message, message_id, render
from workflow.outbox.transport import Outcome, Transport

log = logging.getLogger(__name__)

# Waits after the 1st, 2nd, … temporary failure; the row waits, not a Celery countdown.
BACKOFF = (
    timedelta(minutes=1),
    timedelta(minutes=5),
    timedelta(minutes=15),
    timedelta(hours=1),
    timedelta(hours=3),
    timedelta(hours=6),
    timedelta(hours=12),
)
MAX_ATTEMPTS = len(BACKOFF) + 1  # then the mail is failed and the coordinator told


def retry_at(attempts: int, now: datetime) -> datetime | None:
    """When to try again after `attempts` failed tries; None when it is time to give up."""
    if attempts >= MAX_ATTEMPTS:
        return None
    return now + BACKOFF[min(attempts, len(BACKOFF)) - 1]


def claim_lease(smtp_timeout: float) -> timedelta:
    """Longer than one SMTP conversation can take: connect, MAIL, RCPT, DATA each time out."""
    return timedelta(seconds=max(120.0, 6 * smtp_timeout))


@dataclass
class Delivered:
    sent: list[dict[str, Any]] = field(default_factory=list)
    retrying: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    cancelled: int = 0
    lost_claims: int = 0  # marked by someone else after our lease expired: a possible duplicate

    def as_json(self) -> dict[str, Any]:
        return {
            "sent": self.sent,
            "retrying": self.retrying,
            "failed": self.failed,
            "cancelled": self.cancelled,
            "lost_claims": self.lost_claims,
        }


def claimable(now: datetime):
    """Rows delivery may take: pending and due, or sending with an expired lease."""
    return or_(
        and_(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now),
        and_(Mail.status == MailStatus.SENDING, Mail.claimed_until < now),
    )


def claim(session: Session, now: datetime, lease: timedelta) -> tuple[int, str] | None:
    """Take one claimable mail for `lease` (SKIP LOCKED on PostgreSQL; SQLite's write lock)."""
    mail_id = session.scalar(
        select(Mail.id)
        .where(claimable(now))
        .order_by(Mail.next_attempt_at, Mail.id)
        .limit(1)
        .with_for_update(skip_locked=True)
    )
    if mail_id is None:
        return None
    token = uuid.uuid4().hex
    session.execute(
        update(Mail)
        .where(Mail.id == mail_id)
        .values(
            status=MailStatus.SENDING,
            claimed_until=now + lease,
            claim_token=token,
            attempts=Mail.attempts + 1,
        )
    )
    return mail_id, token


@dataclass(frozen=True)
class Letter:
    """A claimed mail, rendered and addressed."""

    mail_id: int
    kind: str
    recipient_key: str
    to: tuple[str, str]
    reply_to: tuple[str, str] | None
    language: str
    rendered: Rendered
    message_id: str
    filename: str
    agreement_id: int
    coordinator_ids: tuple[int, ...]
    calendar: CalendarPart | None = None
    attachments: tuple[Attachment, ...] = ()


def prepare(session: Session, mail_id: int, now: datetime, sender: str) -> Letter | None:
    """Render a claimed mail from its live notices; None when they all became moot."""
    mail = session.get(Mail, mail_id)
    notices = [n for n in mail.notices if n.cancelled_at is None]
    if not notices:
        return None
    recipient = session.get(Person, mail.recipient_id)
    agreement = session.get(Agreement, mail.agreement_id)
    coordinator_ids = people_with_role(session, agreement.id, Role.COORDINATOR)
    coordinator = session.get(Person, coordinator_ids[0]) if coordinator_ids else None
    kind = mail_kind([n.rule for n in notices])
    context = {
        "recipient": {"name": recipient.name, "key": recipient.key},
        "agreement": {"title": agreement.title, "key": agreement.key, "timezone": agreement.timezone},
        "coordinator": {"name": coordinator.name, "email": coordinator.email} if coordinator else None,
        "items": [{**n.payload, "rule": n.rule} for n in sorted(notices, key=_item_order)],
    }
    day = now.astimezone(ZoneInfo(agreement.timezone)).date()
    return Letter(
        mail_id=mail.id,
        kind=kind,
        recipient_key=recipient.key,
        to=(recipient.name, recipient.email),
        reply_to=(coordinator.name, coordinator.email) if coordinator else None,
        language=recipient.language,
        rendered=render(kind, recipient.language, context),
        message_id=message_id(mail.id, agreement.key, sender),
        filename=f"{day.isoformat()}_{kind}_{recipient.key}_{mail.id}.eml",
        agreement_id=agreement.id,
        coordinator_ids=coordinator_ids,
        calendar=_calendar_of(notices),
        attachments=tuple(
            Attachment(**n.payload["attachment"]) for n in notices if n.payload.get("attachment")
        ),
    )


def _calendar_of(notices: list[Notice]) -> CalendarPart | None:
    """The calendar part a meeting notice carries (such notices travel one to a mail)."""
    for notice in notices:
        if notice.payload.get("ics"):
            method = notice.payload.get("ics_method", "REQUEST")
            name = "cancel.ics" if method == "CANCEL" else "invite.ics"
            return CalendarPart(method, notice.payload["ics"], name)
    return None


def _item_order(notice: Notice) -> tuple:
    p = notice.payload
    return (p.get("due") or "", p.get("area") or "", p.get("title") or p.get("subject") or "", notice.id)


def deliver(
    sessions: sessionmaker[Session],
    clock: Clock,
    transport: Transport,
    *,
    sender: str,
    lease: timedelta,
    limit: int = 1000,
) -> Delivered:
    """Send claimable mails one by one over one transport, until none is left (or `limit`)."""
    report = Delivered()
    try:
        for _ in range(limit):
            now = clock.now()
            with transaction(sessions) as session:
                claimed = claim(session, now, lease)
            if claimed is None:
                # Failures reported during this run are mails too: compose and go on.
                if report.failed and _compose_failure_reports(sessions, clock.now()):
                    continue
                break
            _deliver_one(sessions, clock, transport, claimed, sender, report)
    finally:
        transport.close()
    return report


def _compose_failure_reports(sessions: sessionmaker[Session], now: datetime) -> bool:
    with transaction(sessions) as session:
        return bool(compose(session, now).mails)


def _deliver_one(
    sessions, clock: Clock, transport: Transport, claimed, sender: str, report: Delivered
) -> None:
    mail_id, token = claimed
    try:
        with sessions() as session:
            letter = prepare(session, mail_id, clock.now(), sender)
    except Exception as exc:  # a template or data fault: not the recipient's, so retry later
        log.exception("mail %s could not be rendered", mail_id)
        with transaction(sessions) as session:
            attempts = session.get(Mail, mail_id).attempts
            again = retry_at(attempts, clock.now())
            _finish(
                session,
                mail_id,
                token,
                status=MailStatus.PENDING if again else MailStatus.FAILED,
                next_attempt_at=again,
                error=f"rendering failed: {exc!r}",
            )
        report.retrying.append(
            {
                "mail": mail_id,
                "kind": "?",
                "to": "?",
                "subject": "?",
                "reply": f"rendering failed: {exc!r}",
                "next_attempt_at": again.isoformat() if again else None,
            }
        )
        return
    if letter is None:
        with transaction(sessions) as session:
            _finish(session, mail_id, token, status=MailStatus.CANCELLED, error="every notice became moot")
        report.cancelled += 1
        return
    try:
        message = build_message(
            letter.rendered,
            kind=letter.kind,
            sender=sender,
            to=letter.to,
            reply_to=letter.reply_to,
            message_id=letter.message_id,
            date=clock.now(),
            language=letter.language,
            calendar=letter.calendar,
            attachments=letter.attachments,
        )
    except (ValueError, TypeError) as exc:  # an address that cannot even be written in a header
        outcome = Outcome("failed", f"invalid address {letter.to[1]!r}: {exc}")
    else:
        outcome = transport.send(
            message, sender=_addr(sender), recipient=letter.to[1], filename=letter.filename
        )
    now = clock.now()
    summary = {
        "mail": mail_id,
        "kind": letter.kind,
        "to": letter.to[1],
        "subject": letter.rendered.subject,
        "reply": outcome.reply,
    }
    with transaction(sessions) as session:
        mail = session.get(Mail, mail_id)
        if outcome.status == "sent":
            ok = _finish(
                session,
                mail_id,
                token,
                status=MailStatus.SENT,
                sent_at=now,
                kind=letter.kind,
                message_id=letter.message_id,
                smtp_reply=outcome.reply,
                error=None,
            )
            report.sent.append(summary)
        else:
            again = retry_at(mail.attempts, now) if outcome.status == "retry" else None
            if again is not None:
                ok = _finish(
                    session,
                    mail_id,
                    token,
                    status=MailStatus.PENDING,
                    next_attempt_at=again,
                    error=outcome.reply,
                )
                report.retrying.append({**summary, "next_attempt_at": again.isoformat()})
            else:
                ok = _finish(
                    session, mail_id, token, status=MailStatus.FAILED, kind=letter.kind, error=outcome.reply
                )
                if ok:
                    _report_failure(session, letter, mail.attempts, outcome, now)
                report.failed.append(summary)
        if not ok:
            log.warning("mail %s: our claim expired and was taken over; it may go out twice", mail_id)
            report.lost_claims += 1


def _finish(
    session: Session, mail_id: int, token: str, *, status: MailStatus, error: str | None, **values
) -> bool:
    """Write the outcome only if the claim is still ours (a lapsed lease may have moved on)."""
    result = session.execute(
        update(Mail)
        .where(Mail.id == mail_id, Mail.claim_token == token, Mail.status == MailStatus.SENDING)
        .values(status=status, claimed_until=None, last_error=error, **values)
    )
    return result.rowcount == 1


def _report_failure(session: Session, letter: Letter, attempts: int, outcome: Outcome, now: datetime) -> None:
    """Tell the coordinators that a mail will not arrive (never about their own failure reports)."""
    if letter.kind == "delivery_failure":
        log.error("a delivery-failure report could not be delivered: %s", outcome.reply)
        return
    payload = {
        "mail": letter.mail_id,
        "to_name": letter.to[0],
        "to_email": letter.to[1],
        "kind": letter.kind,
        "subject": letter.rendered.subject,
        "attempts": attempts,
        "error": outcome.reply,
        "failed_at": now.isoformat(),
    }
    add_notices(
        session,
        [
            {
                "agreement_id": letter.agreement_id,
                "key": f"delivery_failure/{person}/mail:{letter.mail_id}",
                "rule": "delivery_failure",
                "recipient_id": person,
                "occurrence": f"mail:{letter.mail_id}",
                "subject_type": "mail",
                "subject_id": letter.mail_id,
                "payload": payload,
                "due_at": now,
                "created_at": now,
            }
            for person in letter.coordinator_ids
        ],
    )


def _addr(sender: str) -> str:

    return parseaddr(sender)[1]
