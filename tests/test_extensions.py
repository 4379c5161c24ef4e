"""A new date asked for, then decided: the request, its notices, approval, refusal and moot requests."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.answers_support import activity, person, unit_at
from workflow.answers.extensions import ExtensionError, decide_extension, request_extension
from workflow.audit import AuditEntry
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.loading import moot_requests_of_settled
from workflow.outbox.compose import compose
from workflow.outbox.models import Mail, Notice
from workflow.plan.models import ActivityState, ExtensionRequest, ExtensionStatus
from workflow.work import WorkError, extend, mark_done

NOW = datetime(2012, 3, 1, 9, 0, tzinfo=UTC)
LATER = date(2013, 2, 28)


def ask(
    sessions, key="ung-kontaktuppgifter", who="johan-berg", day=LATER, reason="Skolorna svarar sent", now=NOW
):
    with transaction(sessions) as s:
        unit = unit_at(s, now, f"person:{person(s, who).id}")
        return request_extension(unit, activity(s, key), person(s, who), day, reason).id


def notices(sessions, rule: str) -> list[Notice]:
    with sessions() as s:
        return list(s.scalars(select(Notice).where(Notice.rule == rule).order_by(Notice.id)))


def test_a_request_is_told_to_every_coordinator_at_once_and_changes_nothing_yet(loaded):
    with loaded() as s:
        before = activity(s, "ung-kontaktuppgifter")
        next_action, anna = before.next_action_at, person(s, "anna-sjoberg").id
    request_id = ask(loaded)
    told = notices(loaded, "extension_request")
    assert [(n.recipient_id, n.subject_type, n.subject_id) for n in told] == [
        (anna, "extension_request", request_id)
    ]
    assert told[0].due_at == NOW and told[0].payload["requested_deadline"] == "2013-02-28"
    assert told[0].payload["requested_by"] == "Johan Berg" and told[0].payload["deadline"] == "2012-12-28"
    with loaded() as s:
        act = activity(s, "ung-kontaktuppgifter")
        assert act.extended_deadline is None and act.next_action_at == next_action  # the ladder goes on
        audit = s.scalars(select(AuditEntry).where(AuditEntry.action == "request_extension")).one()
        assert audit.reason == "Skolorna svarar sent" and audit.channel == "web"


@pytest.mark.parametrize(
    "day, reason, why",
    [
        (LATER, " ", "reason|skäl"),
        (date(2012, 12, 1), "Sent", "after|efter"),
        (date(2012, 12, 28), "Sent", "after|efter"),
    ],
)
def test_a_request_is_checked_like_an_extension(loaded, day, reason, why):
    with pytest.raises(WorkError, match=why):
        ask(loaded, day=day, reason=reason)


def test_a_request_about_an_activity_that_is_done_is_refused(loaded):
    with transaction(loaded) as s:
        mark_done(unit_at(s, NOW), activity(s, "ung-kontaktuppgifter"))
    with pytest.raises(WorkError):
        ask(loaded)


def test_a_second_request_by_the_same_person_replaces_the_first(loaded):
    first = ask(loaded)
    second = ask(loaded, day=date(2013, 3, 15), reason="Ännu senare")
    with loaded() as s:
        assert s.get(ExtensionRequest, first).status == ExtensionStatus.MOOT
        assert s.get(ExtensionRequest, second).status == ExtensionStatus.PENDING
    live = [n for n in notices(loaded, "extension_request") if n.cancelled_at is None]
    assert [n.subject_id for n in live] == [second]
    other = ask(loaded, who="maria-lund")  # someone else's request stands beside it
    with loaded() as s:
        assert s.get(ExtensionRequest, second).status == ExtensionStatus.PENDING
        assert s.get(ExtensionRequest, other).status == ExtensionStatus.PENDING


def test_approval_extends_and_tells_the_requester_and_a_second_decision_is_refused(loaded):
    request_id = ask(loaded)
    with transaction(loaded) as s:
        anna = person(s, "anna-sjoberg")
        decide_extension(
            unit_at(s, NOW + timedelta(hours=1), f"person:{anna.id}"),
            s.get(ExtensionRequest, request_id),
            True,
            "Bra",
        )
    with loaded() as s:
        request = s.get(ExtensionRequest, request_id)
        assert (request.status, request.decision_note, request.decided_by) == (
            "approved",
            "Bra",
            f"person:{anna.id}",
        )
        assert activity(s, "ung-kontaktuppgifter").extended_deadline == LATER
        assert {
            e.action
            for e in s.scalars(select(AuditEntry).where(AuditEntry.entity_key == "ung-kontaktuppgifter"))
        } >= {
            "request_extension",
            "extend",
            "decide_extension",
        }
    (decision,) = notices(loaded, "extension_decision")
    assert decision.payload["approved"] and decision.payload["decided_by"] == "Anna Sjöberg"
    assert decision.payload["deadline"] == "2013-02-28" and decision.due_at == NOW + timedelta(hours=1)
    assert all(
        n.cancelled_at is not None for n in notices(loaded, "extension_request")
    )  # nobody else decides
    with transaction(loaded) as s, pytest.raises(ExtensionError):
        decide_extension(unit_at(s, NOW), s.get(ExtensionRequest, request_id), False)


def test_a_declined_request_leaves_the_deadline_and_says_so(loaded):
    request_id = ask(loaded)
    with transaction(loaded) as s:
        decide_extension(unit_at(s, NOW, "cli:anna"), s.get(ExtensionRequest, request_id), False, "Nej")
    with loaded() as s:
        assert s.get(ExtensionRequest, request_id).status == ExtensionStatus.DECLINED
        assert activity(s, "ung-kontaktuppgifter").extended_deadline is None
    (decision,) = notices(loaded, "extension_decision")
    assert decision.payload["approved"] is False and decision.payload["deadline"] == "2012-12-28"
    assert decision.payload["decided_by"] == "anna"


def test_done_or_extended_otherwise_makes_a_pending_request_moot(loaded):
    done = ask(loaded)
    extended = ask(loaded, key="ung-natmobbning")
    with transaction(loaded) as s:
        mark_done(unit_at(s, NOW), activity(s, "ung-kontaktuppgifter"))
        extend(
            unit_at(s, NOW), activity(s, "ung-natmobbning"), new_deadline=date(2013, 1, 31), reason="Beslut"
        )
    with loaded() as s:
        assert s.get(ExtensionRequest, done).status == ExtensionStatus.MOOT
        assert s.get(ExtensionRequest, extended).status == ExtensionStatus.MOOT
    assert all(n.cancelled_at is not None for n in notices(loaded, "extension_request"))


def test_a_withdrawn_activitys_request_becomes_moot_at_the_load(loaded):
    request_id = ask(loaded)
    with transaction(loaded) as s:
        act = activity(s, "ung-kontaktuppgifter")
        act.state = ActivityState.WITHDRAWN
        moot_requests_of_settled(s, act.agreement_id, FixedClock(NOW), "cli:test")
    with loaded() as s:
        assert s.get(ExtensionRequest, request_id).status == ExtensionStatus.MOOT


def test_the_mails_that_cannot_wait_go_at_once_even_at_night_in_a_quiet_week(loaded):
    night = datetime(2012, 7, 14, 21, 30, tzinfo=UTC)  # a Saturday, week 28: summer's quiet weeks
    ask(loaded, now=night)
    with transaction(loaded) as s:
        composed = compose(s, night)
        assert composed.deferred == 0
        mail = s.get(Mail, composed.mails[0])
        assert (mail.kind, mail.next_attempt_at) == ("extension_request", night)
