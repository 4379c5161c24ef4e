"""Delivery: claim a batch of mails (one lease), render, send, mark them sent — or retry later, or fail and tell.

Claims are short transactions of their own, so the rows are visibly "sending" while the SMTP
conversations run; the lease is longer than the SMTP timeouts (and renewed while a slow batch
goes on), and an expired lease makes the rows claimable again, so a killed worker never leaves a
mail "sending" for ever. The only place a duplicate can come from is the window between the
server's "250" and the mark: the sent are marked every `MARK_EVERY` mails (one statement for them),
and a mark that fails because the database is away is tried again until it is back (within half a
lease), so a killed worker re-sends at most the few it had sent since its last mark, and a database
restart none.
"""

from __future__ import annotations

import logging
import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from email.utils import parseaddr
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import and_, case, literal_column, or_, select, update
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session, selectinload, sessionmaker

from workflow.addresses import AddressError, envelope_form, parse_address
from workflow.agreement.context import work_calendar
from workflow.agreement.models import Agreement, Person, Role
from workflow.agreement.roles import people_with_role
from workflow.agreement.schema import LinksSpec
from workflow.clock import Clock
from workflow.db import transaction
from workflow.ical import with_sent_by
from workflow.links.feeds import feed_addresses
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
BATCH = 50  # mails claimed under one lease, read together and sent over one connection
MARK_EVERY = 10  # the sent are marked after this many (one statement): what a killed worker may re-send
MARK_RETRY = (0.5, 1.0, 2.0, 4.0, 8.0, 15.0)  # s: a mark waits this long for the database, then again
# Written as constants, not parameters: only then can PostgreSQL match the partial index's
# predicate (a prepared statement's generic plan knows no parameter's value).
WAITING = (literal_column(f"'{MailStatus.PENDING.value}'"), literal_column(f"'{MailStatus.SENDING.value}'"))


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
    """Rows delivery may take: pending and due, or sending with an expired lease and tries left.

    Both kinds wait in the partial index `ix_mails_waiting` with `next_attempt_at <= now` (a claim
    sets next_attempt_at to its lease's end), so the first conjuncts are one index range.
    """
    return and_(
        Mail.status.in_(WAITING),
        Mail.next_attempt_at <= now,
        or_(
            Mail.status == MailStatus.PENDING,
            and_(Mail.claimed_until < now, Mail.attempts < MAX_ATTEMPTS),
        ),
    )


def abandoned(now: datetime):
    """Rows whose last allowed attempt never finished (its worker died): failed, never tried again."""
    return and_(Mail.status == MailStatus.SENDING, Mail.claimed_until < now, Mail.attempts >= MAX_ATTEMPTS)


@dataclass(frozen=True)
class Claim:
    """Mails taken under one lease: the token marks them ours until `until`."""

    token: str
    mail_ids: tuple[int, ...]  # in the order they go: those never tried before first
    until: datetime
    tried: frozenset[int] = frozenset()  # tried before (a worker may have died sending them)


def claim_batch(
    session: Session, now: datetime, lease: timedelta, size: int = BATCH, *, held_at: datetime | None = None
) -> Claim | None:
    """Take up to `size` claimable mails for `lease`, in one `UPDATE … RETURNING` (SKIP LOCKED on
    PostgreSQL, so two workers split the queue; SQLite has one writer at a time). The lease runs
    from `held_at` when given: the real time of a delivery at another instant (`trygg sweep
    --now` in the past), whose lease would otherwise have run out before it began.

    The earliest due go first, read off the waiting index (no sort of the whole queue). The claim
    moves each row's place in the queue to the end of its lease: a mail whose sending kills its
    worker comes back behind the others, never in front of them every time; in a batch too,
    those tried before go last.
    """
    token, until = uuid.uuid4().hex, (held_at or now) + lease
    earliest = (
        select(Mail.id)
        .where(claimable(now))
        .order_by(Mail.next_attempt_at, Mail.id)
        .limit(size)
        .with_for_update(skip_locked=True)
    )
    taken = session.execute(
        update(Mail)
        .where(Mail.id.in_(earliest.scalar_subquery()))
        .values(
            status=MailStatus.SENDING,
            claimed_until=until,
            next_attempt_at=until,
            claim_token=token,
            attempts=Mail.attempts + 1,
        )
        .returning(Mail.id, Mail.attempts)
        .execution_options(synchronize_session=False)
    ).all()
    if not taken:
        return None
    order = sorted(taken, key=lambda row: (row.attempts, row.id))
    tried = frozenset(row.id for row in taken if row.attempts > 1)
    return Claim(token, tuple(row.id for row in order), until, tried)


