"""The yearly follow-up report's content: the year's activities, their escalations, the check-ins, the council.

A year's activities are those its plan sets for it: due that year or later, or ongoing work without
a deadline. An activity due in an earlier year is that year's; if still open it is listed apart, as
carried over, and not counted in this year's verdict. A year without its own plan version says so.
"""

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
from workflow.meetings.held import COUNCIL_KINDS, is_held, tally
from workflow.meetings.models import Meeting, MeetingKind, MeetingStatus
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.plan.models import Activity, ActivityState, PlanVersion
from workflow.plan.standing import STANDINGS, Standing, progress_by_area
from workflow.plan_language.timing import follow_ups
from workflow.report.figures import TIMELINESS, as_of, minutes_standing, provisional, timeliness, verdict

LADDER = ("owner", "coordinator", "management")  # who an overdue activity's notices reach, in order


def of_year(standing: Standing, year: int) -> bool:
    """Whether an activity is the year's own: due in it or later, or ongoing without a deadline."""
    return standing.deadline is None or standing.deadline.year >= year


def yearly_report(session: Session, agreement: Agreement, year: int, today: date) -> dict[str, Any]:
    """Everything the report shows, as of `today` (or the year's end, if that came first)."""
    day = as_of(year, today)
    tz = ZoneInfo(agreement.timezone)
    areas, carried = [], []
    months = {m: Counter() for m in range(1, 13)}
    for title, all_standings in progress_by_area(session, agreement, day):
        standings = [s for s in all_standings if of_year(s, year)]
        carried += [s for s in all_standings if not of_year(s, year) and not s.done_on]
        counts = Counter(s.standing for s in standings)
        areas.append(
            {"title": title, "activities": standings, "counts": {k: counts.get(k, 0) for k in STANDINGS}}
        )
        for s in standings:
            if s.deadline and s.deadline.year == year:
                months[s.deadline.month][timeliness(s.deadline, s.done_on, day)] += 1
    monthly = [{"month": m, **{k: months[m].get(k, 0) for k in TIMELINESS}} for m in months]
    year_standings = [s for a in areas for s in a["activities"]]
    council = _council(session, agreement, year, tz, day)
    check_ins = _meetings(session, agreement, year, [MeetingKind.CHECK_IN], tz, day)
    escalations = _escalations(session, agreement, year, tz, day)
    return {
        "agreement": {"id": agreement.key, "title": agreement.title, "council": agreement.council_name},
        "year": year,
        "as_of": day,
        "plan": _plan(session, agreement, year),
        "areas": areas,
        "carried": sorted(carried, key=lambda s: (s.deadline, s.title)),
        "totals": {k: sum(a["counts"][k] for a in areas) for k in STANDINGS},
        "activities": len(year_standings),
        "timeliness": monthly,
        "verdict": verdict(monthly),
        "provisional": provisional(
            [s.deadline for s in year_standings if s.deadline and s.deadline.year == year and not s.done_on],
            day,
        ),
        "escalations": escalations,
        "escalated": {
            "activities": len({e["id"] for e in escalations}),
            "management": len({e["id"] for e in escalations if "management" in e["reached"]}),
            "acknowledged": len({e["id"] for e in escalations if e["acknowledged"]}),
        },
        "follow_ups": _follow_ups(session, agreement, year, day),
        "check_ins": check_ins,
        "check_ins_held": sum(m["held"] for m in check_ins),
        "check_ins_planned": sum(m["status"] != MeetingStatus.CANCELLED for m in check_ins),
        "council": council,
        "cycle": _cycle(session, agreement, year),
    }


def _plan(session: Session, agreement: Agreement, year: int) -> dict[str, Any]:
    """Which plan version the year follows: its own, or (said so) the last one before it."""
    version = session.scalar(
        select(PlanVersion)
        .where(PlanVersion.agreement_id == agreement.id, PlanVersion.year <= year)
        .order_by(PlanVersion.year.desc(), PlanVersion.revision.desc(), PlanVersion.id.desc())
        .limit(1)
    )
    return {
        "own": version is not None and version.year == year,
        "year": version.year if version is not None else None,
        "title": version.title if version is not None else None,
    }


