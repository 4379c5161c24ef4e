"""One agreement's settings as the engine reads them, built once and passed down.

The zone, the working-day calendar, the context the När phrases are read against, the reminder
and meeting policies and the send hour. Every default is the file schema's
(`workflow.agreement.schema`): a setting missing from a stored section means the schema's
default, so the file, its documentation and the engine cannot disagree.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, time, timedelta
from functools import lru_cache
from typing import Any, Literal
from zoneinfo import ZoneInfo

from workflow.agreement.models import Agreement
from workflow.agreement.schema import CalendarSpec, MeetingsSpec, RemindersSpec, Window
from workflow.plan_language.timing import SchoolHolidays, SchoolTerms, TimingContext, YearlySpan
from workflow.workdays import WorkCalendar

Audience = Literal["owner", "coordinator", "management"]


@dataclass(frozen=True)
class QuietPeriod:
    """ISO weeks from..to (inclusive) in which non-urgent reminders wait; from > to wraps."""

    from_week: int
    to_week: int

    def contains(self, d: date) -> bool:
        week = d.isocalendar().week
        if self.from_week <= self.to_week:
            return self.from_week <= week <= self.to_week
        return week >= self.from_week or week <= self.to_week

    def first_day_after(self, d: date) -> date:
        """The first day after the quiet period that `d` lies in."""
        while self.contains(d):
            d += timedelta(days=1)
        return d


@dataclass(frozen=True)
class EscalationStep:
    after: int  # working days after the deadline
    to: Audience


@dataclass(frozen=True)
class ReminderPolicy:
    """Stages before deadlines and follow-ups, the send time, quiet weeks, the escalation ladder."""

    stages: tuple[int, ...]
    follow_up_stages: tuple[int, ...]
    hour: int
    minute: int
    quiet: tuple[QuietPeriod, ...]
    escalation: tuple[EscalationStep, ...]

    def quiet_period_of(self, d: date) -> QuietPeriod | None:
        return next((q for q in self.quiet if q.contains(d)), None)


@dataclass(frozen=True)
class MeetingPolicy:
    """Days around a meeting (calendar days, moved onto working days) and the send hour."""

    agenda_call_days: int
    invitation_days: int
    report_days: int
    minutes_request_days: int
    minutes_due_days: int
    chase_every_days: int
    hour: int
    minute: int

    @property
    def minutes_due(self) -> timedelta:
        """Minutes recorded within this time of the meeting are on time (the chase starts then)."""
        return timedelta(days=self.minutes_due_days)


def send_time(reminders: RemindersSpec) -> time:
    """The local time every mail of a day leaves at (the one place `send_at` is read)."""
    hour, minute = (int(x) for x in reminders.send_at.split(":"))
    return time(hour, minute)


def reminder_policy(config: Mapping[str, Any] | None = None) -> ReminderPolicy:
    """The policy of an agreement's stored `reminders` section ({} or None: the defaults)."""
    spec = RemindersSpec.model_validate(dict(config or {}))
    at = send_time(spec)
    return ReminderPolicy(
        stages=tuple(spec.stages),
        follow_up_stages=tuple(spec.follow_up_stages),
        hour=at.hour,
        minute=at.minute,
        quiet=tuple(QuietPeriod(q.from_week, q.to_week) for q in spec.quiet_weeks),
        escalation=tuple(EscalationStep(s.after, s.to) for s in spec.escalation),
    )


def meeting_policy(
    meetings_config: Mapping[str, Any] | None = None, reminders_config: Mapping[str, Any] | None = None
) -> MeetingPolicy:
    """The policy of an agreement's stored `meetings` section ({} or None: the defaults); the send
    hour is the one reminders use, so a person's mails of a day leave together."""
    spec = MeetingsSpec.model_validate(dict(meetings_config or {}))
    at = send_time(RemindersSpec.model_validate(dict(reminders_config or {})))
    return MeetingPolicy(
        agenda_call_days=spec.agenda_call_days,
        invitation_days=spec.invitation_days,
        report_days=spec.report_days,
        minutes_request_days=spec.minutes_request_days,
        minutes_due_days=spec.minutes_due_days,
        chase_every_days=spec.chase_every_days,
        hour=at.hour,
        minute=at.minute,
    )


def _span(window: Window) -> YearlySpan:
    start_m, start_d = (int(x) for x in window.start.split("-"))
    end_m, end_d = (int(x) for x in window.end.split("-"))
    return YearlySpan((start_m, start_d), (end_m, end_d))


def timing_context(
    period_start: date, period_end: date, tz: str, config: Mapping[str, Any] | None = None
) -> TimingContext:
    """What the plan's När phrases are read against; `config` is the agreement's `calendar`."""
    spec = CalendarSpec.model_validate(dict(config or {}))
    terms = spec.school_terms
    return TimingContext(
        period_start=period_start,
        period_end=period_end,
        tz=tz,
        terms=SchoolTerms(_span(terms.autumn), _span(terms.spring)),
        holidays=SchoolHolidays(tuple((h.name, h.start, h.end) for h in spec.holidays)),
    )


def work_calendar(tz: str, config: Mapping[str, Any] | None = None) -> WorkCalendar:
    """Working days in the agreement's zone; `config` is the agreement's `calendar`."""
    return _shared_calendar(tz, CalendarSpec.model_validate(dict(config or {})).deadline_on_day_off)


@lru_cache(maxsize=64)
def _shared_calendar(tz: str, deadline_shift: str) -> WorkCalendar:
    """One calendar per zone and rule in the process: a calendar never changes once made and keeps
    what it has worked out, so every page and sweep after the first finds the days already known."""
    return WorkCalendar(tz=tz, deadline_shift=deadline_shift)


@dataclass(frozen=True)
class AgreementContext:
    """Everything the engine reads of one agreement's settings, built once per agreement."""

    key: str
    zone: ZoneInfo
    workdays: WorkCalendar
    timing: TimingContext
    reminders: ReminderPolicy
    meetings: MeetingPolicy

    @property
    def send_at(self) -> time:
        return time(self.reminders.hour, self.reminders.minute)


def context_of(agreement: Agreement) -> AgreementContext:
    """The context of a stored agreement."""
    return AgreementContext(
        key=agreement.key,
        zone=ZoneInfo(agreement.timezone),
        workdays=work_calendar(agreement.timezone, agreement.calendar_config),
        timing=timing_context(
            agreement.period_start, agreement.period_end, agreement.timezone, agreement.calendar_config
        ),
        reminders=reminder_policy(agreement.reminders_config),
        meetings=meeting_policy(agreement.meetings_config, agreement.reminders_config),
    )
