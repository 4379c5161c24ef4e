"""The leadership's overview: per agreement the on-time rate by year, overdue items by ladder stage,
the council's meetings and the check-ins — for one agreement or three hundred.

The measures are the yearly report's (`workflow.report.figures`, `plan.standing.done_on_at`), read
set-based: a fixed number of statements whatever the number of agreements and activities, so the
overview and the report cannot disagree and the page stays fast at a national deployment's size.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass, field
from datetime import date, datetime
from zoneinfo import ZoneInfo

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from workflow.agreement.context import AgreementContext, context_of
from workflow.agreement.models import Agreement
from workflow.desk.standing import overdue_by_stage
from workflow.meetings.held import COUNCIL_KINDS, is_held
from workflow.meetings.models import Meeting, MeetingKind, MeetingStatus, MinutesRevision
from workflow.plan.models import Activity, ActivityState, ActivityStatusChange, Goal, PriorityArea
from workflow.plan.standing import done_on_at, effective_deadline
from workflow.report.figures import TIMELINESS, Verdict, as_of, minutes_standing, timeliness


@dataclass
class Meetings:
    """One year's meetings of one kind group: planned (not cancelled), held, minutes on time."""

    planned: int = 0
    held: int = 0
    minutes_on_time: int = 0


@dataclass(frozen=True)
class OverviewPage:
    """Which agreements one page of the overview shows (a national deployment has 300)."""

    ids: list[int]  # this page's, in title order
    page: int
    pages: int
    total: int  # every agreement the search matched
    first: int  # the page's first and last place among them (1-based; 0 when none)
    last: int


