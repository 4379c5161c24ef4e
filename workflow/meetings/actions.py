"""What people do with meetings: agenda items, co-opted guests, moving, cancelling, minutes.

Every action is audited. A change that attendees must hear about (time, place, cancellation)
raises the meeting's iCalendar SEQUENCE, which is what makes calendars update the event.
Minutes are public records: recording them again makes a new revision, never an edit.
Every action that changes what attendees must hear reschedules the meeting (next_action_at),
so the next sweep sends the invitation, update, cancellation or minutes.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.addresses import AddressError, parse_address
from workflow.agreement.models import Agreement, Organisation, Person
from workflow.agreement.schema import slug
from workflow.audit import UnitOfWork
from workflow.i18n import _l
from workflow.meetings.models import AgendaItem, Invitee, Meeting, MeetingKind, MeetingStatus, MinutesRevision
from workflow.meetings.sweep import MOOT_ON_CANCEL, refresh_next_action
from workflow.outbox.notices import cancel_notices


class MeetingError(ValueError):
    """An action that the meeting's state does not allow, or that names someone unknown."""


def find_meeting(session: Session, agreement: Agreement, key: str) -> Meeting:
    meeting = session.scalar(select(Meeting).where(Meeting.agreement_id == agreement.id, Meeting.key == key))
    if meeting is None:
        raise MeetingError(_l("unknown meeting %(key)r (see `trygg meeting list`)", key=key))
    return meeting


def find_person(session: Session, agreement: Agreement, key: str) -> Person:
    person = session.scalar(
        select(Person).where(Person.agreement_id == agreement.id, Person.key == key, Person.active)
    )
    if person is None:
        raise MeetingError(_l("unknown person %(key)r", key=key))
    return person


def require_open(meeting: Meeting) -> None:
    """MeetingError unless the meeting is still planned (neither cancelled nor closed)."""
    if meeting.status in (MeetingStatus.CANCELLED, MeetingStatus.CLOSED):
        if meeting.status == MeetingStatus.CANCELLED:
            raise MeetingError(_l("the meeting %(key)s is cancelled", key=meeting.key))
        raise MeetingError(_l("the meeting %(key)s is closed", key=meeting.key))


def add_meeting(
    session: Session,
    unit: UnitOfWork,
    agreement: Agreement,
    *,
    title: str,
    starts_at: datetime,
    ends_at: datetime,
    location: str | None,
    invite: Iterable[Person],
    kind: MeetingKind = MeetingKind.COUNCIL,
) -> Meeting:
    """An ad hoc meeting (an extra council meeting, say): its key names its date."""
    if ends_at <= starts_at:
        raise MeetingError(_l("the meeting must end after it begins"))
    key = _unused_key(session, Meeting, agreement, f"adhoc-{starts_at.date().isoformat()}-{slug(title)[:40]}")
    meeting = Meeting(
        agreement_id=agreement.id,
        key=key,
        kind=kind,
        year=starts_at.year,
        title=title,
        starts_at=starts_at,
        ends_at=ends_at,
        location=location,
        status=MeetingStatus.PLANNED,
        sequence=0,
    )
    session.add(meeting)
    session.flush()
    for person in {p.id: p for p in invite}.values():
        session.add(Invitee(meeting_id=meeting.id, person_id=person.id, co_opted=False))
    unit.audit("create", "meeting", key, after={"title": title, "starts_at": starts_at.isoformat()})
    session.flush()
    session.refresh(meeting, ["invitees"])
    refresh_next_action(session, [meeting])
    return meeting


def add_agenda_item(
    session: Session, unit: UnitOfWork, meeting: Meeting, title: str, proposed_by: Person | None
) -> AgendaItem:
    require_open(meeting)
    if not title.strip():
        raise MeetingError(_l("an agenda item needs a heading"))
    item = AgendaItem(
        meeting_id=meeting.id,
        position=len(meeting.agenda) + 1,
        title=title.strip(),
        proposed_by_id=proposed_by.id if proposed_by else None,
    )
    meeting.agenda.append(item)
    session.flush()
    unit.audit(
        "add_agenda_item",
        "meeting",
        meeting.key,
        after={"title": item.title, "by": proposed_by.key if proposed_by else None},
    )
    return item


def find_agenda_item(meeting: Meeting, number: int) -> AgendaItem:
    """A proposed item by its number among the proposed items (1 is the first), as the CLI names it."""
    items = list(meeting.agenda)
    if not 1 <= number <= len(items):
        raise MeetingError(
            _l(
                "the meeting %(key)s has no proposed item %(number)s (it has %(count)s; see `trygg meeting show`)",
                key=meeting.key,
                number=number,
                count=len(items),
            )
        )
    return items[number - 1]


