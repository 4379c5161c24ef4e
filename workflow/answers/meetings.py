"""Answers to a meeting: I will attend, I will not (perhaps sending a deputy), a proposed agenda
item, the minutes with attendance. Each acts through `workflow.meetings.actions` and is audited.

A deputy becomes an invitee like a co-opted guest does, so the next meeting sweep sends them
the invitation (at once when the others' invitations have already left).
"""

from __future__ import annotations

from collections.abc import Iterable

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Organisation, Person
from workflow.audit import UnitOfWork
from workflow.i18n import _l
from workflow.meetings import actions
from workflow.meetings.actions import MeetingError
from workflow.meetings.models import AgendaItem, Invitee, Meeting, MinutesRevision
from workflow.meetings.sweep import refresh_next_action


def deputies(session: Session, meeting: Meeting, person: Person) -> list[Person]:
    """Who may go in `person`'s place: active, non-guest people of the same organisation — the
    same party, its departments included (fältarbetarna stand in for socialtjänsten, both the
    municipality's) — and agreement, who are not invited yet."""
    invited = {i.person_id for i in meeting.invitees}
    parent = dict(
        session.execute(
            select(Organisation.id, Organisation.parent_id).where(
                Organisation.agreement_id == meeting.agreement_id
            )
        ).all()
    )
    home = _party_of(person.organisation_id, parent)
    return [
        p
        for p in session.scalars(
            select(Person)
            .where(Person.agreement_id == meeting.agreement_id, Person.active, Person.is_guest.is_(False))
            .order_by(Person.name)
        )
        if p.id not in invited and _party_of(p.organisation_id, parent) == home
    ]


def _party_of(organisation_id: int, parent: dict[int, int | None]) -> int:
    """The top of an organisation's chain of parents (a loop, refused at load, stops the walk)."""
    seen = {organisation_id}
    while (up := parent.get(organisation_id)) is not None and up not in seen:
        seen.add(up)
        organisation_id = up
    return organisation_id


def attend(unit: UnitOfWork, meeting: Meeting, person: Person) -> Invitee:
    """Jag kommer."""
    return _answer(unit, meeting, person, "yes")


def decline(unit: UnitOfWork, meeting: Meeting, person: Person, deputy_id: int | None = None) -> Invitee:
    """Jag kommer inte; a deputy from the same organisation is invited in the person's place."""
    invitee = _answer(unit, meeting, person, "no")
    if deputy_id is None:
        return invitee
    deputy = next((p for p in deputies(unit.session, meeting, person) if p.id == deputy_id), None)
    if deputy is None:
        raise MeetingError(_l("the deputy must be someone of the same organisation who is not invited yet"))
    meeting.invitees.append(
        Invitee(meeting_id=meeting.id, person_id=deputy.id, co_opted=False, deputy_for_id=person.id)
    )
    unit.session.flush()
    _audit(unit, meeting, "deputy", {"person": deputy.key, "deputy_for": person.key})
    refresh_next_action(unit.session, [meeting])  # the deputy's invitation
    return invitee


def propose(unit: UnitOfWork, meeting: Meeting, person: Person, title: str) -> AgendaItem:
    """Föreslå en punkt: an agenda item proposed by the person. Proposed after the invitation
    has gone, it joins the agenda of the meeting (and of its minutes) but the invited are not
    sent the agenda again."""
    unit.agreement_id = meeting.agreement_id
    return actions.add_agenda_item(unit.session, unit, meeting, title, person)


def minutes(unit: UnitOfWork, meeting: Meeting, text: str, attended: Iterable[int]) -> MinutesRevision:
    """The minutes and who attended (ids among the invitees); the minutes mail then goes to
    everyone invited, as after `trygg meeting minutes`."""
    ids = {int(i) for i in attended}
    invited = {i.person_id: i.person for i in meeting.invitees}
    strangers = ids - set(invited)
    if strangers:
        raise MeetingError(_l("only invited people can be marked as present"))
    unit.agreement_id = meeting.agreement_id
    present = [invited[i] for i in sorted(ids)]
    return actions.record_minutes(unit.session, unit, meeting, text, present, unit.clock.now())


def _answer(unit: UnitOfWork, meeting: Meeting, person: Person, answer: str) -> Invitee:
    actions.require_open(meeting)
    invitee = next((i for i in meeting.invitees if i.person_id == person.id), None)
    if invitee is None:
        raise MeetingError(_l("%(name)s is not invited to this meeting", name=person.name))
    before = invitee.answer
    invitee.answer, invitee.answered_at = answer, unit.clock.now()
    _audit(unit, meeting, "answer", {"person": person.key, "answer": answer}, before={"answer": before})
    return invitee


def _audit(unit: UnitOfWork, meeting: Meeting, action: str, after: dict, before: dict | None = None) -> None:
    unit.agreement_id = meeting.agreement_id
    unit.audit(action, "meeting", meeting.key, before=before, after=after)
