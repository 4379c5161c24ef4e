"""Who may answer what: the people asked, the roles the agreement file gives, deny by default."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.answers_support import activity, meeting, person
from workflow.agreement.models import Person
from workflow.answers.permissions import may
from workflow.links.tokens import Action
from workflow.plan.models import ExtensionRequest

NOW = datetime(2012, 3, 1, 9, tzinfo=UTC)


def test_the_people_reminded_and_the_coordinator_may_act_on_an_activity_and_nobody_else(loaded):
    with loaded() as s:
        act = activity(s, "ung-kontaktuppgifter")  # polisen och skolan: johan-berg, maria-lund
        for action in (Action.DONE, Action.PROGRESS, Action.EXTEND):
            assert may(s, person(s, "johan-berg"), action, act, NOW)
            assert may(s, person(s, "maria-lund"), action, act, NOW)
            assert may(s, person(s, "anna-sjoberg"), action, act, NOW)  # the coordinator
            assert not may(s, person(s, "erik-holm"), action, act, NOW)  # an officer of another organisation
            assert not may(s, person(s, "karin-ek"), action, act, NOW)
            assert not may(s, person(s, "thomas-nyberg"), action, act, NOW)


def test_an_inactive_person_or_one_of_another_agreement_may_do_nothing(loaded):
    with loaded() as s:
        act, johan = activity(s, "ung-kontaktuppgifter"), person(s, "johan-berg")
        stranger = Person(id=johan.id, agreement_id=johan.agreement_id + 1, active=True, roles=[])
        assert not may(s, stranger, Action.DONE, act, NOW)
        johan.active = False
        assert not may(s, johan, Action.DONE, act, NOW)
        assert not may(s, None, Action.DONE, act, NOW)
        assert not may(s, person(s, "anna-sjoberg"), Action.DONE, None, NOW)


def test_an_action_on_the_wrong_kind_of_item_is_refused(loaded):
    with loaded() as s:
        anna = person(s, "anna-sjoberg")
        assert not may(s, anna, Action.DONE, meeting(s, "council-2012-1"), NOW)
        assert not may(s, anna, Action.ATTEND, activity(s, "ung-kontaktuppgifter"), NOW)
        assert not may(s, anna, Action.SIGN_IN, activity(s, "ung-kontaktuppgifter"), NOW)


def test_the_delay_is_acknowledged_by_the_coordinator_or_management_only(loaded):
    with loaded() as s:
        act = activity(s, "ung-kontaktuppgifter")
        assert may(s, person(s, "anna-sjoberg"), Action.ACK, act, NOW)
        assert may(s, person(s, "thomas-nyberg"), Action.ACK, act, NOW)
        assert not may(s, person(s, "johan-berg"), Action.ACK, act, NOW)


def test_items_are_proposed_by_invitees_council_members_and_the_coordinator(loaded):
    with loaded() as s:
        council = meeting(s, "council-2012-1")
        assert may(s, person(s, "karin-ek"), Action.PROPOSE, council, NOW)  # invited, not a member
        assert may(s, person(s, "erik-holm"), Action.PROPOSE, council, NOW)
        assert not may(s, person(s, "ali-hassan"), Action.PROPOSE, council, NOW)  # neither
        check_in = meeting(s, "check_in-2012-1")
        assert may(s, person(s, "maria-lund"), Action.PROPOSE, check_in, NOW)  # a council member


def test_only_invitees_answer_an_invitation(loaded):
    with loaded() as s:
        check_in = meeting(s, "check_in-2012-1")  # anna-sjoberg and johan-berg
        for action in (Action.ATTEND, Action.DECLINE):
            assert may(s, person(s, "johan-berg"), action, check_in, NOW)
            assert not may(s, person(s, "maria-lund"), action, check_in, NOW)
            assert not may(s, person(s, "thomas-nyberg"), action, check_in, NOW)


def test_the_minutes_come_from_the_secretary_or_the_coordinator(loaded):
    with loaded() as s:
        council = meeting(s, "council-2012-1")
        assert may(s, person(s, "karin-ek"), Action.MINUTES, council, NOW)
        assert may(s, person(s, "anna-sjoberg"), Action.MINUTES, council, NOW)
        assert not may(s, person(s, "fred-nilsson"), Action.MINUTES, council, NOW)


def test_only_a_coordinator_of_the_agreement_decides_a_new_date(loaded):
    with loaded() as s:
        act = activity(s, "ung-kontaktuppgifter")
        request = ExtensionRequest(id=1, agreement_id=act.agreement_id, activity_id=act.id)
        for action in (Action.APPROVE, Action.REFUSE):
            assert may(s, person(s, "anna-sjoberg"), action, request, NOW)
            assert not may(s, person(s, "thomas-nyberg"), action, request, NOW)
            assert not may(s, person(s, "johan-berg"), action, request, NOW)


def test_a_sign_in_link_is_for_its_own_active_person(loaded):
    with loaded() as s:
        johan, maria = person(s, "johan-berg"), person(s, "maria-lund")
        assert may(s, johan, Action.SIGN_IN, johan, NOW)
        assert not may(s, johan, Action.SIGN_IN, maria, NOW)
        johan.active = False
        assert not may(s, johan, Action.SIGN_IN, johan, NOW)