def move_agenda_item(session: Session, unit: UnitOfWork, meeting: Meeting, item_id: int, step: int) -> None:
    """Move a proposed item up (step -1) or down (+1) the agenda; at either end it stays."""
    require_open(meeting)
    index = _index_of(meeting, item_id)
    if step in (-1, 1) and 0 <= index + step < len(meeting.agenda):
        place_agenda_item(session, unit, meeting, item_id, index + step + 1)


def place_agenda_item(
    session: Session, unit: UnitOfWork, meeting: Meeting, item_id: int, position: int
) -> None:
    """Put a proposed item at `position` (1 is the first proposed item); the others close up."""
    unit.check()
    require_open(meeting)
    items = list(meeting.agenda)
    index = _index_of(meeting, item_id)
    if not 1 <= position <= len(items):
        raise MeetingError(
            _l(
                "position %(position)s is outside the proposed items 1–%(count)s",
                position=position,
                count=len(items),
            )
        )
    if position == index + 1:
        return
    item = items.pop(index)
    items.insert(position - 1, item)
    _renumber(session, items)
    unit.audit(
        "move_agenda_item",
        "meeting",
        meeting.key,
        before={"title": item.title, "position": index + 1},
        after={"title": item.title, "position": position},
    )


def _index_of(meeting: Meeting, item_id: int) -> int:
    index = next((i for i, item in enumerate(meeting.agenda) if item.id == item_id), None)
    if index is None:
        raise MeetingError(_l("no such agenda item"))
    return index


def remove_agenda_item(session: Session, unit: UnitOfWork, meeting: Meeting, item_id: int) -> None:
    """Take a proposed item off the agenda (the standing items of the meeting's kind stay)."""
    unit.check()
    require_open(meeting)
    item = next((i for i in meeting.agenda if i.id == item_id), None)
    if item is None:
        raise MeetingError(_l("no such agenda item"))
    meeting.agenda.remove(item)
    session.flush()
    _renumber(session, list(meeting.agenda))
    unit.audit("remove_agenda_item", "meeting", meeting.key, before={"title": item.title}, after=None)


def _renumber(session: Session, items: list[AgendaItem]) -> None:
    # Positions are not unique in the table, so they can be rewritten in place.
    for position, item in enumerate(items, start=1):
        item.position = position
    session.flush()
    if items:
        session.expire(items[0].meeting, ["agenda"])


def coopt(session: Session, unit: UnitOfWork, meeting: Meeting, person: Person) -> Invitee:
    """Adjungera: invite someone outside the council to this one meeting."""
    require_open(meeting)
    if any(i.person_id == person.id for i in meeting.invitees):
        raise MeetingError(_l("%(name)s is already invited to %(key)s", name=person.name, key=meeting.key))
    invitee = Invitee(meeting_id=meeting.id, person_id=person.id, co_opted=True)
    meeting.invitees.append(invitee)
    session.flush()
    unit.audit("coopt", "meeting", meeting.key, after={"person": person.key})
    refresh_next_action(session, [meeting])  # the guest's invitation, if the others' have left
    return invitee


def add_guest(
    session: Session,
    unit: UnitOfWork,
    agreement: Agreement,
    *,
    name: str,
    email: str,
    organisation: str,
    language: str = "sv",
    title: str | None = None,
) -> Person:
    """A person outside the agreement file (a förening's chair, say), to be co-opted.

    Guests survive reloads of the agreement file; the file may later name them properly.
    """
    email = _check_guest(name, email, language)
    org = session.scalar(
        select(Organisation).where(
            Organisation.agreement_id == agreement.id, Organisation.key == organisation
        )
    )
    if org is None:
        raise MeetingError(_l("unknown organisation %(key)r", key=organisation))
    same = session.scalar(
        select(Person).where(
            Person.agreement_id == agreement.id, Person.email == email.strip(), Person.active
        )
    )
    if same is not None:
        return same  # already known (a member, or a guest of an earlier meeting)
    key = _unused_key(session, Person, agreement, slug(name)[:90])
    person = Person(
        agreement_id=agreement.id,
        key=key,
        name=name.strip(),
        email=email.strip(),
        title=title,
        organisation_id=org.id,
        language=language,
        is_contact=False,
        active=True,
        is_guest=True,
    )
    session.add(person)
    session.flush()
    unit.audit(
        "create",
        "person",
        key,
        after={"name": person.name, "email": person.email, "organisation": organisation, "guest": True},
    )
    return person


