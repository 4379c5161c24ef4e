"""The deciding functions, with a fixed clock: stages, catch-up, quiet weeks, the overdue ladder."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import pytest

from workflow.agreement.context import EscalationStep, QuietPeriod, reminder_policy
from workflow.plan.standing import effective_deadline
from workflow.plan_language.timing import TimingContext, parse_when, to_data
from workflow.reminders.rules import ItemFacts, Target, decide, first_action_at
from workflow.reminders.targets import targets_of
from workflow.workdays import WorkCalendar

STHLM = ZoneInfo("Europe/Stockholm")
CAL = WorkCalendar("Europe/Stockholm")
POLICY = reminder_policy()
OWNERS = (11, 12)
COORDINATOR = (21,)
MANAGEMENT = (31, 32)
YEAR_END = date(2012, 12, 28)  # "Under 2012": 31 December is nyårsafton, so Friday the 28th


def at(text: str) -> datetime:
    """A Stockholm wall time as an aware instant."""
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


def item(*targets: Target, active: bool = True, acknowledged_at: datetime | None = None) -> ItemFacts:
    return ItemFacts(
        subject_id=7,
        active=active,
        targets=targets,
        owners=OWNERS,
        coordinators=COORDINATOR,
        management=MANAGEMENT,
        acknowledged_at=acknowledged_at,
    )


def deadline(d: date = YEAR_END) -> Target:
    return Target("deadline", d, f"deadline:{d.isoformat()}")


def sent(decision) -> list[tuple[str, int, str]]:
    """(rule, recipient, "stage:N" or "after:N") of each notice."""
    return [(n.rule, n.recipient_id, ":".join(n.occurrence.split(":")[-2:])) for n in decision.notices]


# --- reminders ---------------------------------------------------------------------------


def test_nothing_is_due_before_the_first_stage_and_the_next_look_is_that_stage():
    decision = decide(item(deadline()), POLICY, CAL, at("2012-12-10T09:00"))
    assert decision.notices == ()
    assert decision.next_action_at == at("2012-12-11T08:00")  # 10 working days before the 28th


def test_each_stage_reminds_every_owner_at_the_send_hour():
    decision = decide(item(deadline()), POLICY, CAL, at("2012-12-11T08:00"))
    assert sent(decision) == [("reminder", 11, "stage:10"), ("reminder", 12, "stage:10")]
    assert {n.due_at for n in decision.notices} == {at("2012-12-11T08:00")}
    assert decision.notices[0].key == "reminder/11/activity:7:deadline:2012-12-28:stage:10"
    # Julafton, juldagen and annandagen are not working days: 3 working days before is the 20th.
    assert decision.next_action_at == at("2012-12-20T08:00")


def test_catch_up_sends_only_the_latest_passed_stage():
    decision = decide(item(deadline()), POLICY, CAL, at("2012-12-21T10:30"))
    assert sent(decision) == [("reminder", 11, "stage:3"), ("reminder", 12, "stage:3")]
    assert decision.next_action_at == at("2012-12-28T08:00")


def test_the_deadline_day_itself_is_stage_zero():
    decision = decide(item(deadline()), POLICY, CAL, at("2012-12-28T16:00"))
    assert sent(decision) == [("reminder", 11, "stage:0"), ("reminder", 12, "stage:0")]


def test_a_deadline_already_passed_gets_no_reminder_the_ladder_takes_over():
    decision = decide(item(deadline()), POLICY, CAL, at("2013-01-02T08:00"))
    assert [n.rule for n in decision.notices] == ["overdue", "overdue"]


def test_deciding_twice_gives_the_same_keys():
    first = decide(item(deadline()), POLICY, CAL, at("2012-12-20T09:00"))
    again = decide(item(deadline()), POLICY, CAL, at("2012-12-20T15:00"))
    assert [n.key for n in first.notices] == [n.key for n in again.notices]


def test_nothing_goes_out_on_a_day_off_the_sweep_defers_to_the_next_slot():
    # Annandag jul 2012: stage 3 (the 20th) has passed, but mail goes out on working days.
    decision = decide(item(deadline()), POLICY, CAL, at("2012-12-26T08:00"))
    assert decision.notices == ()
    assert decision.next_action_at == at("2012-12-27T08:00")
    assert sent(decide(item(deadline()), POLICY, CAL, at("2012-12-27T08:00")))[0][2] == "stage:3"


def test_before_the_send_hour_of_a_working_day_the_sweep_waits_for_it():
    decision = decide(item(deadline()), POLICY, CAL, at("2012-12-27T06:00"))
    assert decision.notices == ()
    assert decision.next_action_at == at("2012-12-27T08:00")


def test_the_send_hour_and_stages_come_from_the_agreement():
    policy = reminder_policy({"stages": [5], "send_at": "07:30"})
    decision = decide(item(deadline()), policy, CAL, at("2012-12-10T09:00"))
    assert decision.next_action_at == at("2012-12-18T07:30")  # 5 working days before the 28th


def test_a_done_item_needs_nothing_ever_again():
    decision = decide(item(deadline(), active=False), POLICY, CAL, at("2013-01-16T08:00"))
    assert decision == decide(item(active=False), POLICY, CAL, at("2013-01-16T08:00"))
    assert decision.notices == () and decision.next_action_at is None


# --- quiet weeks -------------------------------------------------------------------------


def test_quiet_weeks_defer_a_reminder_to_the_first_working_day_after_them():
    summer_deadline = deadline(date(2013, 8, 9))  # week 32; stage 10 is 26 July, week 30
    during = decide(item(summer_deadline), POLICY, CAL, at("2013-07-26T08:00"))
    assert during.notices == ()
    assert during.next_action_at == at("2013-08-05T08:00")  # Monday of week 32
    after = decide(item(summer_deadline), POLICY, CAL, at("2013-08-05T08:00"))
    assert sent(after)[0][2] == "stage:10"


def test_quiet_weeks_do_not_hold_back_the_reminder_on_the_day():
    in_july = deadline(date(2013, 7, 19))  # week 29
    decision = decide(item(in_july), POLICY, CAL, at("2013-07-19T08:00"))
    assert sent(decision)[0][2] == "stage:0"


def test_quiet_weeks_do_not_hold_back_escalations():
    in_july = deadline(date(2013, 7, 5))  # +1 working day is Monday 8 July, week 28
    decision = decide(item(in_july), POLICY, CAL, at("2013-07-08T08:00"))
    assert [n.rule for n in decision.notices] == ["overdue", "overdue"]


def test_a_quiet_period_may_wrap_over_the_new_year():
    christmas = QuietPeriod(52, 1)
    assert christmas.contains(date(2012, 12, 27)) and christmas.contains(date(2013, 1, 2))
    assert not christmas.contains(date(2013, 1, 9))
    assert christmas.first_day_after(date(2012, 12, 27)) == date(2013, 1, 7)


# --- the overdue ladder ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "rule", "recipients", "step"),
    [
        ("2013-01-02T08:00", "overdue", OWNERS, 1),  # +1 working day: the owners
        ("2013-01-08T08:00", "escalation", COORDINATOR, 5),  # +5: the coordinator
        ("2013-01-15T08:00", "escalation", MANAGEMENT, 10),  # +10: närpolischef and KS ordförande
    ],
)
def test_the_ladder_climbs_from_owner_to_coordinator_to_management(when, rule, recipients, step):
    decision = decide(item(deadline()), POLICY, CAL, at(when))
    assert {n.rule for n in decision.notices} == {rule}
    assert tuple(n.recipient_id for n in decision.notices) == recipients
    details = decision.notices[0].details
    assert details["after"] == step and details["due"] == "2012-12-28"
    assert details["overdue_since"] == "2012-12-29"


def test_catch_up_on_the_ladder_sends_only_the_latest_step():
    decision = decide(item(deadline()), POLICY, CAL, at("2013-02-01T09:00"))
    assert {n.recipient_id for n in decision.notices} == set(MANAGEMENT)
    assert decision.next_action_at is None  # the last step was taken: nothing more to do


def test_an_acknowledged_overdue_item_is_not_escalated():
    acknowledged = at("2013-01-03T10:00")
    decision = decide(item(deadline(), acknowledged_at=acknowledged), POLICY, CAL, at("2013-01-15T08:00"))
    assert decision.notices == () and decision.next_action_at is None


def test_an_acknowledgement_before_the_deadline_passed_does_not_stop_the_ladder():
    early = at("2012-12-20T10:00")
    decision = decide(item(deadline(), acknowledged_at=early), POLICY, CAL, at("2013-01-02T08:00"))
    assert [n.rule for n in decision.notices] == ["overdue", "overdue"]


def test_an_extension_is_a_new_deadline_with_its_own_reminders():
    extended = effective_deadline(YEAR_END, date(2013, 2, 28))
    decision = decide(item(deadline(extended)), POLICY, CAL, at("2013-01-15T08:00"))
    assert decision.notices == ()  # the old ladder is gone
    assert decision.next_action_at == at("2013-02-14T08:00")


def test_the_ladder_is_configurable():
    policy = replace(POLICY, escalation=(EscalationStep(2, "coordinator"),))
    decision = decide(item(deadline()), policy, CAL, at("2013-01-03T08:00"))
    assert [(n.rule, n.recipient_id) for n in decision.notices] == [("escalation", 21)]


def test_events_have_reminders_and_a_ladder_follow_ups_only_reminders():
    event = Target("event", date(2012, 12, 28), "event:3")
    follow_up = Target("follow_up", date(2012, 11, 30), "follow_up:2012-11-30", escalates=False)
    decision = decide(item(event, follow_up), POLICY, CAL, at("2013-01-02T08:00"))
    assert {n.occurrence for n in decision.notices} == {"activity:7:event:3:after:1"}


# --- targets of real timings -------------------------------------------------------------

CTX = TimingContext(date(2012, 1, 1), date(2013, 12, 31))


def timing(phrase: str) -> dict:
    return to_data(parse_when(phrase, CTX))


def test_monthly_follow_up_work_is_reminded_of_each_follow_up():
    targets = targets_of(
        timing=timing("Uppföljning månadsvis"),
        deadline=None,
        open_events=[],
        reported_at=None,
        ctx=CTX,
        cal=CAL,
        today=date(2012, 12, 17),
    )
    assert [(t.kind, t.due) for t in targets] == [("follow_up", YEAR_END), ("follow_up", date(2013, 1, 31))]
    decision = decide(item(*targets), POLICY, CAL, at("2012-12-20T08:00"))  # 3 working days before
    assert {n.occurrence for n in decision.notices} == {"activity:7:follow_up:2012-12-28:stage:3"}


def test_weekly_patrols_are_not_reminded_one_by_one():
    targets = targets_of(
        timing=timing("Kontinuerligt varje fredag och lördag"),
        deadline=None,
        open_events=[],
        reported_at=None,
        ctx=CTX,
        cal=CAL,
        today=date(2012, 12, 17),
    )
    assert targets == ()
    assert first_action_at(item(*targets), POLICY, CAL) is None


def test_a_progress_report_answers_the_follow_up_that_is_due():
    reported = datetime(2012, 12, 10, 12, tzinfo=UTC)  # after the November follow-up
    targets = targets_of(
        timing=timing("Uppföljning månadsvis"),
        deadline=None,
        open_events=[],
        reported_at=reported,
        ctx=CTX,
        cal=CAL,
        today=date(2012, 12, 17),
    )
    assert [t.answered for t in targets] == [True, False]
    assert decide(item(*targets), POLICY, CAL, at("2012-12-20T08:00")).notices == ()


def test_the_first_action_of_a_deadline_is_its_earliest_stage():
    assert first_action_at(item(deadline()), POLICY, CAL) == at("2012-12-11T08:00")
    event = Target("event", date(2013, 3, 1), "event:1")
    assert first_action_at(item(event, deadline()), POLICY, CAL) == at("2012-12-11T08:00")
