"""What a timing means in dates: its deadline, start, occurrences, follow-ups, event dues."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, Literal
from zoneinfo import ZoneInfo

from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.calendarinterval import CalendarIntervalTrigger
from apscheduler.triggers.cron import CronTrigger
from pydantic import BaseModel

from workflow.plan_language.timing.model import (
    WEEKDAYS,
    AsNeededTiming,
    CombinedTiming,
    ContinuousTiming,
    DeadlineTiming,
    EventTiming,
    OccasionsTiming,
    RecurringTiming,
    Rule,
    Span,
    Timing,
    TimingContext,
    WindowTiming,
)
from workflow.plan_language.timing.parse import parse_timing_spec
from workflow.workdays import WorkCalendar

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
# --- what a timing means in dates ----------------------------------------------------------


# The functions below take a Timing or its stored JSON form (the activities table keeps JSON).
AnyTiming = Timing | Mapping[str, Any]


def as_timing(timing: Timing | Mapping[str, Any]) -> Timing:
    """A Timing as it is, or read from its stored JSON form."""
    return timing if isinstance(timing, BaseModel) else parse_timing_spec(timing)


def deadline_of(timing: AnyTiming, ctx: TimingContext, cal: WorkCalendar) -> date | None:
    """The working-day-adjusted date by which the duty is done; None for ongoing work.

    Recurring, continuous, as-needed and event duties have no single deadline (their follow-ups
    and event dues carry the dates); a count of occasions within a span is due at its end, a
    count per week or month is followed up each time; a combination is done when its last dated
    part is.
    """
    match timing := as_timing(timing):
        case DeadlineTiming(due=due):
            return cal.adjust_deadline(due)
        case WindowTiming(end=end):
            return cal.adjust_deadline(end)
        case OccasionsTiming(per=None):
            return cal.adjust_deadline(_span(timing, ctx)[1])
        case CombinedTiming(parts=parts):
            dates = [d for p in parts if (d := deadline_of(p, ctx, cal)) is not None]
            return max(dates, default=None)
    return None


deadline = deadline_of  # the name the design brief uses


def start_of(timing: AnyTiming, ctx: TimingContext) -> date | None:
    """The first day the work is on, if the timing says so."""
    match timing := as_timing(timing):
        case WindowTiming() | RecurringTiming() | ContinuousTiming() | OccasionsTiming() | AsNeededTiming():
            return _span(timing, ctx)[0]
        case CombinedTiming(parts=parts):
            return min((d for p in parts if (d := start_of(p, ctx))), default=None)
    return None


def event_due(timing: EventTiming, occurred_on: date, cal: WorkCalendar) -> date:
    """When an event-triggered duty is due, given the day the event happened."""
    return cal.add_working_days(occurred_on, timing.follow_up_days)


def occurrences(timing: AnyTiming, ctx: TimingContext, start: datetime, end: datetime) -> list[datetime]:
    """Operational occurrences in [start, end), aware UTC; holidays do not move them."""
    if start.tzinfo is None or end.tzinfo is None:
        raise ValueError("occurrences needs aware datetimes")
    match timing := as_timing(timing):
        case RecurringTiming(rule=rule):
            return _fire_times(rule, ctx, _span(timing, ctx), start, end)
        case CombinedTiming(parts=parts):
            return sorted({t for p in parts for t in occurrences(p, ctx, start, end)})
    return []


def follow_ups(
    timing: AnyTiming, ctx: TimingContext, cal: WorkCalendar, start: date, end: date
) -> list[date]:
    """Dated follow-ups due within start..end, moved off days off like deadlines.

    A continuous duty's follow-up rule, every occurrence of a duty recurring monthly or less
    often ("2 gånger/år"), and the end of each month, term or year of a count per period
    ("2 gånger per månad"); daily and weekly duties are not followed up one by one.
    """
    match timing := as_timing(timing):
        case ContinuousTiming(follow_up=Rule() as rule):
            return _follow_up_dates(rule, ctx, cal, _span(timing, ctx), start, end)
        case RecurringTiming(rule=rule) if rule.freq not in ("daily", "weekly", "biweekly"):
            return _follow_up_dates(rule, ctx, cal, _span(timing, ctx), start, end)
        case OccasionsTiming(per="month" | "year" as per):
            rule = Rule(freq="monthly" if per == "month" else "yearly")
            return _follow_up_dates(rule, ctx, cal, _span(timing, ctx), start, end)
        case OccasionsTiming(per="term"):
            return _term_ends(ctx, cal, _span(timing, ctx), start, end)
        case CombinedTiming(parts=parts):
            return sorted({d for p in parts for d in follow_ups(p, ctx, cal, start, end)})
    return []


def _follow_up_dates(
    rule: Rule, ctx: TimingContext, cal: WorkCalendar, span: Span, start: date, end: date
) -> list[date]:
    tz = ZoneInfo(ctx.tz)
    # A margin, because moving a date off a holiday may carry it into or out of the range.
    margin = timedelta(days=14)
    lo = datetime.combine(max(start, span[0]) - margin, time(), tzinfo=tz)
    hi = datetime.combine(min(end, span[1]) + margin, time.max, tzinfo=tz)
    dates = {cal.adjust_deadline(t.astimezone(tz).date()) for t in _fire_times(rule, ctx, span, lo, hi)}
    return sorted(d for d in dates if start <= d <= end)


def _term_ends(ctx: TimingContext, cal: WorkCalendar, span: Span, start: date, end: date) -> list[date]:
    """The last day of each school term within the span (a count per term is followed up then)."""
    ends = [
        terms.in_year(year)[1]
        for year in range(span[0].year, span[1].year + 1)
        for terms in (ctx.terms.spring, ctx.terms.autumn)
    ]
    dates = {cal.adjust_deadline(d) for d in ends if span[0] <= d <= span[1]}
    return sorted(d for d in dates if start <= d <= end)


def _span(
    timing: RecurringTiming | ContinuousTiming | WindowTiming | OccasionsTiming | AsNeededTiming,
    ctx: TimingContext,
) -> Span:
    return timing.start or ctx.period_start, timing.end or ctx.period_end


def _fire_times(rule: Rule, ctx: TimingContext, span: Span, start: datetime, end: datetime) -> list[datetime]:
    """The rule's times within the span and [start, end), computed in local wall time."""
    tz = ZoneInfo(ctx.tz)
    lo = max(start, datetime.combine(span[0], time(), tzinfo=tz))
    hi = min(end, datetime.combine(span[1], time.max, tzinfo=tz))
    found: set[datetime] = set()
    for trigger in _triggers(rule, ctx.tz, span[0]):
        t = trigger.get_next_fire_time(None, lo)
        while t is not None and t < hi:
            if t >= lo:
                found.add(t.astimezone(UTC))
            t = trigger.get_next_fire_time(t, t)
    return sorted(found)


def _triggers(rule: Rule, tz: str, first: date) -> list[BaseTrigger]:
    at = {"hour": rule.hour, "minute": rule.minute, "timezone": tz}
    days = rule.weekdays or (WEEKDAYS[first.weekday()],)
    if rule.freq == "daily":
        return [CronTrigger(**at)]
    if rule.freq == "weekly":
        return [CronTrigger(day_of_week=",".join(days), **at)]
    if rule.freq == "biweekly":
        # Every other week counts from the span's first such weekday.
        return [CalendarIntervalTrigger(weeks=2, start_date=_on_or_after(first, d), **at) for d in days]
    step = {"monthly": 1, "quarterly": 3, "yearly": 12 // rule.times}[rule.freq]
    months = ",".join(str(m) for m in range(step, 13, step))
    return [CronTrigger(month=months, day="last", **at)]


def _on_or_after(d: date, weekday: Weekday) -> date:
    return d + timedelta(days=(WEEKDAYS.index(weekday) - d.weekday()) % 7)
