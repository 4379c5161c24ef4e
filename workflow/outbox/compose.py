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
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta

from sqlalchemy import bindparam, func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import Row
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
        known = set(self.mails)
        self.mails += [m for m in other.mails if m not in known]
        self.notices += other.notices
        self.deferred += other.deferred
        self.picked += other.picked


def _send_at(agreement: Agreement) -> tuple[int, int]:
    """The agreement's local send hour (its `reminders.send_at`)."""
    send_at = RemindersSpec.model_validate(dict(agreement.reminders_config or {})).send_at
    hour, minute = send_at.split(":")
    return int(hour), int(minute)


_CHUNK = 500  # ids per statement: well under SQLite's limit of bound parameters


def mail_key(group: str, recipient_id: int, day: date) -> str:
    return f"{group}/{recipient_id}/{day.isoformat()}"


def compose(session: Session, now: datetime, *, limit: int = 5000, only: int | None = None) -> Composed:
    """Gather the due, unmailed notices into mails, in the caller's transaction (`only`: of that
    agreement alone).

    Set-based: a fixed number of statements per batch, not per mail (read the notices, their
    mailboxes and agreements; lock or make the day's mails; attach the notices; set the kinds).
    The ORM objects of the session are not refreshed: the statements bypass them."""
    waiting = select(Notice.id, Notice.rule, Notice.recipient_id, Notice.agreement_id, *_SINGLE).where(
        Notice.mail_id.is_(None), Notice.cancelled_at.is_(None), Notice.due_at <= now
    )
    if only is not None:
        waiting = waiting.where(Notice.agreement_id == only)
    notices = session.execute(
        waiting.order_by(Notice.recipient_id, Notice.id).limit(limit).with_for_update(skip_locked=True)
    ).all()
    result = Composed(picked=len(notices))
    if not notices:
        return result
    agreements = {
        a.id: a
        for a in session.scalars(select(Agreement).where(Agreement.id.in_({n.agreement_id for n in notices})))
    }
    groups = _gather(notices, _mailbox_of(session, notices))
    days = {aid: _today(agreement, now) for aid, agreement in agreements.items()}
    wanted = {
        _group_key(group, recipient_id, members, days[members[0].agreement_id]): (recipient_id, members)
        for (recipient_id, group), members in groups.items()
    }
    mails = _open_mails(session, wanted, now)
    later: dict[datetime, list[int]] = defaultdict(list)  # the day's mail has left: wait for the next
    attach: dict[int, int] = {}
    for key, (_, members) in wanted.items():
        mail_id = mails.get(key)
        if mail_id is None:
            agreement = agreements[members[0].agreement_id]
            later[_next_slot(agreement, days[agreement.id])] += [n.id for n in members]
            result.deferred += len(members)
            continue
        attach.update((n.id, mail_id) for n in members)
        if mail_id not in result.mails:
            result.mails.append(mail_id)
    for due_at, ids in later.items():
        session.execute(
            update(Notice)
            .where(Notice.id.in_(ids))
            .values(due_at=due_at)
            .execution_options(synchronize_session=False)
        )
    result.notices = _claim_notices(session, attach)
    _set_kinds(session, result.mails)
    return result


# What tells apart the notices of a rule that travels alone.
_SINGLE = (Notice.subject_type, Notice.subject_id, Notice.occurrence)


def _today(agreement: Agreement, now: datetime) -> date:
    return now.astimezone(work_calendar(agreement.timezone, agreement.calendar_config).tz).date()


def _next_slot(agreement: Agreement, day: date) -> datetime:
    """The agreement's send time on the working day after `day`."""
    cal = work_calendar(agreement.timezone, agreement.calendar_config)
    hour, minute = _send_at(agreement)
    return cal.next_send_time(datetime.combine(day + timedelta(days=1), time(), tzinfo=cal.tz), hour, minute)


def _group_key(group: str, recipient_id: int, members: list, day: date) -> str:
    """The deterministic key of the mail a group of notices goes in (unique: two composers agree)."""
    return f"notice-{members[0].id}" if group.startswith("single:") else mail_key(group, recipient_id, day)


