"""The yearly follow-up report's content: per area and activity, the check-ins, the council."""

from __future__ import annotations

from collections import Counter
from datetime import date
from typing import Any
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from workflow.agreement.context import context_of
from workflow.agreement.models import Agreement
from workflow.cycle.models import Cycle
from workflow.meetings.models import Meeting, MeetingKind, MeetingStatus
from workflow.plan.models import Activity, ActivityState
from workflow.plan.standing import STANDINGS, progress_by_area
from workflow.plan_language.timing import follow_ups
from workflow.report.figures import TIMELINESS, as_of, minutes_standing, timeliness, verdict

HELD = (MeetingStatus.HELD, MeetingStatus.CLOSED)


def yearly_report(session: Session, agreement: Agreement, year: int, today: date) -> dict[str, Any]:
    """Everything the report shows, as of `today` (or the year's end, if that came first)."""
    day = as_of(year, today)
    tz = ZoneInfo(agreement.timezone)
    areas = []
    months = {m: Counter() for m in range(1, 13)}
    for title, standings in progress_by_area(session, agreement, day):
        counts = Counter(s.standing for s in standings)
        areas.append(
            {"title": title, "activities": standings, "counts": {k: counts.get(k, 0) for k in STANDINGS}}
        )
        for s in standings:
            if s.deadline and s.deadline.year == year:
                months[s.deadline.month][timeliness(s.deadline, s.done_on, day)] += 1
    monthly = [{"month": m, **{k: months[m].get(k, 0) for k in TIMELINESS}} for m in months]
    return {
        "agreement": {"id": agreement.key, "title": agreement.title, "council": agreement.council_name},
        "year": year,
        "as_of": day,
        "areas": areas,
        "totals": {k: sum(a["counts"][k] for a in areas) for k in STANDINGS},
        "timeliness": monthly,
        "verdict": verdict(monthly),
        "follow_ups": _follow_ups(session, agreement, year, day),
        "check_ins": _meetings(session, agreement, year, [MeetingKind.CHECK_IN], tz, day),
        "council": _council(session, agreement, year, tz, day),
        "cycle": _cycle(session, agreement, year),
    }


def _follow_ups(session: Session, agreement: Agreement, year: int, day: date) -> list[dict[str, Any]]:
    """Activities with dated follow-ups: how many fell due this year, how many were reported."""
    context = context_of(agreement)
    ctx, days = context.timing, context.workdays
    out = []
    for activity in session.scalars(
        select(Activity).where(
            Activity.agreement_id == agreement.id, Activity.state != ActivityState.WITHDRAWN
        )
    ):
        if not activity.timing:
            continue
        due = [d for d in follow_ups(activity.timing, ctx, days, date(year, 1, 1), day)]
        if not due:
            continue
        notes = [
            h
            for h in activity.history
            if h.note and h.at.astimezone(ZoneInfo(agreement.timezone)).date().year == year
        ]
        out.append(
            {
                "id": activity.key,
                "title": activity.title,
                "due": len(due),
                "reported": min(len(notes), len(due)),
            }
        )
    return sorted(out, key=lambda f: f["id"])


def _meetings(session, agreement, year, kinds, tz, day) -> list[dict[str, Any]]:
    rows = session.scalars(
        select(Meeting)
        .where(Meeting.agreement_id == agreement.id, Meeting.year == year, Meeting.kind.in_(kinds))
        .order_by(Meeting.starts_at)
    )
    due = context_of(agreement).meetings.minutes_due  # the minutes chase starts then
    out = []
    for m in rows:
        local = m.starts_at.astimezone(tz)
        minutes_at = m.minutes[0].recorded_at if m.minutes else None
        cancelled = m.status == MeetingStatus.CANCELLED
        minutes = minutes_standing(minutes_at, m.ends_at, local.date(), cancelled, day, due)
        out.append(
            {
                "id": m.key,
                "title": m.title,
                "kind": m.kind,
                "starts_at": local,
                "status": m.status,
                "held": m.status in HELD,
                "minutes": minutes,
                "revisions": len(m.minutes),
                "invited": sum(not i.co_opted for i in m.invitees),
                "attended": sum(bool(i.attended) for i in m.invitees),
                "guests": [
                    {"name": i.person.name, "organisation": i.person.organisation.name}
                    for i in m.invitees
                    if i.co_opted
                ],
            }
        )
    return out


def _council(session, agreement, year, tz, day) -> dict[str, Any]:
    meetings = _meetings(session, agreement, year, [MeetingKind.COUNCIL, MeetingKind.YEARLY_REVIEW], tz, day)
    planned = [m for m in meetings if m["status"] != MeetingStatus.CANCELLED]
    attendance: dict[str, list[int]] = {}
    for m in session.scalars(
        select(Meeting).where(
            Meeting.agreement_id == agreement.id,
            Meeting.year == year,
            Meeting.kind.in_([MeetingKind.COUNCIL, MeetingKind.YEARLY_REVIEW]),
            Meeting.status.in_(HELD),
        )
    ):
        for i in m.invitees:
            if not i.co_opted:
                entry = attendance.setdefault(i.person.name, [0, 0])
                entry[0] += bool(i.attended)
                entry[1] += 1
    return {
        "meetings": meetings,
        "planned": len(planned),
        "held": sum(m["held"] for m in meetings),
        "cancelled": len(meetings) - len(planned),
        "attendance": [{"name": n, "attended": a, "of": o} for n, (a, o) in sorted(attendance.items())],
        "guests": [g | {"meeting": m["title"]} for m in meetings for g in m["guests"]],
        "minutes": Counter(m["minutes"] for m in meetings if m["minutes"]),
    }


def _cycle(session, agreement, year) -> list[dict[str, Any]]:
    cycle = session.scalar(select(Cycle).where(Cycle.agreement_id == agreement.id, Cycle.year == year))
    if cycle is None:
        return []
    return [
        {
            "number": s.number,
            "title": s.title,
            "state": s.state,
            "override_reason": s.override_reason,
            "deadline": s.deadline,
        }
        for s in cycle.steps
    ]
