"""One agreement's settings come from one place: the file schema's defaults are the engine's."""

from __future__ import annotations

from datetime import date, time

from workflow.agreement.context import (
    context_of,
    meeting_policy,
    reminder_policy,
    timing_context,
    work_calendar,
)
from workflow.agreement.models import Agreement
from workflow.agreement.schema import CalendarSpec, MeetingsSpec, RemindersSpec
from workflow.plan_language.timing import SchoolTerms


def test_an_empty_reminders_section_is_the_schemas_defaults():
    spec = RemindersSpec()
    policy = reminder_policy({})
    assert policy.stages == tuple(spec.stages)
    assert policy.follow_up_stages == tuple(spec.follow_up_stages)
    assert f"{policy.hour:02d}:{policy.minute:02d}" == spec.send_at
    assert [(q.from_week, q.to_week) for q in policy.quiet] == [
        (q.from_week, q.to_week) for q in spec.quiet_weeks
    ]
    assert [(s.after, s.to) for s in policy.escalation] == [(s.after, s.to) for s in spec.escalation]
    # What the loader stores for a file without the section reads back the same.
    assert reminder_policy(spec.model_dump(mode="json", by_alias=True)) == policy


def test_an_empty_meetings_section_is_the_schemas_defaults():
    spec = MeetingsSpec()
    policy = meeting_policy({}, {})
    for name in ("agenda_call_days", "invitation_days", "report_days", "minutes_request_days"):
        assert getattr(policy, name) == getattr(spec, name)
    assert policy.minutes_due_days == spec.minutes_due_days
    assert policy.chase_every_days == spec.chase_every_days
    assert meeting_policy(spec.model_dump(mode="json"), {}) == policy


def test_the_meetings_send_time_is_the_reminders_one():
    policy = meeting_policy({}, {"send_at": "07:30"})
    assert (policy.hour, policy.minute) == (7, 30)


def test_an_empty_calendar_section_is_the_schemas_defaults():
    spec = CalendarSpec()
    ctx = timing_context(date(2026, 1, 1), date(2026, 12, 31), "Europe/Stockholm", {})
    assert ctx.terms.autumn.start == tuple(int(x) for x in spec.school_terms.autumn.start.split("-"))
    assert ctx.terms.spring.end == tuple(int(x) for x in spec.school_terms.spring.end.split("-"))
    assert work_calendar("Europe/Stockholm", {}).deadline_shift == spec.deadline_on_day_off


def test_the_context_of_a_stored_agreement_reads_every_section():
    agreement = Agreement(
        key="x",
        title="X",
        period_start=date(2026, 1, 1),
        period_end=date(2026, 12, 31),
        timezone="Europe/Stockholm",
        cycle_config={},
        calendar_config={"deadline_on_day_off": "later"},
        reminders_config={"send_at": "09:15", "stages": [5]},
        meetings_config={"invitation_days": 10},
    )
    context = context_of(agreement)
    assert context.send_at == time(9, 15)
    assert context.reminders.stages == (5,)
    assert context.meetings.invitation_days == 10
    assert (context.meetings.hour, context.meetings.minute) == (9, 15)
    assert context.workdays.deadline_shift == "later"
    assert context.timing.period_end == date(2026, 12, 31)


def test_the_school_terms_default_to_the_plan_languages():
    ctx = timing_context(date(2026, 1, 1), date(2026, 12, 31), "Europe/Stockholm", {})
    assert ctx.terms == SchoolTerms()