def claim(session: Session, now: datetime, lease: timedelta) -> tuple[int, str] | None:
    """Take one claimable mail for `lease`: (its id, the claim's token)."""
    taken = claim_batch(session, now, lease, size=1)
    return None if taken is None else (taken.mail_ids[0], taken.token)


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


@dataclass(frozen=True)
class _Sender:
    """What every mail of one agreement shares: read once per batch, not once per mail."""

    agreement: Agreement
    coordinator_ids: tuple[int, ...]
    coordinator: Person | None
    reply_to: tuple[str, str] | None
    expiry_days: int
    zone: ZoneInfo
    calendar: Any  # the agreement's working days (workflow.agreement.context.work_calendar)


class Letters:
    """Renders claimed mails; the agreement, its coordinator and settings are read once per agreement."""

    def __init__(self, session: Session, now: datetime, sender: str, links: LinkSettings) -> None:
        self.session, self.now, self.sender, self.links = session, now, sender, links
        self._senders: dict[int, _Sender] = {}
        self._people: dict[int, Person] = {}

    def load(self, mail_ids: tuple[int, ...]) -> dict[int, Mail]:
        """The mails with their notices and recipients, in three statements for the whole batch."""
        mails = self.session.scalars(
            select(Mail).where(Mail.id.in_(mail_ids)).options(selectinload(Mail.notices))
        ).all()
        wanted = {mail.recipient_id for mail in mails} - self._people.keys()
        if wanted:
            self._people.update(
                (person.id, person)
                for person in self.session.scalars(select(Person).where(Person.id.in_(wanted)))
            )
        return {mail.id: mail for mail in mails}

    def _sender(self, agreement_id: int) -> _Sender:
        known = self._senders.get(agreement_id)
        if known is None:
            agreement = self.session.get(Agreement, agreement_id)
            ids = tuple(people_with_role(self.session, agreement.id, Role.COORDINATOR))
            coordinator = self.session.get(Person, ids[0]) if ids else None
            known = self._senders[agreement_id] = _Sender(
                agreement=agreement,
                coordinator_ids=ids,
                coordinator=coordinator,
                reply_to=_reply_to(coordinator),
                expiry_days=LinksSpec.model_validate(dict(agreement.links_config or {})).expiry_days,
                zone=ZoneInfo(agreement.timezone),
                calendar=work_calendar(agreement.timezone, agreement.calendar_config),
            )
        return known

    def draft(self, mail: Mail) -> tuple[str, str, dict[str, Any]] | None:
        """What a mail's templates are given: (kind, language, context); None when every notice is moot."""
        notices = [n for n in mail.notices if n.cancelled_at is None]
        if not notices:
            return None
        recipient = self._recipient(mail)
        shared = self._sender(mail.agreement_id)
        agreement, coordinator = shared.agreement, shared.coordinator
        day = self.now.astimezone(shared.zone).date()
        items = [_item(n, mail, shared.expiry_days, self.links) for n in sorted(notices, key=_item_order)]
        context = {
            "recipient": {
                "name": recipient.name,
                "first_name": first_name(recipient.name),
                "key": recipient.key,
                # The coordinator is not told to reply to this mail: the reply would come back to her.
                "is_coordinator": recipient.id in shared.coordinator_ids,
            },
            "agreement": {
                "id": agreement.id,
                "title": agreement.title,
                "key": agreement.key,
                "timezone": agreement.timezone,
            },
            "coordinator": {"name": coordinator.name, "email": coordinator.email} if coordinator else None,
            "items": [on_the_day(item, shared.calendar, day) for item in items],
            "today": day.isoformat(),
            "base_url": self.links.base_url.rstrip("/"),
            "my_tasks_url": my_tasks_url(self.links.base_url),
        }
        return mail_kind([n.rule for n in notices]), recipient.language, context

    def _recipient(self, mail: Mail) -> Person:
        return self._people.get(mail.recipient_id) or self.session.get(Person, mail.recipient_id)

    def letter(self, mail: Mail) -> Letter | None:
        """Render a claimed mail from its live notices, each item with its links; None when all are moot."""
        drafted = self.draft(mail)
        if drafted is None:
            return None
        kind, language, context = drafted
        notices = [n for n in mail.notices if n.cancelled_at is None]
        recipient = self._recipient(mail)
        shared = self._sender(mail.agreement_id)
        agreement = shared.agreement
        day = self.now.astimezone(shared.zone).date()
        return Letter(
            mail_id=mail.id,
            kind=kind,
            recipient_key=recipient.key,
            to=(recipient.name, recipient.email),
            reply_to=shared.reply_to,
            language=language,
            rendered=render(kind, language, context),
            message_id=message_id(mail.id, agreement.key, self.sender),
            filename=f"{day.isoformat()}_{kind}_{recipient.key}_{mail.id}.eml",
            agreement_id=agreement.id,
            coordinator_ids=shared.coordinator_ids,
            calendar=_calendar_of(notices, self.sender),
            attachments=tuple(
                _sent_by(Attachment.from_payload(n.payload["attachment"]), self.sender)
                for n in notices
                if n.payload.get("attachment")
            ),
        )