def _check_guest(name: str, email: str, language: str) -> str:
    """A guest has a name, an address (checked as the agreement file's and delivery's, by
    workflow.addresses) and a language we write in. Returns the address, normalised."""
    if not name.strip():
        raise MeetingError(_l("the guest needs a name"))
    try:
        email = parse_address(email).normalized
    except AddressError as exc:
        raise MeetingError(
            _l("invalid email address %(email)r: %(reason)s", email=email, reason=str(exc))
        ) from None
    if language not in ("sv", "en"):
        raise MeetingError(_l("the language must be sv or en"))
    return email


def _unused_key(
    session: Session, model: type[Meeting] | type[Person], agreement: Agreement, base: str
) -> str:
    """`base`, or `base-2`, `base-3`, … : the first key the agreement's meetings (or people) do not use."""
    key, n = base, 1
    while session.scalar(select(model.id).where(model.agreement_id == agreement.id, model.key == key)):
        n += 1
        key = f"{base}-{n}"
    return key


def reschedule(
    session: Session,
    unit: UnitOfWork,
    meeting: Meeting,
    starts_at: datetime,
    ends_at: datetime | None,
    location: str | None = None,
) -> Meeting:
    require_open(meeting)
    ends_at = ends_at or starts_at + (meeting.ends_at - meeting.starts_at)
    if ends_at <= starts_at:
        raise MeetingError(_l("the meeting must end after it begins"))
    before = {
        "starts_at": meeting.starts_at.isoformat(),
        "ends_at": meeting.ends_at.isoformat(),
        "location": meeting.location,
    }
    meeting.starts_at, meeting.ends_at = starts_at, ends_at
    if location is not None:
        meeting.location = location
    meeting.sequence += 1
    unit.audit(
        "reschedule",
        "meeting",
        meeting.key,
        before=before,
        after={
            "starts_at": starts_at.isoformat(),
            "ends_at": ends_at.isoformat(),
            "location": meeting.location,
            "sequence": meeting.sequence,
        },
    )
    refresh_next_action(session, [meeting])  # the update goes to whoever holds the old version
    return meeting


def cancel(session: Session, unit: UnitOfWork, meeting: Meeting, reason: str) -> Meeting:
    require_open(meeting)
    if not reason.strip():
        raise MeetingError(_l("say why the meeting is cancelled"))
    meeting.status = MeetingStatus.CANCELLED
    meeting.sequence += 1
    unit.audit(
        "cancel",
        "meeting",
        meeting.key,
        before={"status": "planned"},
        after={"status": "cancelled"},
        reason=reason.strip(),
    )
    cancel_notices(
        session, subject_type="meeting", subject_id=meeting.id, now=unit.clock.now(), rules=MOOT_ON_CANCEL
    )
    refresh_next_action(session, [meeting])
    return meeting


def record_minutes(
    session: Session,
    unit: UnitOfWork,
    meeting: Meeting,
    text: str,
    attended: Iterable[Person],
    now: datetime,
) -> MinutesRevision:
    """The minutes of a held meeting, with who attended; a second recording is a correction,
    kept as a new revision. Recording them closes the meeting."""
    if meeting.status == MeetingStatus.CANCELLED:
        raise MeetingError(_l("the meeting %(key)s is cancelled", key=meeting.key))
    if meeting.starts_at > now:
        raise MeetingError(
            _l(
                "the meeting %(key)s has not been held yet (%(start)s)",
                key=meeting.key,
                start=meeting.starts_at.isoformat(),
            )
        )
    if not text.strip():
        raise MeetingError(_l("the minutes are empty"))
    present = {p.id for p in attended}
    invited = {i.person_id for i in meeting.invitees}
    strangers = present - invited
    if strangers:
        names = ", ".join(sorted(p.key for p in attended if p.id in strangers))
        raise MeetingError(_l("%(names)s were not invited to the meeting (co-opt them first)", names=names))
    for invitee in meeting.invitees:
        invitee.attended = invitee.person_id in present
    revision = MinutesRevision(
        meeting_id=meeting.id,
        revision=len(meeting.minutes) + 1,
        text=text,
        recorded_at=now,
        recorded_by=unit.actor,
    )
    meeting.minutes.append(revision)
    action = "minutes" if revision.revision == 1 else "correct_minutes"
    meeting.status = MeetingStatus.CLOSED
    session.flush()
    unit.audit(
        action,
        "meeting",
        meeting.key,
        after={"revision": revision.revision, "attended": sorted(p.key for p in attended)},
    )
    # Asking for minutes that are recorded is moot; the minutes mail goes to everyone invited.
    cancel_notices(
        session, subject_type="meeting", subject_id=meeting.id, now=now, rules=("minutes_request",)
    )
    refresh_next_action(session, [meeting])
    return revision