def _escalations(session: Session, agreement: Agreement, year: int, tz: ZoneInfo, day: date):
    """Each overdue episode (one activity, one missed deadline) with a step of the ladder mailed this
    year: its steps, to whom from which day; and whether it was acknowledged or the work got done."""
    rows = session.execute(
        select(Notice, Mail.sent_at, Activity)
        .join(Mail, Mail.id == Notice.mail_id)
        .join(Activity, Activity.id == Notice.subject_id)
        .where(
            Notice.agreement_id == agreement.id,
            Notice.subject_type == "activity",
            Notice.rule.in_(("overdue", "escalation")),
            Mail.status == MailStatus.SENT,
        )
        .order_by(Mail.sent_at, Notice.id)
    )
    episodes: dict[tuple[int, str, str], dict[str, Any]] = {}
    for notice, sent_at, activity in rows:
        sent_on = sent_at.astimezone(tz).date()
        if sent_on > day:
            continue
        payload = notice.payload
        due = date.fromisoformat(payload["due"])
        episode = episodes.setdefault(
            (activity.id, payload.get("target", ""), payload["due"]),
            {"id": activity.key, "title": activity.title, "due": due, "steps": {}, "activity": activity},
        )
        episode["steps"].setdefault(payload.get("to", "owner"), sent_on)
    out = []
    for episode in episodes.values():
        if not any(on.year == year for on in episode["steps"].values()):
            continue  # an episode of another year (one that ran over New Year is in both)
        activity = episode.pop("activity")
        acknowledged = activity.acknowledged_at
        acknowledged_on = acknowledged.astimezone(tz).date() if acknowledged else None
        done = [c.at.astimezone(tz).date() for c in activity.history if c.to_state == ActivityState.DONE]
        steps = episode.pop("steps")
        out.append(
            episode
            | {
                "steps": [{"to": to, "on": steps[to]} for to in LADDER if to in steps],
                "reached": [to for to in LADDER if to in steps],
                "acknowledged": acknowledged_on is not None and episode["due"] < acknowledged_on <= day,
                "acknowledged_on": acknowledged_on,
                "done_on": next((d for d in done if episode["due"] < d <= day), None),
            }
        )
    return sorted(out, key=lambda e: (e["due"], e["title"]))


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
        members = [i for i in m.invitees if not i.co_opted]
        guests = [i for i in m.invitees if i.co_opted]
        out.append(
            {
                "id": m.key,
                "title": m.title,
                "kind": m.kind,
                "starts_at": local,
                "status": m.status,
                "held": is_held(m.status),
                "minutes": minutes,
                "revisions": len(m.minutes),
                # Members against members; guests apart (they were never expected, so never absent).
                "invited": len(members),
                "attended": sum(bool(i.attended) for i in members),
                "guests_attended": sum(bool(i.attended) for i in guests),
                "guests": [
                    {"name": i.person.name, "organisation": i.person.organisation.name} for i in guests
                ],
            }
        )
    return out


def _council(session, agreement, year, tz, day) -> dict[str, Any]:
    meetings = _meetings(session, agreement, year, list(COUNCIL_KINDS), tz, day)
    counted = tally(m["status"] for m in meetings)
    attendance: dict[str, list[int]] = {}
    for m in session.scalars(
        select(Meeting).where(
            Meeting.agreement_id == agreement.id,
            Meeting.year == year,
            Meeting.kind.in_(COUNCIL_KINDS),
        )
    ):
        if not is_held(m.status):
            continue
        for i in m.invitees:
            if not i.co_opted:
                entry = attendance.setdefault(i.person.name, [0, 0])
                entry[0] += bool(i.attended)
                entry[1] += 1
    return {
        "meetings": meetings,
        "planned": counted.planned,
        "held": counted.held,
        "cancelled": counted.cancelled,
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
