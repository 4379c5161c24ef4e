"""The five-step cycle: a year closes step by step, overrides are audited, the next year opens."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from tests.conftest import act, trygg
from workflow.agreement.validate import read_agreement
from workflow.audit import AuditEntry
from workflow.cycle.lifecycle import CycleError, close_step, current_cycle, cycle_status, record_deliverable
from workflow.cycle.models import Cycle
from workflow.db import transaction
from workflow.loading import load_agreement
from workflow.meetings.models import Meeting, MeetingStatus
from workflow.plan.models import Activity, ActivityState


def hold(session, agreement, kind, year):
    for meeting in session.scalars(select(Meeting).where(Meeting.kind == kind, Meeting.year == year)):
        meeting.status = MeetingStatus.CLOSED  # what recording the minutes will do


def status(sessions, clock, year=None):
    return act(sessions, clock, lambda s, a, _: cycle_status(s, a, current_cycle(s, a, year)))


def test_loading_opens_the_first_year_with_step_one_open(loaded, clock):
    data = status(loaded, clock)
    assert data["year"] == 2012 and data["state"] == "open"
    assert [s["state"] for s in data["steps"]] == ["open", "pending", "pending", "pending", "pending"]
    assert len(data["activities"]) == 19
    steps = {s["key"]: s for s in data["steps"]}
    assert steps["facts"]["window"] == {"start": "2012-01-01", "end": "2012-02-28"}
    assert steps["situation_picture"]["deadline"] == "2012-04-13"  # 15 April 2012 is a Sunday
    assert {d["key"] for d in steps["facts"]["deliverables"]} == {"facts-kommunen", "facts-polisen"}


def test_a_year_closes_step_by_step_and_the_next_opens_with_unfinished_work(loaded, clock):
    def run(fn):
        return act(loaded, clock, fn)

    with pytest.raises(CycleError, match="facts-"):
        run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 1))
    with pytest.raises(CycleError, match="inte öppet"):
        run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 2))

    run(
        lambda s, a, sync: record_deliverable(
            s, sync, current_cycle(s, a), 1, "facts-polisen", "Brottsstatistik 2011"
        )
    )
    run(
        lambda s, a, sync: record_deliverable(
            s, sync, current_cycle(s, a), 1, "facts-kommunen", "Trygghetsmätning"
        )
    )
    run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 1))
    run(lambda s, a, sync: record_deliverable(s, sync, current_cycle(s, a), 2, "situation-picture", None))
    run(
        lambda s, a, sync: record_deliverable(
            s, sync, current_cycle(s, a), 2, "council-approval", "Rådsmöte 10 april"
        )
    )
    run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 2))
    run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 3))  # the plan version is there

    with pytest.raises(CycleError, match="check-ins"):
        run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 4))
    run(lambda s, a, _: hold(s, a, "check_in", 2012))
    run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 4))

    # Two activities are finished; the rest must follow into 2013.
    def finish(s, a, _):
        for key in ("ung-kontaktuppgifter", "cen-trygghetsvandring"):
            s.scalar(select(Activity).where(Activity.key == key)).state = ActivityState.DONE

    run(finish)
    run(lambda s, a, _: hold(s, a, "evaluation", 2012))
    run(
        lambda s, a, sync: record_deliverable(
            s, sync, current_cycle(s, a), 5, "council-review", "Rådet har mötts fyra gånger"
        )
    )
    clock.advance(timedelta(days=360))
    following = run(lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 5))
    assert following is not None

    closed = status(loaded, clock, 2012)
    assert closed["state"] == "closed"
    assert all(s["state"] == "closed" and s["override_reason"] is None for s in closed["steps"])
    opened = status(loaded, clock)
    assert opened["year"] == 2013 and opened["state"] == "open"
    carried = {a["id"] for a in opened["activities"] if a["carried_over"]}
    assert len(carried) == 17
    assert "ung-kontaktuppgifter" not in carried and "cen-ordning" in carried
    with loaded() as session:
        assert [c.year for c in session.scalars(select(Cycle).order_by(Cycle.year))] == [2012, 2013]


def test_an_override_closes_a_step_and_is_audited_with_its_reason(loaded, clock):
    reason = "Polisens statistik kommer först i mars; rådet beslutade att gå vidare"
    act(
        loaded,
        clock,
        lambda s, a, sync: close_step(s, sync, a, current_cycle(s, a), 1, override_reason=reason),
    )
    data = status(loaded, clock)
    assert data["steps"][0]["state"] == "closed" and data["steps"][0]["override_reason"] == reason
    assert data["steps"][1]["state"] == "open"
    with loaded() as session:
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "override"))
    assert entry.actor == "cli:anna" and entry.reason == reason
    assert entry.entity_key == "2012/1"
    assert set(entry.before["missing"]) == {"facts-kommunen", "facts-polisen"}


def test_meetings_of_the_whole_period_are_planned_at_load(loaded):
    with loaded() as session:
        meetings = session.scalars(select(Meeting).order_by(Meeting.starts_at)).all()
    kinds = [(m.year, m.kind) for m in meetings]
    for year in (2012, 2013):
        assert kinds.count((year, "council")) == 4
        assert kinds.count((year, "check_in")) == 2
        assert kinds.count((year, "yearly_review")) == 1
        assert kinds.count((year, "evaluation")) == 1
    first = meetings[0]
    assert first.key == "council-2012-1"
    assert first.starts_at.isoformat() == "2012-02-14T12:00:00+00:00"  # 13:00 in Stockholm, winter


def test_moving_a_meeting_in_the_file_reschedules_it_with_a_higher_sequence(loaded, clock, agreement_copy):
    content = agreement_copy.read_text(encoding="utf-8").replace("months: [6, 11]", "months: [5, 11]")
    agreement_copy.write_text(content, encoding="utf-8")
    with transaction(loaded) as session:
        load_agreement(session, read_agreement(agreement_copy), clock=clock, actor="cli:anna")
    with loaded() as session:
        moved = session.scalar(select(Meeting).where(Meeting.key == "check_in-2012-1"))
    assert moved.starts_at.date().isoformat() == "2012-05-03" and moved.sequence == 1


def test_cli_cycle_commands(cli_loaded):
    env = {"TRYGG_DATABASE_URL": cli_loaded, "COLUMNS": "200"}
    refused = trygg("cycle", "close-step", "1", env=env)
    assert refused.returncode == 3 and "facts-" in refused.stderr
    assert trygg("cycle", "deliver", "1", "facts-polisen", "--note", "BRÅ-statistik", env=env).returncode == 0
    overridden = trygg("cycle", "override", "1", "--reason", "Kommunens fakta kommer senare", env=env)
    assert overridden.returncode == 0, overridden.stderr
    shown = trygg("cycle", "status", env=env)
    assert "åsidosatt" in shown.stdout
    import json

    data = json.loads(trygg("cycle", "status", "--json", env=env).stdout)
    assert [s["state"] for s in data["steps"]][:2] == ["closed", "open"]
