"""The link dispatcher: what a mailed link shows (GET) and what its form does (POST), once.

`view_link` never changes anything (mail scanners open every link). `answer_link` verifies the
token again, checks that its person may still act, refuses a link already used, acts through the
same workflow functions as the command line with the person as actor and `web` as channel, and
records the used token with what it did — all in the caller's transaction.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from workflow.agreement.lifecycle import ArchivedAgreement, require_writable
from workflow.agreement.models import Agreement, Person
from workflow.answers import extensions, meetings
from workflow.answers.permissions import Subject, may
from workflow.answers.views import (
    ActivityView,
    ExtensionView,
    MeetingView,
    activity_view,
    extension_view,
    invitations_sent,
    meeting_view,
)
from workflow.audit import UnitOfWork, person_actor
from workflow.i18n import _l
from workflow.links.models import UsedToken
from workflow.links.tokens import Action, Grant, LinkSigner, TokenError
from workflow.meetings.models import Meeting
from workflow.plan.models import Activity, ExtensionRequest
from workflow.work import WorkError, acknowledge, mark_done, report_progress

STATUS_OF = {"tampered": 400, "expired": 410, "not_yours": 403, "unknown": 404, "archived": 403}
_MODEL_OF: dict[str, type] = {
    "activity": Activity,
    "meeting": Meeting,
    "extension_request": ExtensionRequest,
    "person": Person,
}


class LinkRefused(Exception):
    """A link that cannot be used: tampered (400), expired (410), not_yours (403), unknown (404)."""

    def __init__(self, reason: str, status: int | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        self.status = status or STATUS_OF[reason]


class AlreadyUsed(Exception):
    """The link has done its work: `used` says what, by whom and when."""

    def __init__(self, used: UsedToken) -> None:
        super().__init__(used.action)
        # A copy outside the session: the caller's transaction rolls back, which would expire it.
        self.used = UsedToken(
            jti=used.jti,
            person_id=used.person_id,
            action=used.action,
            subject_type=used.subject_type,
            subject_id=used.subject_id,
            used_at=used.used_at,
            outcome=dict(used.outcome or {}),
        )


@dataclass(frozen=True)
class Choice:
    person_id: int
    name: str
    checked: bool = False


@dataclass(frozen=True)
class LinkView:
    """What the page of a link shows: who, where, the item, the choices, and whether it was used."""

    action: Action
    person_id: int
    person_name: str
    person_email: str
    language: str
    agreement_id: int
    agreement_key: str
    agreement_title: str
    timezone: str
    expires_at: datetime
    subject: ActivityView | MeetingView | ExtensionView | None  # None for sign_in
    deputies: tuple[Choice, ...] = ()  # decline: who may go instead
    attendees: tuple[Choice, ...] = ()  # minutes: the invitees, ticked when they said yes
    used: UsedToken | None = None


@dataclass(frozen=True)
class Answered:
    """What the answer did: `outcome` is what the used token keeps; `email` is whom to sign in."""

    action: Action
    person_id: int
    email: str
    agreement_id: int
    outcome: dict[str, Any] = field(default_factory=dict)


def _grant(signer: LinkSigner, token: str, now: datetime) -> Grant:
    try:
        return signer.verify(token, now)
    except TokenError as exc:
        raise LinkRefused(exc.reason) from None


def _resolve(
    session: Session, grant: Grant, session_email: str | None, now: datetime
) -> tuple[Person, Subject]:
    """The person and item of a genuine token, if the person may still act on it."""
    person = session.get(Person, grant.person_id)
    subject = session.get(_MODEL_OF[grant.subject_type], grant.subject_id)
    if person is None or subject is None:
        raise LinkRefused("unknown")
    if (
        grant.action != Action.SIGN_IN
        and session_email
        and session_email.strip().lower() != person.email.strip().lower()
    ):
        raise LinkRefused("not_yours")
    if not may(session, person, grant.action, subject, now):
        raise LinkRefused("not_yours")
    if grant.action != Action.SIGN_IN:
        try:  # an archived agreement is read-only: its links show the refusal, and do nothing
            require_writable(session.get(Agreement, person.agreement_id))
        except ArchivedAgreement:
            raise LinkRefused("archived") from None
    return person, subject


def view_link(
    session: Session, signer: LinkSigner, token: str, now: datetime, session_email: str | None = None
) -> LinkView:
    """What the link's page shows; changes nothing."""
    grant = _grant(signer, token, now)
    person, subject = _resolve(session, grant, session_email, now)
    agreement = session.get(Agreement, person.agreement_id)
    deputies: tuple[Choice, ...] = ()
    attendees: tuple[Choice, ...] = ()
    if grant.action == Action.DECLINE:
        deputies = tuple(Choice(p.id, p.name) for p in meetings.deputies(session, subject, person))
    if grant.action == Action.MINUTES:
        attendees = tuple(
            Choice(i.person_id, i.person.name, i.answer == "yes")
            for i in sorted(subject.invitees, key=lambda i: i.person.name)
        )
    return LinkView(
        action=grant.action,
        person_id=person.id,
        person_name=person.name,
        person_email=person.email,
        language=person.language,
        agreement_id=agreement.id,
        agreement_key=agreement.key,
        agreement_title=agreement.title,
        timezone=agreement.timezone,
        expires_at=grant.expires_at,
        subject=_view_of(session, subject),
        deputies=deputies,
        attendees=attendees,
        used=session.get(UsedToken, grant.jti),
    )


