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
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session, sessionmaker

from workflow.addresses import AddressError, envelope_form, parse_address
from workflow.agreement.context import work_calendar
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.agreement.schema import LinksSpec
from workflow.clock import Clock
from workflow.db import transaction
from workflow.links.urls import LinkSettings, item_links, link_expiry, my_tasks_url
from workflow.outbox.compose import compose
from workflow.outbox.kinds import mail_kind
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.outbox.notices import add_notices
from workflow.outbox.reading import first_name, on_the_day
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
    """Rows delivery may take: pending and due, or sending with an expired lease and tries left."""
    return or_(
        and_(Mail.status == MailStatus.PENDING, Mail.next_attempt_at <= now),
        and_(Mail.status == MailStatus.SENDING, Mail.claimed_until < now, Mail.attempts < MAX_ATTEMPTS),
    )


def abandoned(now: datetime):
    """Rows whose last allowed attempt never finished (its worker died): failed, never tried again."""
    return and_(Mail.status == MailStatus.SENDING, Mail.claimed_until < now, Mail.attempts >= MAX_ATTEMPTS)


def claim(session: Session, now: datetime, lease: timedelta) -> tuple[int, str] | None:
    """Take one claimable mail for `lease` (SKIP LOCKED on PostgreSQL; SQLite's write lock).

    The claim moves the row's place in the queue to the end of its lease: a mail whose sending
    kills its worker comes back behind the others, never in front of them every time.
    """
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
            next_attempt_at=now + lease,
            claim_token=token,
            attempts=Mail.attempts + 1,
        )
    )
    return mail_id, token


@dataclass(frozen=True)
class Letter:
    """A claimed mail, rendered and addressed (`to` as stored; delivery checks it)."""

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


def prepare(session: Session, mail_id: int, now: datetime, sender: str, links: LinkSettings) -> Letter | None:
    """Render a claimed mail from its live notices, each item with its links; None when all are moot."""
    mail = session.get(Mail, mail_id)
    notices = [n for n in mail.notices if n.cancelled_at is None]
    if not notices:
        return None
    recipient = session.get(Person, mail.recipient_id)
    agreement = session.get(Agreement, mail.agreement_id)
    coordinator_ids = people_with_role(session, agreement.id, Role.COORDINATOR)
    coordinator = session.get(Person, coordinator_ids[0]) if coordinator_ids else None
    kind = mail_kind([n.rule for n in notices])
    expiry_days = LinksSpec.model_validate(dict(agreement.links_config or {})).expiry_days
    cal = work_calendar(agreement.timezone, agreement.calendar_config)
    day = now.astimezone(ZoneInfo(agreement.timezone)).date()
    items = [_item(n, mail, expiry_days, links) for n in sorted(notices, key=_item_order)]
    context = {
        "recipient": {
            "name": recipient.name,
            "first_name": first_name(recipient.name),
            "key": recipient.key,
            # The coordinator is not told to reply to this mail: the reply would come back to her.
            "is_coordinator": recipient.id in coordinator_ids,
        },
        "agreement": {
            "id": agreement.id,
            "title": agreement.title,
            "key": agreement.key,
            "timezone": agreement.timezone,
        },
        "coordinator": {"name": coordinator.name, "email": coordinator.email} if coordinator else None,
        "items": [on_the_day(item, cal, day) for item in items],
        "today": day.isoformat(),
        "base_url": links.base_url.rstrip("/"),
        "my_tasks_url": my_tasks_url(links.base_url),
    }
    return Letter(
        mail_id=mail.id,
        kind=kind,
        recipient_key=recipient.key,
        to=(recipient.name, recipient.email),
        reply_to=_reply_to(coordinator),
        language=recipient.language,
        rendered=render(kind, recipient.language, context),
        message_id=message_id(mail.id, agreement.key, sender),
        filename=f"{day.isoformat()}_{kind}_{recipient.key}_{mail.id}.eml",
        agreement_id=agreement.id,
        coordinator_ids=coordinator_ids,
        calendar=_calendar_of(notices),
        attachments=tuple(
            Attachment.from_payload(n.payload["attachment"]) for n in notices if n.payload.get("attachment")
        ),
    )


