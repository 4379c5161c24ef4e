"""From notices to mails: one mail per person, group and day; a mail claims its notices atomically.

A person's reminders and overdue notices of a day share one mail (a `digest` when there are
several); the escalations of a day share one `escalation` mail. Mails go to addresses, not
person records: two people of one agreement who share an address (a shared mailbox) get one
mail, addressed to the first of them (`trygg check` warns about such a file). When that day's mail has
already left, later notices wait for the next working day's send slot rather than make a
second mail: nobody gets thirty mails on a Monday.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.agreement.context import work_calendar
from workflow.agreement.models import Agreement, Person
from workflow.agreement.schema import RemindersSpec
from workflow.outbox.kinds import group_of, mail_kind
from workflow.outbox.models import Mail, MailStatus, Notice


@dataclass
class Composed:
    mails: list[int] = field(default_factory=list)  # created or extended
    notices: int = 0
    deferred: int = 0
    picked: int = 0  # due notices read: a full batch means there may be more

    def add(self, other: Composed) -> None:
        self.mails += [m for m in other.mails if m not in self.mails]
        self.notices += other.notices
        self.deferred += other.deferred
        self.picked += other.picked


def _send_at(agreement: Agreement) -> tuple[int, int]:
    """The agreement's local send hour (its `reminders.send_at`)."""
    send_at = RemindersSpec.model_validate(dict(agreement.reminders_config or {})).send_at
    hour, minute = send_at.split(":")
    return int(hour), int(minute)


def mail_key(group: str, recipient_id: int, day: date) -> str:
    return f"{group}/{recipient_id}/{day.isoformat()}"


def compose(session: Session, now: datetime, *, limit: int = 5000, only: int | None = None) -> Composed:
    """Gather the due, unmailed notices into mails, in the caller's transaction (`only`: of that
    agreement alone)."""
    waiting = select(Notice).where(
        Notice.mail_id.is_(None), Notice.cancelled_at.is_(None), Notice.due_at <= now
    )
    if only is not None:
        waiting = waiting.where(Notice.agreement_id == only)
    notices = list(
        session.scalars(
            waiting.order_by(Notice.recipient_id, Notice.id).limit(limit).with_for_update(skip_locked=True)
        )
    )
    result = Composed(picked=len(notices))
    if not notices:
        return result
    agreements = {
        a.id: a
        for a in session.scalars(select(Agreement).where(Agreement.id.in_({n.agreement_id for n in notices})))
    }
    groups = _gather(notices, _mailbox_of(session, notices))
    for (recipient_id, group), members in groups.items():
        agreement = agreements[members[0].agreement_id]
        cal = work_calendar(agreement.timezone, agreement.calendar_config)
        day = now.astimezone(cal.tz).date()
        key = (
            mail_key(group, recipient_id, day)
            if not group.startswith("single:")
            else f"notice-{members[0].id}"
        )
        mail = _open_mail(session, key, agreement.id, recipient_id, members, now)
        if mail is None:
            hour, minute = _send_at(agreement)
            tomorrow = datetime.combine(day + timedelta(days=1), time(), tzinfo=cal.tz)
            later = cal.next_send_time(tomorrow, hour, minute)
            for notice in members:
                notice.due_at = later
            result.deferred += len(members)
            continue
        claimed = _claim_notices(session, mail.id, members)
        result.notices += claimed
        rules = session.scalars(
            select(Notice.rule).where(Notice.mail_id == mail.id, Notice.cancelled_at.is_(None))
        ).all()
        mail.kind = mail_kind(rules)
        result.mails.append(mail.id)
    session.flush()
    return result


def _gather(notices: list[Notice], mailbox: dict[int, int]) -> dict[tuple[int, str], list[Notice]]:
    """Notices by (mailbox, group); a notice of a rule that travels alone is a group of its own,
    but the same one for two records of one mailbox (one invitation, not two)."""
    groups: dict[tuple[int, str], list[Notice]] = defaultdict(list)
    for notice in notices:
        group = group_of(notice.rule)
        if group is None:
            group = f"single:{notice.rule}:{notice.subject_type}:{notice.subject_id}:{notice.occurrence}"
        groups[(mailbox[notice.recipient_id], group)].append(notice)
    return groups


def _mailbox_of(session: Session, notices: list[Notice]) -> dict[int, int]:
    """Each recipient's mailbox: the first person record of its agreement with the same address."""
    recipients = {n.recipient_id for n in notices}
    rows = session.execute(
        select(Person.id, Person.agreement_id, func.lower(Person.email)).where(Person.id.in_(recipients))
    ).all()
    addresses = {address for _, _, address in rows}
    first: dict[tuple[int, str], int] = {}
    for pid, aid, address in session.execute(
        select(Person.id, Person.agreement_id, func.lower(Person.email))
        .where(
            Person.agreement_id.in_({aid for _, aid, _ in rows}),
            func.lower(Person.email).in_(addresses),
        )
        .order_by(Person.id)
    ):
        first.setdefault((aid, address), pid)
    return {pid: first[(aid, address)] for pid, aid, address in rows}


def _open_mail(
    session: Session, key: str, agreement_id: int, recipient_id: int, members: list[Notice], now: datetime
) -> Mail | None:
    """The day's mail to add to (locked), a new one, or None when the day's mail has left."""
    for _ in range(2):
        mail = session.scalar(select(Mail).where(Mail.key == key).with_for_update())
        if mail is not None:
            # A pending mail has not been claimed: it can still carry more.
            return mail if mail.status == MailStatus.PENDING else None
        try:
            with session.begin_nested():
                mail = Mail(
                    agreement_id=agreement_id,
                    key=key,
                    recipient_id=recipient_id,
                    kind=mail_kind([n.rule for n in members]),
                    status=MailStatus.PENDING,
                    created_at=now,
                    next_attempt_at=now,
                    attempts=0,
                )
                session.add(mail)
                session.flush()
            return mail
        except IntegrityError:
            continue  # another composer made it a moment ago: add to theirs
    return None


def _claim_notices(session: Session, mail_id: int, notices: list[Notice]) -> int:
    """Attach notices to a mail only if no other mail has them: a notice travels once."""
    result = session.execute(
        update(Notice)
        .where(Notice.id.in_([n.id for n in notices]), Notice.mail_id.is_(None))
        .values(mail_id=mail_id)
        .execution_options(synchronize_session=False)
    )
    for notice in notices:
        session.expire(notice, ["mail_id"])
    return result.rowcount or 0
