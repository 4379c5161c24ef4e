"""*Vad som går ut*: the mails the engine will send in the next days, by the real sweep in a rolled-back transaction.

Nothing is guessed: for each day the real sweep runs, for this agreement only (its items, notices
and mails; the others' are not touched, so the preview stays short and cheap whatever the size of
the deployment), at the agreement's send instant; the due mails
are rendered as delivery would render them and then counted as sent (so the next day sees them
gone, as the live engine would), and at the end everything is rolled back. The schedules editor
previews unsaved settings by passing them as `config`; they too vanish with the rollback.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from workflow.agreement.context import work_calendar
from workflow.agreement.models import Agreement, Person
from workflow.agreement.schema import RemindersSpec
from workflow.engine.sweep import sweep_in
from workflow.links.tokens import LinkSigner, throwaway_secret
from workflow.links.urls import LinkSettings
from workflow.outbox.delivery import claimable, prepare
from workflow.outbox.models import Mail, MailStatus

# The settings a preview may replace (the agreement's columns of the same names).
PREVIEW_SETTINGS = ("reminders_config", "meetings_config", "calendar_config", "cycle_config")


@dataclass(frozen=True)
class OutgoingMail:
    """One mail as it would leave: to whom, of what kind, and its rendered parts."""

    day: date
    at: datetime  # the sweep instant that sends it
    number: int  # its place in the day's list, from 1 (the page's address of it)
    kind: str
    recipient_id: int
    recipient_name: str
    to: str
    language: str
    subject: str
    text: str
    html: str
    calendar: bool  # carries a meeting invitation or cancellation


@dataclass(frozen=True)
class OutgoingDay:
    day: date
    at: datetime
    mails: list[OutgoingMail]

    def by_person(self) -> list[tuple[str, list[OutgoingMail]]]:
        """The day's mails grouped by recipient, in name order."""
        groups: dict[str, list[OutgoingMail]] = {}
        for mail in self.mails:
            groups.setdefault(mail.recipient_name, []).append(mail)
        return sorted(groups.items())


def what_goes_out(
    session: Session,
    agreement_id: int,
    start: datetime,
    days: int = 7,
    *,
    base_url: str,
    sender: str,
    config: dict[str, Any] | None = None,
    apply: Callable[[Session, Agreement], None] | None = None,
) -> list[OutgoingDay]:
    """The agreement's mails on each of `days` days from `start`'s day, computed and rolled back.

    `config` replaces agreement settings by column name (see PREVIEW_SETTINGS) for the preview;
    `apply(session, agreement)` may change more (e.g. reconcile meetings) inside the same rollback.
    The caller's session must hold nothing it wants kept: it is rolled back before and after.
    """
    unknown = set(config or {}) - set(PREVIEW_SETTINGS)
    if unknown:
        raise ValueError(f"not a setting a preview may replace: {sorted(unknown)}")
    # Links in a preview are signed with a key of the moment: clicking one acts on nothing.
    links = LinkSettings(base_url, LinkSigner(throwaway_secret()))
    if session.in_transaction():
        session.rollback()
    session.begin()
    try:
        agreement = session.get(Agreement, agreement_id)
        for name, value in (config or {}).items():
            setattr(agreement, name, value)
        if apply is not None:
            apply(session, agreement)
        session.flush()
        return [
            _one_day(session, agreement, instant, links, sender)
            for instant in send_instants(agreement, start, days)
        ]
    finally:
        session.rollback()


def send_instants(agreement: Agreement, start: datetime, days: int) -> list[datetime]:
    """Each day's send instant (the agreement's local send hour); today's is `start` once it has passed."""
    cal = work_calendar(agreement.timezone, agreement.calendar_config)
    send_at = RemindersSpec.model_validate(dict(agreement.reminders_config or {})).send_at
    hour, minute = (int(part) for part in send_at.split(":"))
    first = start.astimezone(cal.tz).date()
    instants = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        instant = datetime.combine(day, time(hour, minute), tzinfo=cal.tz)
        instants.append(max(instant, start))
    return instants


def _one_day(
    session: Session, agreement: Agreement, instant: datetime, links: LinkSettings, sender: str
) -> OutgoingDay:
    """The sweep at `instant`, then what delivery would send of this agreement, marked sent."""
    sweep_in(session, instant, ran_at=instant, agreement_id=agreement.id)
    due = list(
        session.scalars(
            select(Mail).where(Mail.agreement_id == agreement.id, claimable(instant)).order_by(Mail.id)
        )
    )
    names = dict(
        session.execute(select(Person.id, Person.name).where(Person.agreement_id == agreement.id)).all()
    )
    found: list[tuple[str, int, Any]] = []
    for mail in due:
        letter = prepare(session, mail.id, instant, sender, links)
        if letter is not None:
            found.append((names.get(mail.recipient_id, ""), mail.id, (mail, letter)))
    # The day's mails leave: the next day's sweep sees them gone, as the live engine would.
    session.execute(
        update(Mail)
        .where(Mail.id.in_([m.id for m in due]))
        .values(status=MailStatus.SENT, sent_at=instant, next_attempt_at=None)
        .execution_options(synchronize_session=False)
    )
    session.expire_all()
    day = instant.astimezone(work_calendar(agreement.timezone, agreement.calendar_config).tz).date()
    mails = [
        OutgoingMail(
            day=day,
            at=instant,
            number=n,
            kind=letter.kind,
            recipient_id=mail.recipient_id,
            recipient_name=name,
            to=letter.to[1],
            language=letter.language,
            subject=letter.rendered.subject,
            text=letter.rendered.text,
            html=letter.rendered.html,
            calendar=letter.calendar is not None,
        )
        for n, (name, _id, (mail, letter)) in enumerate(sorted(found, key=lambda f: f[:2]), start=1)
    ]
    return OutgoingDay(day, instant, mails)


def mail_of(days: list[OutgoingDay], day: date, number: int) -> OutgoingMail | None:
    """The `number`th mail of `day` in a computed preview, if there is one."""
    for outgoing in days:
        if outgoing.day == day:
            return next((m for m in outgoing.mails if m.number == number), None)
    return None