def prepare(session: Session, mail_id: int, now: datetime, sender: str, links: LinkSettings) -> Letter | None:
    """Render one claimed mail from its live notices; None when all are moot."""
    return Letters(session, now, sender, links).letter(session.get(Mail, mail_id))


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
    item = {**notice.payload, "rule": notice.rule, "links": signed}
    if notice.payload.get("feed_id"):  # the person's calendar feed (the year's meeting plan gives it)
        token = links.signer.feed_token(notice.payload["feed_id"], notice.recipient_id)
        item["feed"] = feed_addresses(links.base_url, token)
    return item


def _reply_to(coordinator: Person | None) -> tuple[str, str] | None:
    """Replies go to the coordinator; with none (or an unusable address) to the From address."""
    if coordinator is None:
        return None
    try:
        return coordinator.name, parse_address(coordinator.email).wire
    except AddressError:
        log.warning("the coordinator's address is unusable: mails go out without a Reply-To")
        return None


def _calendar_of(notices: list[Notice], sender: str) -> CalendarPart | None:
    """The calendar part a meeting notice carries (such notices travel one to a mail), its
    ORGANIZER marked as sent by trygg's From address."""
    for notice in notices:
        if notice.payload.get("ics"):
            method = notice.payload.get("ics_method", "REQUEST")
            name = {"CANCEL": "cancel.ics", "PUBLISH": "meeting.ics"}.get(method, "invite.ics")
            return CalendarPart(method, with_sent_by(notice.payload["ics"], parseaddr(sender)[1]), name)
    return None


def _sent_by(attachment: Attachment, sender: str) -> Attachment:
    """An attached calendar file (the year's meeting plan) names trygg as sending it, like a calendar part."""
    if attachment.content_type != "text/calendar" or not isinstance(attachment.content, str):
        return attachment
    return Attachment(
        attachment.filename, attachment.content_type, with_sent_by(attachment.content, parseaddr(sender)[1])
    )


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
    batch: int = BATCH,
    lease_clock: Clock | None = None,
) -> Delivered:
    """Send claimable mails a batch at a time over one transport, until none is left (or `limit`).

    `sender` is the From header; `envelope_sender` the MAIL FROM (TRYGG_BOUNCE_ADDRESS),
    by default the From's address; `links` where the mails' links point and what signs them;
    `lease_clock` what the claims' leases are counted on when `clock` is another instant (the
    real time: a worker at real time must not take over mails still being sent).
    """
    report = Delivered()
    envelope = envelope_sender or envelope_form(sender)
    held = lease_clock or clock
    left = limit
    try:
        _give_up_abandoned(sessions, clock.now(), report)
        while left > 0:
            with transaction(sessions) as session:
                claimed = claim_batch(session, clock.now(), lease, min(batch, left), held_at=held.now())
            if claimed is None:
                # Failures reported during this run are mails too: compose and go on.
                if report.failed and _compose_failure_reports(sessions, clock.now()):
                    continue
                break
            left -= len(claimed.mail_ids)
            _send_batch(sessions, clock, transport, claimed, sender, envelope, links, lease, report, held)
    finally:
        _close_quietly(transport)
    return report


def _compose_failure_reports(sessions: sessionmaker[Session], now: datetime) -> bool:
    with transaction(sessions) as session:
        return bool(compose(session, now).mails)


