"""My calendar feed: a secret webcal address with my deadlines and meetings, for Outlook and Google.

The address is the feed row's id signed with TRYGG_SECRET_KEY (nothing secret is stored); it
never expires by itself, and replacing it revokes the old one. One feed per address: it spans
every agreement where that address is a person.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.models import Agreement, Person
from workflow.answers.links import LinkRefused
from workflow.answers.mine import my_activities, people_of
from workflow.audit import UnitOfWork
from workflow.calendar.events import CalendarEvent
from workflow.calendar.ics import to_ics
from workflow.i18n import _
from workflow.ical import uid
from workflow.links.feeds import live_feed, new_feed
from workflow.links.models import CalendarFeed
from workflow.links.tokens import LinkSigner, TokenError
from workflow.meetings.models import Invitee, Meeting, MeetingStatus
from workflow.plan.models import ActivityState
from workflow.plan.standing import effective_deadline

PAST = timedelta(days=90)  # meetings this long ago stay in the feed (a calendar keeps its history)


def current_feed(unit: UnitOfWork, email: str) -> CalendarFeed | None:
    """The address's live feed, made on first use; None for an address nobody has."""
    people = people_of(unit.session, email)
    if not people:
        return None
    feed = _live(unit.session, people[0].id)
    return feed if feed is not None else _new_feed(unit, people[0])


def replace_feed(unit: UnitOfWork, email: str) -> CalendarFeed | None:
    """Revoke the live feed (its address stops working) and make a new one."""
    people = people_of(unit.session, email)
    if not people:
        return None
    old = _live(unit.session, people[0].id)
    if old is not None:
        old.revoked_at = unit.clock.now()
        _audit(unit, people[0], "revoke_feed", {"feed": old.id})
    return _new_feed(unit, people[0])


def _live(session: Session, person_id: int) -> CalendarFeed | None:
    return live_feed(session, person_id)


def _new_feed(unit: UnitOfWork, person: Person) -> CalendarFeed:
    feed = new_feed(unit.session, person.id, unit.clock.now())
    _audit(unit, person, "create_feed", {"feed": feed.id})
    return feed


def _audit(unit: UnitOfWork, person: Person, action: str, after: dict) -> None:
    unit.agreement_id = person.agreement_id
    unit.audit(action, "person", person.key, after=after)


def feed_ics(session: Session, signer: LinkSigner, token: str, now: datetime) -> str:
    """The iCalendar of a feed address: LinkRefused("tampered") for a forged one, ("unknown")
    for a revoked feed or a person no longer active."""
    try:
        feed_id, person_id = signer.verify_feed(token)
    except TokenError as exc:
        raise LinkRefused(exc.reason) from None
    feed = session.get(CalendarFeed, feed_id)
    person = session.get(Person, person_id)
    if feed is None or feed.person_id != person_id or feed.revoked_at is not None:
        raise LinkRefused("unknown")
    if person is None or not person.active:
        raise LinkRefused("unknown")
    people = people_of(session, person.email)
    events = [e for p in people for e in _events_of(session, p, now)]
    tz = session.get(Agreement, person.agreement_id).timezone
    lang = person.language
    name = _("trygg – %(name)s", lang, name=person.name)
    return to_ics(events, name=name, tz=tz, stamp=now).decode("utf-8")


def _events_of(session: Session, person: Person, now: datetime) -> list[CalendarEvent]:
    """My open activities' deadlines (all-day) and my meetings (with their times)."""
    agreement = session.get(Agreement, person.agreement_id)
    events = []
    for activity in my_activities(session, person):
        deadline = effective_deadline(activity.deadline, activity.extended_deadline)
        if deadline is None or activity.state == ActivityState.DONE:
            continue
        events.append(
            CalendarEvent(
                uid=uid(agreement.key, "deadline", activity.key),
                kind="deadline",
                summary=_("Deadline: %(title)s", person.language, title=activity.title),
                start=deadline,
                end=deadline,
                description=activity.goal.area.title,
            )
        )
    for meeting in session.scalars(
        select(Meeting)
        .join(Invitee, Invitee.meeting_id == Meeting.id)
        .where(Invitee.person_id == person.id, Meeting.ends_at >= now - PAST)
        .order_by(Meeting.starts_at)
    ):
        events.append(
            CalendarEvent(
                uid=uid(agreement.key, "meeting", meeting.key),
                kind=meeting.kind,
                summary=meeting.title,
                start=meeting.starts_at.astimezone(ZoneInfo(agreement.timezone)),
                end=meeting.ends_at.astimezone(ZoneInfo(agreement.timezone)),
                location=meeting.location,
                sequence=meeting.sequence,
                cancelled=meeting.status == MeetingStatus.CANCELLED,
            )
        )
    return events