def _view_of(session: Session, subject: Subject) -> ActivityView | MeetingView | ExtensionView | None:
    if isinstance(subject, Activity):
        return activity_view(session, subject)
    if isinstance(subject, Meeting):
        return meeting_view(session, subject)
    if isinstance(subject, ExtensionRequest):
        return extension_view(session, subject)
    return None


def answer_link(
    unit: UnitOfWork,
    signer: LinkSigner,
    token: str,
    form: dict[str, Any],
    session_email: str | None = None,
) -> Answered:
    """Do what the link is for, once, as its person (channel web), in the caller's transaction.

    The caller's unit gives the session and the clock; the actor is always the token's person.
    """
    session, now = unit.session, unit.clock.now()
    grant = _grant(signer, token, now)
    person, subject = _resolve(session, grant, session_email, now)
    used = session.get(UsedToken, grant.jti)
    if used is not None:
        raise AlreadyUsed(used)
    acting = UnitOfWork(session, unit.clock, person_actor(person.id), channel="web")
    acting.agreement_id = person.agreement_id
    # One savepoint for the claim and the action: a refused action (WorkError, MeetingError)
    # leaves neither behind, even if the caller commits what else it did.
    with session.begin_nested():
        record = _claim(session, grant, person, now)
        details = _act(acting, grant.action, person, subject, form)
        outcome = {"action": str(grant.action), "by": person.name, "at": now.isoformat(), **details}
        record.outcome = outcome
        session.flush()
    return Answered(grant.action, person.id, person.email, person.agreement_id, outcome)


def _claim(session: Session, grant: Grant, person: Person, now: datetime) -> UsedToken:
    """The used-token row, written first: a second POST of the same link waits on it, then
    finds the link used."""
    record = UsedToken(
        jti=grant.jti,
        person_id=person.id,
        action=str(grant.action),
        subject_type=grant.subject_type,
        subject_id=grant.subject_id,
        used_at=now,
        outcome={},
    )
    try:
        with session.begin_nested():
            session.add(record)
            session.flush()
    except IntegrityError:
        session.expire_all()
        raise AlreadyUsed(session.get(UsedToken, grant.jti)) from None
    return record


def _text(form: dict[str, Any], name: str) -> str:
    value = form.get(name)
    return value.strip() if isinstance(value, str) else ""


def _act(unit: UnitOfWork, action: Action, person: Person, subject: Any, form: dict[str, Any]) -> dict:
    """One workflow action; returns what the used token remembers of it."""
    note = _text(form, "note") or None
    match action:
        case Action.DONE:
            mark_done(unit, subject, note=note)
            return {"note": note}
        case Action.PROGRESS:
            report_progress(unit, subject, note=_text(form, "note"))
            return {"note": note}
        case Action.EXTEND:
            return _extend(unit, person, subject, form)
        case Action.ACK:
            acknowledge(unit, subject, note=note)
            return {"note": note}
        case Action.ATTEND:
            meetings.attend(unit, subject, person)
            return {"answer": "yes"}
        case Action.DECLINE:
            return _decline(unit, person, subject, form)
        case Action.PROPOSE:
            item = meetings.propose(unit, subject, person, _text(form, "title"))
            return {"title": item.title, "after_invitation": invitations_sent(unit.session, subject.id)}
        case Action.MINUTES:
            revision = meetings.minutes(unit, subject, _text(form, "text"), _ids(form.get("attended")))
            return {"revision": revision.revision, "attended": sorted(_ids(form.get("attended")))}
        case Action.APPROVE | Action.REFUSE:
            request = extensions.decide_extension(unit, subject, action == Action.APPROVE, note)
            return {"status": request.status, "note": note}
        case Action.SIGN_IN:
            return {"email": person.email}
    raise LinkRefused("unknown")


def _extend(unit: UnitOfWork, person: Person, activity: Activity, form: dict[str, Any]) -> dict:
    try:
        new_deadline = date.fromisoformat(_text(form, "new_deadline"))
    except ValueError:
        raise WorkError(_l("give the new date as YYYY-MM-DD")) from None
    reason = _text(form, "reason")
    request = extensions.request_extension(unit, activity, person, new_deadline, reason)
    return {"request": request.id, "new_deadline": new_deadline.isoformat(), "reason": reason}


def _decline(unit: UnitOfWork, person: Person, meeting: Meeting, form: dict[str, Any]) -> dict:
    deputy_id = _ids([form.get("deputy")]) if form.get("deputy") not in (None, "") else []
    meetings.decline(unit, meeting, person, deputy_id[0] if deputy_id else None)
    deputy = unit.session.get(Person, deputy_id[0]) if deputy_id else None
    return {"answer": "no", "deputy": deputy.name if deputy else None}


def _ids(values: Any) -> list[int]:
    """Person ids from a form (one value or a list); anything that is not a number is refused."""
    if values is None:
        return []
    items = values if isinstance(values, list | tuple | set) else [values]
    try:
        return [int(v) for v in items if v not in (None, "")]
    except (TypeError, ValueError):
        raise WorkError(_l("a person is given by their number")) from None