def _item(notice: Notice, mail: Mail, expiry_days: int, links: LinkSettings) -> dict[str, Any]:
    """What a template shows of one notice: its payload, its rule and its links.

    The links are the notice's person's (a shared mailbox reads each person's own), and count
    their expiry from the mail's creation, so every attempt at one mail carries the same links.
    """
    signed = item_links(
        links,
        rule=notice.rule,
        subject_type=notice.subject_type,
        subject_id=notice.subject_id,
        payload=notice.payload,
        person_id=notice.recipient_id,
        mail_id=mail.id,
        expires_at=link_expiry(notice.rule, mail.created_at, expiry_days),
    )
    return {**notice.payload, "rule": notice.rule, "links": signed}


def _reply_to(coordinator: Person | None) -> tuple[str, str] | None:
    """Replies go to the coordinator; with none (or an unusable address) to the From address."""
    if coordinator is None:
        return None
    try:
        return coordinator.name, parse_address(coordinator.email).wire
    except AddressError:
        log.warning("the coordinator's address is unusable: mails go out without a Reply-To")
        return None


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
    links: LinkSettings,
    limit: int = 1000,
    envelope_sender: str | None = None,
) -> Delivered:
    """Send claimable mails one by one over one transport, until none is left (or `limit`).

    `sender` is the From header; `envelope_sender` the MAIL FROM (TRYGG_BOUNCE_ADDRESS),
    by default the From's address; `links` where the mails' links point and what signs them.
    """
    report = Delivered()
    envelope = envelope_sender or envelope_form(sender)
    try:
        _give_up_abandoned(sessions, clock.now(), report)
        for _ in range(limit):
            now = clock.now()
            with transaction(sessions) as session:
                claimed = claim(session, now, lease)
            if claimed is None:
                # Failures reported during this run are mails too: compose and go on.
                if report.failed and _compose_failure_reports(sessions, clock.now()):
                    continue
                break
            letter, outcome = _attempt(sessions, clock, transport, claimed[0], sender, envelope, links)
            _record(sessions, claimed, letter, outcome, clock.now(), report)
    finally:
        _close_quietly(transport)
    return report


def _compose_failure_reports(sessions: sessionmaker[Session], now: datetime) -> bool:
    with transaction(sessions) as session:
        return bool(compose(session, now).mails)


def _attempt(
    sessions,
    clock: Clock,
    transport: Transport,
    mail_id: int,
    sender: str,
    envelope: str,
    links: LinkSettings,
) -> tuple[Letter | None, Outcome | None]:
    """Render and send one claimed mail. Whatever goes wrong is an Outcome, never an exception:
    the row must end in a retry or a failure, not stay `sending` with the queue stuck behind it.
    (None, None): every notice became moot."""
    try:
        with sessions() as session:
            letter = prepare(session, mail_id, clock.now(), sender, links)
    except Exception as exc:  # a template or data fault: not the recipient's, so retry later
        log.exception("mail %s could not be rendered", mail_id)
        return None, Outcome("retry", f"rendering failed: {exc!r}")
    if letter is None:
        return None, None
    try:
        to = parse_address(letter.to[1]).wire
    except AddressError as exc:
        return letter, Outcome("failed", f"invalid address {letter.to[1]!r}: {exc}")
    try:
        message = build_message(
            letter.rendered,
            kind=letter.kind,
            sender=sender,
            to=(letter.to[0], to),
            reply_to=letter.reply_to,
            message_id=letter.message_id,
            date=clock.now(),
            language=letter.language,
            calendar=letter.calendar,
            attachments=letter.attachments,
        )
    except (ValueError, TypeError) as exc:  # a name or address that cannot be written in a header
        return letter, Outcome("failed", f"the message cannot be written for {letter.to[1]!r}: {exc}")
    try:
        return letter, transport.send(message, sender=envelope, recipient=to, filename=letter.filename)
    except Exception as exc:  # a fault the transport did not foresee: this mail's retry, not a crash
        log.exception("mail %s: the transport failed unexpectedly", mail_id)
        _close_quietly(transport)  # its connection may be in any state now
        return letter, Outcome("retry", f"{type(exc).__name__}: {exc}")


