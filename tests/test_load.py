"""Loading an agreement: transactional, idempotent, updated in place with an audit trail."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import func, select

from tests.conftest import HARNOSAND
from workflow.agreement.models import Agreement, Organisation, Person
from workflow.agreement.validate import read_agreement
from workflow.audit import AuditEntry
from workflow.db import transaction
from workflow.loading import load_agreement
from workflow.plan.models import Activity, PlanVersion, PriorityArea
from workflow.status import UnknownAgreement, resolve_agreement, status


def load(sessions, path, clock, actor="cli:test"):
    with transaction(sessions) as session:
        return load_agreement(session, read_agreement(path), clock=clock, actor=actor)


def count(sessions, model) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(model))


def test_first_load_creates_the_whole_agreement(sessions, clock):
    result = load(sessions, HARNOSAND, clock)
    assert result.created and result.plan_revision == 1
    assert count(sessions, PriorityArea) == 5
    assert count(sessions, Activity) == 19
    with sessions() as session:
        data = status(session)
    (agreement,) = data["agreements"]
    assert agreement["id"] == "harnosand-2012-2013"
    keys = [act["id"] for area in agreement["areas"] for act in area["activities"]]
    assert len(keys) == len(set(keys)) == 19
    first = agreement["areas"][0]["activities"][0]
    assert [o["name"] for o in first["owners"]] == ["Härnösands närpolisområde", "Skolan"]
    assert {c["id"] for c in first["contacts"]} == {"johan-berg", "maria-lund"}
    assert first["state"] == "open"


def test_loading_the_same_file_twice_changes_nothing(sessions, clock):
    load(sessions, HARNOSAND, clock)
    audit_rows = count(sessions, AuditEntry)
    clock.advance(timedelta(days=1))
    again = load(sessions, HARNOSAND, clock)
    assert not again.created and again.changes == []
    assert count(sessions, AuditEntry) == audit_rows
    assert count(sessions, PlanVersion) == 1


def test_an_edited_file_updates_in_place_and_is_audited(sessions, clock, agreement_copy):
    load(sessions, HARNOSAND, clock)
    with sessions() as session:
        ids_before = dict(session.execute(select(Activity.key, Activity.id)).all())
    content = agreement_copy.read_text(encoding="utf-8")
    content = content.replace("maria.lund@example.org", "maria.lund@skola.example.org")
    content = content.replace("activity: Regelbundna kontroller", "activity: Regelbundna cykelkontroller")
    agreement_copy.write_text(content, encoding="utf-8")
    clock.advance(timedelta(days=30))

    result = load(sessions, agreement_copy, clock, actor="cli:anna")

    assert {(a, e, k) for a, e, k in result.changes} == {
        ("update", "person", "maria-lund"),
        ("update", "activity", "tra-cykelkontroller"),
        ("create", "plan_version", "2012/2"),
    }
    with sessions() as session:
        assert dict(session.execute(select(Activity.key, Activity.id)).all()) == ids_before
        entry = session.scalar(
            select(AuditEntry).where(
                AuditEntry.entity == "person",
                AuditEntry.entity_key == "maria-lund",
                AuditEntry.action == "update",
            )
        )
        assert entry.actor == "cli:anna" and entry.at == clock.now()
        assert entry.before["email"] == "maria.lund@example.org"
        assert entry.after["email"] == "maria.lund@skola.example.org"
        versions = session.scalars(select(PlanVersion).order_by(PlanVersion.revision)).all()
        assert [v.revision for v in versions] == [1, 2]  # the earlier version stays readable
        assert "Regelbundna kontroller" in str(versions[0].content)


def test_an_activity_removed_from_the_file_is_withdrawn_with_its_history(sessions, clock, agreement_copy):
    load(sessions, HARNOSAND, clock)
    content = agreement_copy.read_text(encoding="utf-8")
    start = content.index("            - id: cen-ordning")
    end = content.index("        - title: Erbjuda kommuninnevånare grannsamverkan")
    # Remove the activity and its goal, which has no other activity.
    goal_start = content.rindex("        - title:", 0, start)
    agreement_copy.write_text(content[:goal_start] + content[end:], encoding="utf-8")

    result = load(sessions, agreement_copy, clock)

    assert ("retire", "activity", "cen-ordning") in result.changes
    with sessions() as session:
        act = session.scalar(select(Activity).where(Activity.key == "cen-ordning"))
        assert act.state == "withdrawn"
        assert [h.to_state for h in act.history] == ["open", "withdrawn"]
        listed = [a["id"] for area in status(session)["agreements"][0]["areas"] for a in area["activities"]]
        assert "cen-ordning" not in listed and len(listed) == 18


def test_several_agreements_live_side_by_side(sessions, clock, agreement_copy):
    load(sessions, HARNOSAND, clock)
    content = agreement_copy.read_text(encoding="utf-8")
    agreement_copy.write_text(
        content.replace("id: harnosand-2012-2013", "id: sollefteå-test".replace("å", "a"), 1),
        encoding="utf-8",
    )
    load(sessions, agreement_copy, clock)
    assert count(sessions, Agreement) == 2
    assert count(sessions, Activity) == 38
    with sessions() as session:
        # Same keys, separate rows: nothing assumes a single agreement.
        assert session.scalar(select(func.count()).where(Organisation.key == "polisen")) == 2
        assert session.scalar(select(func.count()).where(Person.key == "thomas-nyberg")) == 2
        assert len(status(session)["agreements"]) == 2
        assert len(status(session, "solleftea-test")["agreements"]) == 1
        with pytest.raises(UnknownAgreement, match="--agreement"):
            resolve_agreement(session, None)
        with pytest.raises(UnknownAgreement, match="okänd"):
            resolve_agreement(session, "nowhere")


def test_a_failing_load_leaves_nothing_behind(sessions, clock, monkeypatch):
    """The load runs in one transaction: an error halfway rolls everything back."""
    import workflow.loading as loader

    def explode(*args, **kwargs):
        raise RuntimeError("disk full")

    monkeypatch.setattr(loader, "load_plan", explode)
    with pytest.raises(RuntimeError):
        load(sessions, HARNOSAND, clock)
    assert count(sessions, Agreement) == 0
    assert count(sessions, Organisation) == 0
    assert count(sessions, AuditEntry) == 0


def test_the_agreement_calendar_sets_terms_and_where_deadlines_on_days_off_go(
    sessions, clock, agreement_copy
):
    content = agreement_copy.read_text(encoding="utf-8")
    content = content.replace("deadline_on_day_off: earlier", "deadline_on_day_off: later")
    content = content.replace("autumn: {start: 08-15, end: 12-20}", "autumn: {start: 08-20, end: 12-14}")
    agreement_copy.write_text(content, encoding="utf-8")
    load(sessions, agreement_copy, clock)
    with sessions() as session:
        deadlines = dict(session.execute(select(Activity.key, Activity.deadline)).all())
    # "Under 2012" ends on nyårsafton; nyårsdagen is off too: the next working day is 2 January.
    assert deadlines["ung-kontaktuppgifter"].isoformat() == "2013-01-02"
    assert deadlines["ung-utbildningsdagar"].isoformat() == "2012-12-14"  # "Under höstterminen 2012"


def test_by_default_deadlines_on_days_off_move_earlier(sessions, clock):
    load(sessions, HARNOSAND, clock)
    with sessions() as session:
        deadlines = dict(session.execute(select(Activity.key, Activity.deadline)).all())
    assert deadlines["ung-kontaktuppgifter"].isoformat() == "2012-12-28"  # 29–31 Dec are off
    assert deadlines["liv-anmalningar"].isoformat() == "2013-12-30"  # "Under projektiden"
