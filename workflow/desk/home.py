"""The desk's first page: what needs the coordinator now (overdue by ladder stage, requests, failed mails, meetings)."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.lifecycle import ends_on, has_ended
from workflow.agreement.models import Agreement, Role
from workflow.desk.access import DESK_ROLES, Access
from workflow.desk.activities import activity_rows
from workflow.desk.lifecycle import default_start
from workflow.desk.outbox import counts
from workflow.desk.requests import Waiting, waiting_requests
from workflow.engine.ending import ENDING_NOTICE
from workflow.meetings.models import Meeting, MeetingStatus

NEXT_MEETINGS = 5


@dataclass(frozen=True)
class Home:
    overdue: int
    # (working days after the deadline, to whom) of the ladder step reached → how many, in ladder
    # order; (0, "") for those the ladder has not reached yet.
    overdue_by_stage: list[tuple[tuple[int, str], int]]
    untimed: int  # kept from a plan file without a readable När: they need a timing
    requests: list[Waiting]
    failed_mails: int
    pending_mails: int
    meetings: list[Meeting]
    period: Period


@dataclass(frozen=True)
class Period:
    """The agreement's period as the coordinator must act on it: when the engine stops, and how to go on."""

    start: date
    end: date
    ends_on: date  # the end plus the grace: the last day anything is sent
    days_left: int  # until `end` (negative once it has passed)
    ended: bool  # past the grace, or archived
    archived: bool
    renew_from: date  # a renewal's default first day
    ending_soon: bool  # within the sixty days in which the coordinator is told (agreement_ending)


def desk_home(session: Session, agreement: Agreement, now: datetime) -> Home:
    """What the coordinator should look at first."""
    rows = activity_rows(session, agreement, now)
    overdue = [row for row in rows if row.status == "overdue"]
    stages = Counter((row.stage.after, row.stage.to) if row.stage else (0, "") for row in overdue)
    mails = counts(session, agreement.id)
    meetings = list(
        session.scalars(
            select(Meeting)
            .where(
                Meeting.agreement_id == agreement.id,
                Meeting.starts_at >= now,
                Meeting.status == MeetingStatus.PLANNED,
            )
            .order_by(Meeting.starts_at)
            .limit(NEXT_MEETINGS)
        )
    )
    return Home(
        overdue=len(overdue),
        overdue_by_stage=sorted(stages.items()),
        untimed=sum(row.status == "untimed" for row in rows),
        requests=waiting_requests(session, agreement.id),
        failed_mails=mails.get("failed", 0),
        pending_mails=mails.get("pending", 0) + mails.get("sending", 0),
        meetings=meetings,
        period=period_of(agreement, now.astimezone(ZoneInfo(agreement.timezone)).date()),
    )


def period_of(agreement: Agreement, today: date) -> Period:
    return Period(
        start=agreement.period_start,
        end=agreement.period_end,
        ends_on=ends_on(agreement),
        days_left=(agreement.period_end - today).days,
        ended=has_ended(agreement, today),
        archived=agreement.archived_at is not None,
        renew_from=default_start(agreement, today),
        ending_soon=(agreement.period_end - today) <= ENDING_NOTICE,
    )


@dataclass(frozen=True)
class Desks:
    """Where /me sends a signed-in address: the desks it may open, and whether the overview is its."""

    desks: list[tuple[str, str]]  # (agreement key, title)
    overview: bool


def desks_of(session: Session, access: Access | None) -> Desks:
    """The desks of `access` (every agreement for an administrator) and its right to the overview."""
    if access is None:
        return Desks([], False)
    ids = access.agreement_ids(*DESK_ROLES)
    query = (
        select(Agreement.key, Agreement.title)
        .where(Agreement.archived_at.is_(None))
        .order_by(Agreement.title)
    )
    overview = access.admin or bool(access.agreement_ids(Role.MANAGEMENT.value))
    if ids is not None and not ids:
        return Desks([], overview)  # no desk of theirs: nothing to read
    if ids is not None:
        query = query.where(Agreement.id.in_(ids))
    return Desks([(key, title) for key, title in session.execute(query)], overview)