Attempt = tuple[int, "Letter | None", "Outcome | None"]  # (mail, what was sent, how it ended)


def _send_batch(
    sessions,
    clock: Clock,
    transport: Transport,
    claimed: Claim,
    sender: str,
    envelope: str,
    links: LinkSettings,
    lease: timedelta,
    report: Delivered,
    held: Clock,
) -> None:
    """Render the batch in one read, send it mail by mail over the transport's connection, and
    record the ends (the sent in one statement). `held`: the clock the lease is counted on.

    Before a mail tried before goes (its last attempt may have killed a worker), what the batch
    sent so far is marked: a mail that kills its worker every time never takes its batch-mates
    with it again and again. A mail whose claim was lost while a slow batch went on (see
    `_keep_claim`) is neither sent nor recorded: whoever holds it now does both.
    """
    rendered = _render_batch(sessions, clock, claimed, sender, links)
    attempts: list[Attempt] = []
    mine = set(claimed.mail_ids)
    for at, (mail_id, letter, outcome) in enumerate(rendered):
        if held.now() >= claimed.until - lease / 2:
            claimed, mine = _keep_claim(sessions, held.now(), claimed, [a[0] for a in rendered[at:]], lease)
        if mail_id not in mine:
            continue
        if mail_id in claimed.tried and attempts:
            _record_batch(sessions, claimed, attempts, clock.now(), report)
            attempts = []
        if outcome is None and letter is not None:
            outcome = _send(clock, transport, letter, sender, envelope)
        attempts.append((mail_id, letter, outcome))
        if len(attempts) >= MARK_EVERY:
            _record_batch(sessions, claimed, attempts, clock.now(), report)
            attempts = []
    _record_batch(sessions, claimed, attempts, clock.now(), report)


def _render_batch(sessions, clock: Clock, claimed: Claim, sender: str, links: LinkSettings) -> list[Attempt]:
    """Each claimed mail rendered (a Letter), moot (None, None) or unrenderable (an Outcome).
    Whatever goes wrong is an Outcome, never an exception: a row must end in a retry or a
    failure, not stay `sending` with the queue stuck behind it."""
    out: list[Attempt] = []
    with sessions() as session:
        letters = Letters(session, clock.now(), sender, links)
        try:
            mails = letters.load(claimed.mail_ids)
        except Exception as exc:  # the batch's read itself failed: every mail is retried later
            log.exception("mails %s could not be read", claimed.mail_ids)
            return [
                (mail_id, None, Outcome("retry", f"rendering failed: {exc!r}"))
                for mail_id in claimed.mail_ids
            ]
        for mail_id in claimed.mail_ids:
            try:
                out.append((mail_id, letters.letter(mails[mail_id]), None))
            except Exception as exc:  # a template or data fault: not the recipient's, so retry later
                log.exception("mail %s could not be rendered", mail_id)
                out.append((mail_id, None, Outcome("retry", f"rendering failed: {exc!r}")))
    return out


def _keep_claim(
    sessions, now: datetime, claimed: Claim, mail_ids: list[int], lease: timedelta
) -> tuple[Claim, set[int]]:
    """Renew the lease of the batch's unsent mails (a slow server); those already taken over by
    another worker, after our lease lapsed, are theirs now."""
    until = now + lease
    with transaction(sessions) as session:
        kept = session.scalars(
            update(Mail)
            .where(
                Mail.id.in_(mail_ids), Mail.claim_token == claimed.token, Mail.status == MailStatus.SENDING
            )
            .values(claimed_until=until, next_attempt_at=until)
            .returning(Mail.id)
            .execution_options(synchronize_session=False)
        ).all()
    if len(kept) < len(mail_ids):
        log.warning("%d mails of a slow batch were taken over by another worker", len(mail_ids) - len(kept))
    return Claim(claimed.token, claimed.mail_ids, until, claimed.tried), set(kept)