def _record(
    sessions, claimed, letter: Letter | None, outcome: Outcome | None, now: datetime, report: Delivered
) -> None:
    """Write one attempt's end: sent, cancelled, pending again, or failed with the coordinator told."""
    mail_id, token = claimed
    if outcome is None:
        with transaction(sessions) as session:
            _finish(session, mail_id, token, status=MailStatus.CANCELLED, error="every notice became moot")
        report.cancelled += 1
        return
    summary = {
        "mail": mail_id,
        "kind": letter.kind if letter else "?",
        "to": letter.to[1] if letter else "?",
        "subject": letter.rendered.subject if letter else "?",
        "reply": outcome.reply,
    }
    with transaction(sessions) as session:
        attempts = session.get(Mail, mail_id).attempts
        again = retry_at(attempts, now) if outcome.status == "retry" else None
        if outcome.status == "sent":
            values = {"sent_at": now, "message_id": letter.message_id, "smtp_reply": outcome.reply}
            ok = _finish(
                session, mail_id, token, status=MailStatus.SENT, error=None, kind=letter.kind, **values
            )
            report.sent.append(summary)
        elif again is not None:
            ok = _finish(
                session, mail_id, token, status=MailStatus.PENDING, next_attempt_at=again, error=outcome.reply
            )
            report.retrying.append({**summary, "next_attempt_at": again.isoformat()})
        else:
            kind = {"kind": letter.kind} if letter else {}
            ok = _finish(session, mail_id, token, status=MailStatus.FAILED, error=outcome.reply, **kind)
            if ok:
                _report_failure(session, mail_id, outcome.reply, now, summary["subject"])
            report.failed.append(summary)
    if not ok:
        log.warning("mail %s: our claim expired and was taken over; it may go out twice", mail_id)
        report.lost_claims += 1


def _finish(
    session: Session, mail_id: int, token: str, *, status: MailStatus, error: str | None, **values
) -> bool:
    """Write the outcome only if the claim is still ours (a lapsed lease may have moved on)."""
    if status != MailStatus.PENDING:
        values.setdefault("next_attempt_at", None)  # nothing more to try
    result = session.execute(
        update(Mail)
        .where(Mail.id == mail_id, Mail.claim_token == token, Mail.status == MailStatus.SENDING)
        .values(status=status, claimed_until=None, last_error=error, **values)
    )
    return result.rowcount == 1


def _give_up_abandoned(sessions: sessionmaker[Session], now: datetime, report: Delivered) -> None:
    """Fail the mails whose last allowed attempt never finished: attempts never pass the maximum."""
    error = "the last attempt never finished (its worker stopped while sending); not tried again"
    with transaction(sessions) as session:
        rows = session.scalars(
            select(Mail).where(abandoned(now)).order_by(Mail.id).limit(100).with_for_update(skip_locked=True)
        ).all()
        for mail in rows:
            mail.status, mail.claimed_until, mail.next_attempt_at = MailStatus.FAILED, None, None
            mail.last_error = error
            _report_failure(session, mail.id, error, now, subject="?")
            report.failed.append(
                {"mail": mail.id, "kind": mail.kind, "to": "?", "subject": "?", "reply": error}
            )


def _report_failure(session: Session, mail_id: int, error: str, now: datetime, subject: str) -> None:
    """Tell the coordinators that a mail will not arrive (never about their own failure reports).

    With no coordinator in the agreement there is nobody to tell: the failure is logged as an
    error and `trygg health`/`status` count it among the failures nobody was told of.
    """
    mail = session.get(Mail, mail_id)
    if mail.kind == "delivery_failure":
        log.error("mail %s, a delivery-failure report, could not be delivered: %s", mail_id, error)
        return
    coordinators = people_with_role(session, mail.agreement_id, Role.COORDINATOR)
    if not coordinators:
        log.error("mail %s failed and its agreement has no coordinator to tell: %s", mail_id, error)
        return
    recipient = session.get(Person, mail.recipient_id)
    payload = {
        "mail": mail_id,
        "to_name": recipient.name,
        "to_email": recipient.email,
        "kind": mail.kind,
        "subject": subject,
        "attempts": mail.attempts,
        "error": error,
        "failed_at": now.isoformat(),
    }
    add_notices(
        session,
        [
            {
                "agreement_id": mail.agreement_id,
                "key": f"delivery_failure/{person}/mail:{mail_id}",
                "rule": "delivery_failure",
                "recipient_id": person,
                "occurrence": f"mail:{mail_id}",
                "subject_type": "mail",
                "subject_id": mail_id,
                "payload": payload,
                "due_at": now,
                "created_at": now,
            }
            for person in coordinators
        ],
    )


def _close_quietly(transport: Transport) -> None:
    try:
        transport.close()
    except Exception:  # closing a broken connection must not hide the outcome
        log.exception("closing the mail transport failed")
