"""The meeting rules as pure functions: facts and an instant in, notices and the next look out."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from workflow.agreement.context import meeting_policy
from workflow.meetings.rules import MeetingFacts, decide_meeting, first_action_at, timeline
from workflow.workdays import WorkCalendar

STHLM = ZoneInfo("Europe/Stockholm")
CAL = WorkCalendar("Europe/Stockholm")
POLICY = meeting_policy()


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=STHLM)


def council(**kw) -> MeetingFacts:
    """Council meeting 1 of 2012: Tuesday 14 February, 13–15; five members, the secretary is 5."""
    values = dict(
        meeting_id=1,
        kind="council",
        status="planned",
        starts_at=at("2012-02-14T13:00"),
        ends_at=at("2012-02-14T15:00"),
        sequence=0,
        invitees=((1, False), (2, False), (5, False)),
        told={},
        minutes_takers=(5,),
    )
    return MeetingFacts(**{**values, **kw})


def rules(decision) -> list[tuple[str, int, str]]:
    return sorted((n.rule, n.recipient_id, n.occurrence.split(":", 2)[2]) for n in decision.notices)


def test_the_timeline_of_a_council_meeting_by_default():
    line = timeline(council(), POLICY, CAL)
    assert line.agenda_call == at("2012-01-31T08:00")  # 14 days before
    assert line.invitation == at("2012-02-07T08:00")  # 7 days before
    assert line.minutes_request == at("2012-02-15T08:00")  # the day after
    assert line.minutes_due == at("2012-02-21T08:00")  # a week after: chased from then
    assert line.chase(2) == at("2012-02-28T08:00")
    assert first_action_at(council(), POLICY, CAL) == line.agenda_call


def test_days_before_move_to_the_working_day_before_and_days_after_to_the_one_after():
    # Monday 16 April 2012: 7 days before is Easter Monday, the day before it Good Friday.
    line = timeline(council(starts_at=at("2012-04-16T13:00"), ends_at=at("2012-04-16T15:00")), POLICY, CAL)
    assert line.invitation == at("2012-04-05T08:00")
    # Maundy Thursday: the day after is Good Friday, so the minutes are asked for after Easter.
    thursday = council(starts_at=at("2012-04-05T13:00"), ends_at=at("2012-04-05T15:00"))
    assert timeline(thursday, POLICY, CAL).minutes_request == at("2012-04-10T08:00")


def test_the_agenda_call_goes_to_members_not_guests_and_is_skipped_once_the_invitation_is_due():
    facts = council(invitees=((1, False), (2, False), (9, True)))
    called = decide_meeting(facts, POLICY, CAL, at("2012-01-31T08:00"))
    assert rules(called) == [("agenda_call", 1, "agenda_call"), ("agenda_call", 2, "agenda_call")]
    assert called.next_action_at == at("2012-02-07T08:00")
    late = decide_meeting(facts, POLICY, CAL, at("2012-02-08T08:00"))  # first look after the invitation day
    assert {r for r, _, _ in rules(late)} == {"invitation"}
    assert [p for _, p, _ in rules(late)] == [1, 2, 9]


def test_nothing_goes_out_before_the_send_hour_or_on_a_day_off():
    early = decide_meeting(council(), POLICY, CAL, at("2012-02-07T07:59"))
    assert early.notices == () and early.next_action_at == at("2012-02-07T08:00")
    # Saturday 4 February, after the agenda call time: deferred to Monday's send hour.
    weekend = decide_meeting(council(), POLICY, CAL, at("2012-02-04T10:00"))
    assert weekend.notices == () and weekend.next_action_at == at("2012-02-06T08:00")


def test_a_change_updates_whoever_holds_an_older_version_and_invites_the_rest():
    facts = council(sequence=2, told={1: 0, 2: 2, 5: None})
    decision = decide_meeting(facts, POLICY, CAL, at("2012-02-09T08:00"))
    assert rules(decision) == [("invitation", 5, "invitation"), ("meeting_update", 1, "update:2")]
    assert all(n.details["sequence"] == 2 for n in decision.notices)


def test_a_cancellation_goes_to_everyone_told_and_to_nobody_if_no_one_was():
    told = decide_meeting(
        council(status="cancelled", sequence=1, told={1: 0, 2: None}), POLICY, CAL, at("2012-02-09T08:00")
    )
    assert rules(told) == [("cancellation", 1, "cancel"), ("cancellation", 2, "cancel")]
    assert told.next_action_at is None
    quiet = council(status="cancelled", sequence=1)
    assert decide_meeting(quiet, POLICY, CAL, at("2012-02-09T08:00")).notices == ()
    assert first_action_at(quiet, POLICY, CAL) is None


def test_minutes_are_asked_for_then_chased_weekly_with_the_latest_chase_only():
    facts = council(told={1: 0, 2: 0, 5: 0})
    asked = decide_meeting(facts, POLICY, CAL, at("2012-02-15T08:00"))
    assert rules(asked) == [("minutes_request", 5, "minutes_request:0")]
    assert asked.next_action_at == at("2012-02-21T08:00")
    # A sweep after three weeks of downtime sends the third chase only.
    caught_up = decide_meeting(facts, POLICY, CAL, at("2012-03-07T09:00"))
    assert rules(caught_up) == [("minutes_request", 5, "minutes_request:3")]
    assert caught_up.next_action_at == at("2012-03-13T08:00")


def test_a_meeting_trygg_never_convened_is_not_chased():
    decision = decide_meeting(council(), POLICY, CAL, at("2012-12-17T08:00"))
    assert decision.notices == () and decision.next_action_at is None


def test_recorded_minutes_go_to_everyone_invited_and_the_meeting_rests():
    closed = council(status="closed", minutes_revision=2, invitees=((1, False), (9, True)), told={1: 0, 9: 0})
    decision = decide_meeting(closed, POLICY, CAL, at("2012-02-17T08:00"))
    assert rules(decision) == [("minutes", 1, "minutes:2"), ("minutes", 9, "minutes:2")]
    assert decision.next_action_at is None


def test_check_ins_get_their_invitation_and_report_the_evaluation_its_report():
    check_in = council(kind="check_in", starts_at=at("2012-06-07T10:00"), ends_at=at("2012-06-07T11:30"))
    line = timeline(check_in, POLICY, CAL)
    assert line.agenda_call is None and line.report == at("2012-06-05T08:00")
    assert {r for r, _, _ in rules(decide_meeting(check_in, POLICY, CAL, at("2012-05-31T08:00")))} == {
        "checkin_invitation"
    }
    reported = decide_meeting(check_in, POLICY, CAL, at("2012-06-05T08:00"))
    assert {(r, o) for r, _, o in rules(reported)} >= {("checkin_report", "checkin_report")}
    evaluation = council(
        kind="evaluation",
        report_to=(1,),
        starts_at=at("2012-12-05T13:00"),
        ends_at=at("2012-12-05T15:00"),
        told={1: 0, 2: 0, 5: 0},
    )
    assert rules(decide_meeting(evaluation, POLICY, CAL, at("2012-12-03T08:00"))) == [
        ("evaluation", 1, "evaluation")
    ]


def test_the_policy_reads_the_agreement_settings_and_the_send_hour():
    policy = meeting_policy({"agenda_call_days": 21, "invitation_days": 10}, {"send_at": "07:30"})
    assert (policy.agenda_call_days, policy.invitation_days, policy.hour, policy.minute) == (21, 10, 7, 30)
    assert meeting_policy({}, {}) == POLICY