def _send(clock: Clock, transport: Transport, letter: Letter, sender: str, envelope: str) -> Outcome:
    """Build and send one rendered mail; every fault is an Outcome, never an exception."""
    try:
        to = parse_address(letter.to[1]).wire
    except AddressError as exc:
        return Outcome("failed", f"invalid address {letter.to[1]!r}: {exc}")
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
        return Outcome("failed", f"the message cannot be written for {letter.to[1]!r}: {exc}")
    try:
        return transport.send(message, sender=envelope, recipient=to, filename=letter.filename)
    except Exception as exc:  # a fault the transport did not foresee: this mail's retry, not a crash
        log.exception("mail %s: the transport failed unexpectedly", letter.mail_id)
        _close_quietly(transport)  # its connection may be in any state now
        return Outcome("retry", f"{type(exc).__name__}: {exc}")


def _record_batch(
    sessions, claimed: Claim, attempts: list[Attempt], now: datetime, report: Delivered
) -> None:
    """Write the batch's ends: the sent mails in one statement, the rest (rare) one by one."""
    sent = [
        (letter, outcome)
        for _, letter, outcome in attempts
        if outcome is not None and outcome.status == "sent"
    ]
    if sent:
        marked = _patiently(lambda: _mark_sent_in(sessions, claimed.token, sent, now))
        for letter, outcome in sent:
            report.sent.append(_summary(letter.mail_id, letter, outcome))
            if letter.mail_id not in marked:
                _lost(report, letter.mail_id)
    for mail_id, letter, outcome in attempts:
        if outcome is None or outcome.status != "sent":
            _record(sessions, (mail_id, claimed.token), letter, outcome, now, report)


def _patiently(write):
    """`write()` (its own transaction), tried again while the database is unreachable (a restart):
    the mails are already accepted by the server, so giving up on the mark means sending them twice.
    After `MARK_RETRY` the error goes up: the lease then makes the rows claimable again."""
    for wait in MARK_RETRY:
        try:
            return write()
        except OperationalError as exc:  # the server went away or refuses connections
            log.warning("the database is unreachable; marking again in %.1f s: %s", wait, exc.orig)
            time.sleep(wait)
    return write()


def _mark_sent_in(sessions, token: str, sent: list[tuple[Letter, Outcome]], now: datetime) -> set[int]:
    with transaction(sessions) as session:
        return _mark_sent(session, token, sent, now)


def _mark_sent(session: Session, token: str, sent: list[tuple[Letter, Outcome]], now: datetime) -> set[int]:
    """Mark the batch's accepted mails sent, each with its Message-ID and the server's reply, in
    one statement, and only those still ours; the ids marked."""

    def each(value) -> Any:
        return case({letter.mail_id: value(letter, outcome) for letter, outcome in sent}, value=Mail.id)

    marked = session.scalars(
        update(Mail)
        .where(
            Mail.id.in_([letter.mail_id for letter, _ in sent]),
            Mail.claim_token == token,
            Mail.status == MailStatus.SENDING,
        )
        .values(
            status=MailStatus.SENT,
            sent_at=now,
            claimed_until=None,
            next_attempt_at=None,
            last_error=None,
            message_id=each(lambda letter, _: letter.message_id),
            smtp_reply=each(lambda _, outcome: outcome.reply),
            kind=each(lambda letter, _: letter.kind),
        )
        .returning(Mail.id)
        .execution_options(synchronize_session=False)
    ).all()
    return set(marked)


def _summary(mail_id: int, letter: Letter | None, outcome: Outcome) -> dict[str, Any]:
    return {
        "mail": mail_id,
        "kind": letter.kind if letter else "?",
        "to": letter.to[1] if letter else "?",
        "subject": letter.rendered.subject if letter else "?",
        "reply": outcome.reply,
    }


def _lost(report: Delivered, mail_id: int) -> None:
    log.warning("mail %s: our claim expired and was taken over; it may go out twice", mail_id)
    report.lost_claims += 1


def _record(
    sessions, claimed, letter: Letter | None, outcome: Outcome | None, now: datetime, report: Delivered
) -> None:
    """Write one unsent mail's end: cancelled, pending again, or failed with the coordinator told."""
    mail_id, token = claimed
    if outcome is None:
        with transaction(sessions) as session:
            ok = _finish(
                session, mail_id, token, status=MailStatus.CANCELLED, error="every notice became moot"
            )
        if ok:
            report.cancelled += 1
        else:
            _lost(report, mail_id)
        return
    summary = _summary(mail_id, letter, outcome)
    with transaction(sessions) as session:
        attempts = session.get(Mail, mail_id).attempts
        again = retry_at(attempts, now) if outcome.status == "retry" else None
        if again is not None:
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
        _lost(report, mail_id)


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
