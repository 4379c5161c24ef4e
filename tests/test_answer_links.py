"""The link dispatcher: a GET shows and changes nothing; a POST acts once, as the person, on the web."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select

from tests.answers_support import SIGNER, activity, colleague, meeting, person, token, unit_at
from workflow.agreement.models import Person
from workflow.answers.links import AlreadyUsed, LinkRefused, answer_link, view_link
from workflow.audit import AuditEntry
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.links.models import UsedToken
from workflow.links.tokens import Action
from workflow.meetings.models import Invitee, MeetingStatus
from workflow.outbox.models import Mail, Notice
from workflow.plan.models import ActivityState, ExtensionRequest, ExtensionStatus
from workflow.work import WorkError

NOW = datetime(2012, 3, 1, 9, 0, tzinfo=UTC)


def answer(sessions, tok: str, form: dict, now: datetime = NOW, session_email: str | None = None):
    with transaction(sessions) as s:
        return answer_link(unit_at(s, now), SIGNER, tok, form, session_email=session_email)


def test_a_get_shows_the_activity_and_changes_nothing(loaded):
    with loaded() as s:
        johan, act = person(s, "johan-berg"), activity(s, "ung-kontaktuppgifter")
        tok = token(johan.id, Action.DONE, act.id, NOW)
        before = s.scalar(select(func.count()).select_from(AuditEntry))
        view = view_link(s, SIGNER, tok, NOW)
        assert view.action == Action.DONE and view.person_name == "Johan Berg"
        assert view.subject.title == act.title and view.subject.deadline == act.deadline
        assert view.subject.area and view.used is None
        assert view.agreement_key == "harnosand-2012-2013"
        assert not s.new and not s.dirty
        assert s.scalar(select(func.count()).select_from(AuditEntry)) == before


def test_done_by_link_is_audited_as_the_person_on_the_web_and_works_once(loaded):
    with loaded() as s:
        johan, act = person(s, "johan-berg"), activity(s, "ung-kontaktuppgifter")
        tok, act_id, johan_id = token(johan.id, Action.DONE, act.id, NOW), act.id, johan.id
    answered = answer(loaded, tok, {"note": "Klart i skolorna"})
    assert answered.outcome["by"] == "Johan Berg" and answered.outcome["note"] == "Klart i skolorna"
    with loaded() as s:
        assert s.get(type(activity(s, "ung-kontaktuppgifter")), act_id).state == ActivityState.DONE
        entry = s.scalars(select(AuditEntry).order_by(AuditEntry.id.desc())).first()
        assert (entry.actor, entry.channel) == (f"person:{johan_id}", "web")
        used = s.scalar(select(UsedToken))
        assert used.action == "done" and used.outcome["at"] == NOW.isoformat()
    with pytest.raises(AlreadyUsed) as replay:
        answer(loaded, tok, {})
    assert replay.value.used.outcome["by"] == "Johan Berg"
    with loaded() as s:
        assert (
            view_link(s, SIGNER, tok, NOW + timedelta(minutes=5)).used.outcome["note"] == "Klart i skolorna"
        )


def test_tampered_expired_unknown_and_someone_elses_links_are_refused(loaded):
    with loaded() as s:
        johan, act = person(s, "johan-berg"), activity(s, "ung-kontaktuppgifter")
        tok = token(johan.id, Action.DONE, act.id, NOW, days=1)
        cases = {
            "tampered": (tok[:-3] + "abc", NOW, None),
            "expired": (tok, NOW + timedelta(days=2), None),
            "unknown": (token(johan.id, Action.DONE, 99999, NOW), NOW, None),
            "not_yours": (tok, NOW, "maria.lund@example.org"),
        }
        status = {"tampered": 400, "expired": 410, "unknown": 404, "not_yours": 403}
        for reason, (t, when, email) in cases.items():
            with pytest.raises(LinkRefused) as refused:
                view_link(s, SIGNER, t, when, session_email=email)
            assert (refused.value.reason, refused.value.status) == (reason, status[reason])
        assert view_link(s, SIGNER, tok, NOW, session_email="JOHAN.BERG@example.org").person_id == johan.id
    with pytest.raises(LinkRefused, match="not_yours"):
        answer(loaded, tok, {}, session_email="maria.lund@example.org")
    with loaded() as s:
        assert s.scalar(select(func.count()).select_from(UsedToken)) == 0
        assert activity(s, "ung-kontaktuppgifter").state == ActivityState.OPEN


def test_a_person_no_longer_allowed_is_refused(loaded):
    with transaction(loaded) as s:
        johan, act = person(s, "johan-berg"), activity(s, "ung-kontaktuppgifter")
        tok = token(johan.id, Action.PROGRESS, act.id, NOW)
        johan.active = False
    with pytest.raises(LinkRefused, match="not_yours"):
        answer(loaded, tok, {"note": "x"})


def test_a_refused_action_leaves_the_link_unused(loaded):
    with loaded() as s:
        tok = token(person(s, "johan-berg").id, Action.PROGRESS, activity(s, "ung-kontaktuppgifter").id, NOW)
    with transaction(loaded) as s:  # the caller commits after the refusal: nothing is kept
        with pytest.raises(WorkError):
            answer_link(unit_at(s, NOW), SIGNER, tok, {"note": "  "})
    with loaded() as s:
        assert s.scalar(select(func.count()).select_from(UsedToken)) == 0
    assert answer(loaded, tok, {"note": "Halvvägs"}).outcome["note"] == "Halvvägs"


def test_a_sign_in_link_is_not_refused_for_another_signed_in_address(loaded):
    with loaded() as s:
        maria = person(s, "maria-lund")
        tok = token(maria.id, Action.SIGN_IN, maria.id, NOW)
        assert view_link(s, SIGNER, tok, NOW, session_email="johan.berg@example.org").subject is None
    answered = answer(loaded, tok, {}, session_email="johan.berg@example.org")
    assert answered.email == "maria.lund@example.org"
    with pytest.raises(AlreadyUsed):
        answer(loaded, tok, {})


def test_ask_for_a_new_date_then_approve_by_link(loaded):
    with loaded() as s:
        johan, anna = person(s, "johan-berg"), person(s, "anna-sjoberg")
        act = activity(s, "ung-kontaktuppgifter")
        ask = token(johan.id, Action.EXTEND, act.id, NOW)
    with pytest.raises(WorkError):
        answer(loaded, ask, {"new_deadline": "28 januari", "reason": "Sjukdom"})
    asked = answer(loaded, ask, {"new_deadline": "2013-02-28", "reason": "Skolorna svarar sent"})
    with loaded() as s:
        request = s.get(ExtensionRequest, asked.outcome["request"])
        assert request.status == ExtensionStatus.PENDING
        approve = token(anna.id, Action.APPROVE, request.id, NOW)
        view = view_link(s, SIGNER, approve, NOW)
        assert view.subject.requested_by == "Johan Berg" and view.subject.reason == "Skolorna svarar sent"
    answer(loaded, approve, {"note": "OK"})
    with loaded() as s:
        assert activity(s, "ung-kontaktuppgifter").extended_deadline.isoformat() == "2013-02-28"
        decision = s.scalar(select(Notice).where(Notice.rule == "extension_decision"))
        assert decision.recipient_id == johan.id and decision.payload["approved"] is True


def test_decline_with_a_deputy_who_then_gets_the_invitation(loaded):
    with transaction(loaded) as s:
        johan = person(s, "johan-berg")
        lisa = colleague(s, johan, "lisa-polis", "Lisa Polis")
        council = meeting(s, "council-2012-1")
        tok, lisa_id, johan_id = token(johan.id, Action.DECLINE, council.id, NOW), lisa.id, johan.id
    invitation = datetime(2012, 2, 8, 7, 0, tzinfo=UTC)  # after the invitations of 7 February
    sweep(loaded, invitation)
    with loaded() as s:
        view = view_link(s, SIGNER, tok, invitation)
        assert view.subject.invitations_sent
        assert [c.person_id for c in view.deputies] == [lisa_id]  # thomas-nyberg is already invited
        assert {i.name for i in view.subject.invitees} >= {"Johan Berg", "Karin Ek"}
    with pytest.raises(Exception, match="deputy|ersättare"):
        answer(loaded, tok, {"deputy": str(person_id_of(loaded, "thomas-nyberg"))}, invitation)
    answered = answer(loaded, tok, {"deputy": str(lisa_id)}, invitation)
    assert answered.outcome == {**answered.outcome, "answer": "no", "deputy": "Lisa Polis"}
    with loaded() as s:
        rows = {i.person_id: i for i in s.scalars(select(Invitee).where(Invitee.meeting_id == council.id))}
        assert rows[johan_id].answer == "no" and rows[lisa_id].deputy_for_id == johan_id
    sweep(loaded, invitation + timedelta(minutes=1))
    with loaded() as s:
        mail = s.scalar(select(Mail).where(Mail.recipient_id == lisa_id))
        assert mail is not None and mail.kind == "invitation"


def person_id_of(sessions, key: str) -> int:
    with sessions() as s:
        return person(s, key).id


def test_attend_and_propose_by_link(loaded):
    with loaded() as s:
        erik, council = person(s, "erik-holm"), meeting(s, "council-2012-1")
        attend = token(erik.id, Action.ATTEND, council.id, NOW - timedelta(days=40))
        propose = token(erik.id, Action.PROPOSE, council.id, NOW - timedelta(days=40))
    early = datetime(2012, 1, 20, 9, 0, tzinfo=UTC)
    answer(loaded, attend, {}, early)
    proposed = answer(loaded, propose, {"title": "Ungdomsgården på helger"}, early)
    assert proposed.outcome["after_invitation"] is False
    with loaded() as s:
        council = meeting(s, "council-2012-1")
        assert {i.person.key: i.answer for i in council.invitees}["erik-holm"] == "yes"
        item = council.agenda[-1]
        assert item.title == "Ungdomsgården på helger" and item.proposed_by_id == erik.id


def test_minutes_by_link_pre_tick_the_yes_answers_and_go_to_everyone_invited(loaded):
    with loaded() as s:
        council = meeting(s, "council-2012-1")
        karin, fred = person(s, "karin-ek"), person(s, "fred-nilsson")
        attend = token(fred.id, Action.ATTEND, council.id, NOW - timedelta(days=40))
        minutes = token(karin.id, Action.MINUTES, council.id, NOW)
        invited = len(council.invitees)
    answer(loaded, attend, {}, datetime(2012, 2, 10, 9, tzinfo=UTC))
    after = datetime(2012, 2, 15, 9, tzinfo=UTC)
    with loaded() as s:
        view = view_link(s, SIGNER, minutes, after)
        assert {c.name: c.checked for c in view.attendees}["Fred Nilsson"] is True
        assert {c.name: c.checked for c in view.attendees}["Karin Ek"] is False
    with pytest.raises(Exception, match="invit|inbjud"):
        answer(
            loaded,
            minutes,
            {"text": "Anteckningar", "attended": [str(person_id_of(loaded, "ali-hassan"))]},
            after,
        )
    answer(loaded, minutes, {"text": "1. Mötet öppnades.", "attended": [str(fred.id), str(karin.id)]}, after)
    with loaded() as s:
        council = meeting(s, "council-2012-1")
        assert council.status == MeetingStatus.CLOSED
        assert {i.person.key for i in council.invitees if i.attended} == {"fred-nilsson", "karin-ek"}
    sweep(loaded, after + timedelta(minutes=1))
    with loaded() as s:
        told = s.scalars(select(Notice.recipient_id).where(Notice.rule == "minutes")).all()
        assert len(set(told)) == invited


@pytest.mark.postgres
def test_two_posts_of_one_link_at_once_act_once(loaded, db_url):
    if not db_url.startswith("postgresql"):
        pytest.skip("the race needs two connections of a server")
    import threading

    with loaded() as s:
        tok = token(person(s, "johan-berg").id, Action.PROGRESS, activity(s, "ung-kontaktuppgifter").id, NOW)
    first = loaded()
    first.begin()
    answer_link(unit_at(first, NOW), SIGNER, tok, {"note": "Först"})  # holds its claim, uncommitted
    outcome: dict = {}

    def second() -> None:
        try:
            answer(loaded, tok, {"note": "Sedan"})
            outcome["second"] = "acted"
        except AlreadyUsed as used:
            outcome["second"] = used.used.outcome["note"]

    thread = threading.Thread(target=second)
    thread.start()
    thread.join(timeout=1)
    assert thread.is_alive()  # waiting for the first claim
    first.commit()
    first.close()
    thread.join(timeout=10)
    assert outcome == {"second": "Först"}
    with loaded() as s:
        notes = s.scalars(select(AuditEntry.reason).where(AuditEntry.channel == "web")).all()
        assert "Sedan" not in notes and "Först" in notes


def test_a_deputy_may_come_from_a_department_of_the_same_party(loaded):
    """The council invites the municipality's people; one of its departments' people (fältarbetarna,
    under socialtjänsten) may go in a member's place — never someone of the police or outside."""
    with loaded() as s:
        erik, council = person(s, "erik-holm"), meeting(s, "council-2012-1")
        invited = {i.person_id for i in council.invitees}
        view = view_link(s, SIGNER, token(erik.id, Action.DECLINE, council.id, NOW), NOW)
        offered = {s.get(Person, c.person_id).organisation.key for c in view.deputies}
        assert not invited & {c.person_id for c in view.deputies}
        assert view.deputies and offered <= {
            "kommunen",
            "skola",
            "socialtjanst",
            "faltarbetare",
            "raddningstjanst",
            "fritid",
            "samhallsforvaltning",
        }


