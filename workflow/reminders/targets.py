"""The dates an activity must meet around a day: its effective deadline, follow-ups, event dues. Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from workflow.plan_language.timing import TimingContext, follow_ups
from workflow.reminders.rules import Target
from workflow.workdays import WorkCalendar

# How far around the day follow-ups are looked for: wide enough for the previous one of a
# twice-yearly rule, narrow enough to stay cheap for monthly ones.
_FOLLOW_UP_HORIZON = timedelta(days=370)
_UPCOMING_FOLLOW_UPS = 2


def targets_of(
    *,
    timing: Mapping[str, Any] | None,
    deadline: date | None,
    open_events: Iterable[tuple[int, date]],
    reported_at: datetime | None,
    ctx: TimingContext,
    cal: WorkCalendar,
    today: date,
) -> tuple[Target, ...]:
    """The targets that matter on `today`: the deadline, the next follow-ups, open event dues.

    A follow-up is answered when progress was reported after the previous follow-up's day.
    Follow-ups get reminders only: a missed monthly report is not escalated.
    """
    out: list[Target] = []
    if deadline is not None:
        out.append(Target("deadline", deadline, f"deadline:{deadline.isoformat()}"))
    if timing:
        dates = follow_ups(timing, ctx, cal, today - _FOLLOW_UP_HORIZON, today + _FOLLOW_UP_HORIZON)
        previous = [d for d in dates if d < today]
        upcoming = [d for d in dates if d >= today][:_UPCOMING_FOLLOW_UPS]
        since = _day_end(previous[-1], cal.tz) if previous else None
        for i, d in enumerate(upcoming):
            answered = i == 0 and reported_at is not None and (since is None or reported_at >= since)
            out.append(
                Target("follow_up", d, f"follow_up:{d.isoformat()}", escalates=False, answered=answered)
            )
    for event_id, due_on in open_events:
        out.append(Target("event", due_on, f"event:{event_id}"))
    return tuple(out)


def _day_end(d: date, tz: ZoneInfo) -> datetime:
    return datetime.combine(d + timedelta(days=1), time(), tzinfo=tz)