def overview_page(
    session: Session, agreement_ids: Collection[int] | None, search: str, page: int, per_page: int
) -> OverviewPage:
    """Page `page` (clamped) of the agreements `agreement_ids` (None: all) whose title or id holds
    `search` in any case, in title order. Only ids and names are read here, the figures are for the
    page's; the search is Python's casefold, as SQLite's LIKE folds ASCII only (Ö, Å, Ä)."""
    query = select(Agreement.id, Agreement.title, Agreement.key).order_by(Agreement.title, Agreement.key)
    if agreement_ids is not None:
        query = query.where(Agreement.id.in_(list(agreement_ids)))
    wanted = search.casefold()
    ids = [id_ for id_, title, key in session.execute(query) if wanted in f"{title}\n{key}".casefold()]
    pages = max(1, -(-len(ids) // per_page))
    page = min(max(1, page), pages)
    shown = ids[(page - 1) * per_page : page * per_page]
    first = (page - 1) * per_page + 1 if shown else 0
    return OverviewPage(shown, page, pages, len(ids), first, first + len(shown) - 1 if shown else 0)


@dataclass
class AgreementOverview:
    """What the leadership sees of one agreement."""

    key: str
    title: str
    archived: bool
    years: dict[int, Verdict]  # every year with deadlines, oldest first: the trend
    overdue: dict[str, int]  # by ladder stage (workflow.desk.standing.STAGES)
    council: dict[int, Meetings] = field(default_factory=dict)
    check_ins: dict[int, Meetings] = field(default_factory=dict)

    def verdict(self, year: int) -> Verdict:
        return self.years.get(year, Verdict(0, 0, 0))

    def meetings(self, group: dict[int, Meetings], year: int) -> Meetings:
        return group.get(year, Meetings())


def leadership_overview(
    session: Session, agreement_ids: Collection[int] | None, now: datetime
) -> list[AgreementOverview]:
    """The overview of the agreements `agreement_ids` (None: all) at `now`, each on its own local day."""
    if agreement_ids is not None and not agreement_ids:
        return []
    agreements = list(session.scalars(_agreements(agreement_ids)))
    if not agreements:
        return []
    ids = [a.id for a in agreements]
    done = _done_instants(session, ids)
    activities = defaultdict(list)
    rows = session.execute(_activities(ids)).all()
    for row in rows:
        activities[row.agreement_id].append(row)
    contexts = _contexts(agreements)
    overdue = overdue_by_stage(session, agreements, contexts, rows, now)
    council, check_ins = _meetings(session, agreements, contexts, now)
    out = []
    for agreement in agreements:
        rows = activities[agreement.id]
        tz = contexts[agreement.id].zone
        today = now.astimezone(tz).date()
        out.append(
            AgreementOverview(
                key=agreement.key,
                title=agreement.title,
                archived=agreement.archived_at is not None,
                years=_years(rows, done, tz, today),
                overdue=overdue[agreement.id],
                council=council[agreement.id],
                check_ins=check_ins[agreement.id],
            )
        )
    return out


def _contexts(agreements: list[Agreement]) -> dict[int, AgreementContext]:
    """Each agreement's context, built once per distinct setting: most agreements share the defaults,
    and a working-day calendar is the costly part of a context."""
    built: dict[str, AgreementContext] = {}
    out = {}
    for a in agreements:
        settings = json.dumps(
            [a.timezone, a.calendar_config, a.reminders_config, a.meetings_config],
            sort_keys=True,
            default=str,
        )
        if settings not in built:
            built[settings] = context_of(a)
        out[a.id] = built[settings]
    return out


def _agreements(ids: Collection[int] | None) -> Select:
    query = select(Agreement).order_by(Agreement.title, Agreement.key)
    return query if ids is None else query.where(Agreement.id.in_(list(ids)))


def _activities(ids: list[int]) -> Select:
    """The activities the report lists: of active areas, not withdrawn (plan.standing.progress_by_area),
    with the columns the ladder's rule reads (desk.standing.overdue_by_stage)."""
    return (
        select(
            Activity.id,
            Activity.agreement_id,
            Activity.deadline,
            Activity.extended_deadline,
            Activity.state,
            Activity.acknowledged_at,
            Activity.reported_at,
            Activity.next_action_at,
        )
        .join(Goal, Goal.id == Activity.goal_id)
        .join(PriorityArea, PriorityArea.id == Goal.area_id)
        .where(
            Activity.agreement_id.in_(ids),
            PriorityArea.active,
            Activity.state != ActivityState.WITHDRAWN,
        )
    )


def _done_instants(session: Session, ids: list[int]) -> dict[int, list[datetime]]:
    """Every change to done of the agreements' activities, per activity id."""
    out: dict[int, list[datetime]] = defaultdict(list)
    rows = session.execute(
        select(ActivityStatusChange.activity_id, ActivityStatusChange.at)
        .join(Activity, Activity.id == ActivityStatusChange.activity_id)
        .where(Activity.agreement_id.in_(ids), ActivityStatusChange.to_state == ActivityState.DONE)
    )
    for activity_id, at in rows:
        out[activity_id].append(at)
    return out


def _years(rows, done, tz: ZoneInfo, today: date) -> dict[int, Verdict]:
    """Per deadline year, the report's timeliness counts (each year as of its report's day)."""
    counts: dict[int, dict[str, int]] = defaultdict(lambda: dict.fromkeys(TIMELINESS, 0))
    for row in rows:
        deadline = effective_deadline(row.deadline, row.extended_deadline)
        if deadline is None or deadline.year > today.year:
            continue
        day = as_of(deadline.year, today)
        done_on = done_on_at(row.state, done.get(row.id, ()), day, tz)
        counts[deadline.year][timeliness(deadline, done_on, day)] += 1
    return {year: Verdict(**counts[year]) for year in sorted(counts)}


def _meetings(
    session: Session, agreements: list[Agreement], contexts: dict[int, AgreementContext], now: datetime
):
    """Per agreement and year: the council's meetings and the check-ins, planned, held, minuted on time."""
    first_minutes = (
        select(MinutesRevision.meeting_id, func.min(MinutesRevision.recorded_at).label("recorded_at"))
        .group_by(MinutesRevision.meeting_id)
        .subquery()
    )
    rows = session.execute(
        select(
            Meeting.agreement_id,
            Meeting.year,
            Meeting.kind,
            Meeting.status,
            Meeting.starts_at,
            Meeting.ends_at,
            first_minutes.c.recorded_at,
        )
        .outerjoin(first_minutes, first_minutes.c.meeting_id == Meeting.id)
        .where(
            Meeting.agreement_id.in_([a.id for a in agreements]),
            Meeting.kind.in_([*COUNCIL_KINDS, MeetingKind.CHECK_IN]),
        )
    )
    council: dict[int, dict[int, Meetings]] = defaultdict(lambda: defaultdict(Meetings))
    check_ins: dict[int, dict[int, Meetings]] = defaultdict(lambda: defaultdict(Meetings))
    for row in rows:
        context = contexts[row.agreement_id]
        group = check_ins if row.kind == MeetingKind.CHECK_IN else council
        entry = group[row.agreement_id][row.year]
        cancelled = row.status == MeetingStatus.CANCELLED
        entry.planned += not cancelled
        entry.held += is_held(row.status)
        starts_on = row.starts_at.astimezone(context.zone).date()
        day = as_of(row.year, now.astimezone(context.zone).date())
        due = context.meetings.minutes_due
        minutes = minutes_standing(row.recorded_at, row.ends_at, starts_on, cancelled, day, due)
        entry.minutes_on_time += minutes == "on_time"
    return council, check_ins