def _gather(notices: Sequence[Row], mailbox: dict[int, int]) -> dict[tuple[int, str], list[Row]]:
    """Notices by (mailbox, group); a notice of a rule that travels alone is a group of its own,
    but the same one for two records of one mailbox (one invitation, not two)."""
    groups: dict[tuple[int, str], list[Row]] = defaultdict(list)
    for notice in notices:
        group = group_of(notice.rule)
        if group is None:
            group = f"single:{notice.rule}:{notice.subject_type}:{notice.subject_id}:{notice.occurrence}"
        groups[(mailbox[notice.recipient_id], group)].append(notice)
    return groups


def _mailbox_of(session: Session, notices: Sequence[Row]) -> dict[int, int]:
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


def _open_mails(session: Session, wanted: dict[str, tuple[int, list]], now: datetime) -> dict[str, int]:
    """The mail of each key that can still carry notices: a pending one (locked), or a new one.
    A key whose mail has been claimed for sending or has left is missing from the answer."""
    # Every lock in key order, so that two composers racing wait for each other but never deadlock.
    found = _pending_mails(session, sorted(wanted))
    new = sorted(key for key in wanted if key not in found)
    if new:
        dialect = session.get_bind().dialect.name
        insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
        rows = [
            {
                "agreement_id": wanted[key][1][0].agreement_id,
                "key": key,
                "recipient_id": wanted[key][0],
                "kind": mail_kind([n.rule for n in wanted[key][1]]),
                "status": MailStatus.PENDING,
                "created_at": now,
                "next_attempt_at": now,
                "attempts": 0,
            }
            for key in new
        ]
        stmt = insert(Mail).on_conflict_do_nothing(index_elements=["key"]).returning(Mail.key, Mail.id)
        made = dict(session.execute(stmt, rows).all())
        found.update(made)
        raced = [key for key in new if key not in made]
        if raced:  # another composer made them a moment ago: add to theirs while still pending
            found.update(_pending_mails(session, raced))
    return found


def _pending_mails(session: Session, keys: list[str]) -> dict[str, int]:
    """Key -> id of the pending mails among `keys`, locked against delivery's claim."""
    found: dict[str, int] = {}
    for start in range(0, len(keys), _CHUNK):
        for key, mail_id, status in session.execute(
            select(Mail.key, Mail.id, Mail.status)
            .where(Mail.key.in_(keys[start : start + _CHUNK]))
            .order_by(Mail.key)
            .with_for_update()
        ):
            if status == MailStatus.PENDING:  # a pending mail has not been claimed: it can carry more
                found[key] = mail_id
    return found


def _claim_notices(session: Session, attach: dict[int, int]) -> int:
    """Attach notices to their mails only if no other mail has them: a notice travels once.

    One statement with a parameter set per notice (executemany: compiled once, pipelined on
    PostgreSQL); a CASE over thousands of ids cost more in building the query than in running it."""
    if not attach:
        return 0
    notices = Notice.__table__
    result = session.execute(
        update(notices)
        .where(notices.c.id == bindparam("notice"), notices.c.mail_id.is_(None))
        .values(mail_id=bindparam("mail")),
        [{"notice": notice_id, "mail": mail_id} for notice_id, mail_id in attach.items()],
    )
    return result.rowcount or 0


def _set_kinds(session: Session, mail_ids: list[int]) -> None:
    """Each mail's kind from all the notices it carries now (a reminder joined by an overdue notice
    makes a digest)."""
    rules: dict[int, list[str]] = defaultdict(list)
    kinds: dict[int, str] = {}
    for start in range(0, len(mail_ids), _CHUNK):
        chunk = mail_ids[start : start + _CHUNK]
        for mail_id, rule in session.execute(
            select(Notice.mail_id, Notice.rule).where(
                Notice.mail_id.in_(chunk), Notice.cancelled_at.is_(None)
            )
        ):
            rules[mail_id].append(rule)
        kinds.update(session.execute(select(Mail.id, Mail.kind).where(Mail.id.in_(chunk))).all())
    changed = [
        {"mail": mail_id, "new_kind": mail_kind(rules[mail_id])}
        for mail_id in mail_ids
        if rules[mail_id] and mail_kind(rules[mail_id]) != kinds.get(mail_id)
    ]
    if changed:
        session.execute(
            update(Mail.__table__)
            .where(Mail.__table__.c.id == bindparam("mail"))
            .values(kind=bindparam("new_kind")),
            changed,
        )