def test_a_deputy_answers_for_the_absent_person_only_during_the_absence_and_is_refused_outside(loaded):
    from datetime import date
    from zoneinfo import ZoneInfo

    from workflow.agreement.models import Absence

    stockholm = ZoneInfo("Europe/Stockholm")
    with loaded() as s:
        johan, act = person(s, "johan-berg"), activity(s, "ung-kontaktuppgifter")
        lisa = colleague(s, johan, "lisa-polis", "Lisa Polis")
        s.add(
            Absence(
                agreement_id=johan.agreement_id,
                person_id=johan.id,
                deputy_id=lisa.id,
                starts_on=date(2012, 3, 5),
                ends_on=date(2012, 3, 9),
                created_at=NOW,
                created_by="system",
            )
        )
        s.commit()
        tok, act_id, lisa_id = token(lisa.id, Action.DONE, act.id, NOW), act.id, lisa.id

    def state_and_audits():
        with loaded() as s:
            return s.get(type(activity(s, "ung-kontaktuppgifter")), act_id).state, s.scalar(
                select(func.count()).select_from(AuditEntry)
            )

    before = state_and_audits()
    for local in (
        datetime(2012, 3, 4, 23, 59, tzinfo=stockholm),
        datetime(2012, 3, 10, 0, 1, tzinfo=stockholm),
    ):
        with pytest.raises(LinkRefused) as refused:
            answer(loaded, tok, {}, now=local.astimezone(UTC))
        assert (refused.value.reason, refused.value.status) == ("not_yours", 403)
        assert state_and_audits() == before
    answered = answer(loaded, tok, {}, now=datetime(2012, 3, 9, 23, 59, tzinfo=stockholm).astimezone(UTC))
    assert answered.person_id == lisa_id and answered.outcome["by"] == "Lisa Polis"
    assert state_and_audits()[0] == ActivityState.DONE
