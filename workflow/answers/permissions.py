"""Who may do what to which item: one check, deny by default, for every link and page.

The rule of who is asked is the rule of who may answer: an activity's reminders go to the
contact people of its organisations (`workflow.reminders.recipients`), so those people (and the
coordinator) may mark it done, report on it or ask for a new date. A deputy named in an absence
of such a person gets their mails (`workflow.outbox.stand_ins`), so may answer them too, but
only from the first to the last day of the absence (in the agreement's time zone, by the clock).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from workflow.agreement.models import Person, Role
from workflow.links.tokens import SUBJECT_OF, Action
from workflow.meetings.models import Meeting
from workflow.outbox.stand_ins import StandIns
from workflow.plan.models import Activity, ExtensionRequest
from workflow.reminders.recipients import directory

Subject = Activity | Meeting | ExtensionRequest | Person

_TYPE_OF: dict[type, str] = {
    Activity: "activity",
    Meeting: "meeting",
    ExtensionRequest: "extension_request",
    Person: "person",
}


def may(
    session: Session, person: Person | None, action: Action, subject: Subject | None, now: datetime
) -> bool:
    """Whether `person` may take `action` on `subject` at `now`: an active person of the subject's
    agreement, in the role the action asks for. Anything unforeseen is a no."""
    if person is None or subject is None or not person.active:
        return False
    if _TYPE_OF.get(type(subject)) != SUBJECT_OF.get(action):
        return False
    if person.agreement_id != subject.agreement_id:
        return False
    roles = set(person.role_names)
    coordinator = Role.COORDINATOR.value in roles
    match action:
        case Action.DONE | Action.PROGRESS | Action.EXTEND:
            asked = set(_asked_about(session, subject))
            return coordinator or person.id in asked or bool(asked & _stands_in_for(session, person, now))
        case Action.ACK:
            return coordinator or Role.MANAGEMENT.value in roles
        case Action.PROPOSE:
            return coordinator or Role.COUNCIL_MEMBER.value in roles or _invited(subject, person)
        case Action.ATTEND | Action.DECLINE:
            invited = {i.person_id for i in subject.invitees}
            return person.id in invited or bool(invited & _stands_in_for(session, person, now))
        case Action.MINUTES:
            return coordinator or Role.COUNCIL_SECRETARY.value in roles
        case Action.APPROVE | Action.REFUSE:
            return coordinator
        case Action.SIGN_IN:
            return subject.id == person.id
    return False


def _asked_about(session: Session, activity: Activity) -> tuple[int, ...]:
    """The people an activity's reminders go to: its organisations' contact people."""
    return directory(session, activity.agreement_id).contacts_of([o.organisation_id for o in activity.owners])


def _stands_in_for(session: Session, deputy: Person, now: datetime) -> set[int]:
    """The people `deputy` stands in for today (their absence covers today's local date): their
    mails come to the deputy with links signed for the deputy, so the deputy acts, and is recorded,
    as themselves. Before and after the absence the deputy has no such right."""
    stand_ins = StandIns(session, [deputy.agreement_id])
    return stand_ins.stood_in_by(deputy.id, stand_ins.local_day(deputy.agreement_id, now))


def _invited(meeting: Meeting, person: Person) -> bool:
    return any(i.person_id == person.id for i in meeting.invitees)
