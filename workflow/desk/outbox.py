"""The outbox of one agreement as the desk shows it (sent, pending, failed with the server's reason), and *Skicka igen*."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from workflow.agreement.models import Person
from workflow.audit import UnitOfWork
from workflow.i18n import _l
from workflow.outbox.models import Mail, MailStatus, Notice

# What the desk filters by; "sending" shows with pending (it is on its way).
STATUSES = (MailStatus.PENDING, MailStatus.SENDING, MailStatus.SENT, MailStatus.FAILED, MailStatus.CANCELLED)
PAGE = 100


class OutboxError(ValueError):
    """A mail that cannot be sent again (not failed, or not this agreement's)."""


@dataclass(frozen=True)
class OutboxRow:
    id: int
    kind: str
    status: str
    recipient: str
    to: str
    created_at: datetime
    sent_at: datetime | None
    next_attempt_at: datetime | None
    attempts: int
    reply: str | None  # the server's answer: why it failed, or what accepted it
    subject: str | None  # the first notice's title, to know what the mail is about


def outbox(
    session: Session, agreement_id: int, status: str | None = None, limit: int = PAGE
) -> list[OutboxRow]:
    """The agreement's mails, newest first, of one status or all."""
    query = (
        select(Mail, Person.name, Person.email)
        .join(Person, Person.id == Mail.recipient_id)
        .where(Mail.agreement_id == agreement_id)
        .order_by(Mail.created_at.desc(), Mail.id.desc())
        .limit(limit)
    )
    if status:
        query = query.where(Mail.status == status)
    rows = session.execute(query).all()
    first = _first_titles(session, [mail.id for mail, _name, _email in rows])
    return [
        OutboxRow(
            id=mail.id,
            kind=mail.kind,
            status=mail.status,
            recipient=name,
            to=email,
            created_at=mail.created_at,
            sent_at=mail.sent_at,
            next_attempt_at=mail.next_attempt_at,
            attempts=mail.attempts,
            reply=mail.last_error if mail.status == MailStatus.FAILED else mail.smtp_reply,
            subject=first.get(mail.id),
        )
        for mail, name, email in rows
    ]


def counts(session: Session, agreement_id: int) -> dict[str, int]:
    """How many of the agreement's mails are in each status."""
    rows = session.execute(
        select(Mail.status, func.count()).where(Mail.agreement_id == agreement_id).group_by(Mail.status)
    ).all()
    return {status: n for status, n in rows}


def _first_titles(session: Session, mail_ids: list[int]) -> dict[int, str]:
    if not mail_ids:
        return {}
    titles: dict[int, str] = {}
    for mail_id, payload in session.execute(
        select(Notice.mail_id, Notice.payload).where(Notice.mail_id.in_(mail_ids)).order_by(Notice.id)
    ):
        title = payload.get("title") or payload.get("subject")
        if title and mail_id not in titles:
            titles[mail_id] = str(title)
    return titles


def send_again(unit: UnitOfWork, agreement_id: int, mail_id: int) -> Mail:
    """A failed mail back to pending, due now, with its tries counted afresh; audited."""
    mail = unit.session.get(Mail, mail_id)
    if mail is None or mail.agreement_id != agreement_id:
        raise OutboxError(_l("there is no such mail"))
    if mail.status != MailStatus.FAILED:
        raise OutboxError(
            _l("only a failed mail can be sent again (this one is %(status)s)", status=mail.status)
        )
    before = {"status": mail.status, "attempts": mail.attempts, "last_error": mail.last_error}
    mail.status, mail.attempts, mail.next_attempt_at = MailStatus.PENDING, 0, unit.clock.now()
    mail.claimed_until = mail.claim_token = None
    unit.audit("resend", "mail", str(mail.id), before=before, after={"status": MailStatus.PENDING.value})
    return mail
