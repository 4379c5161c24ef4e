"""The coordinator's desk: each page for the coordinator, nobody else; its actions as the signed-in person, audited."""

from __future__ import annotations

import csv
import io
from datetime import UTC, date, datetime

import pytest
from openpyxl import load_workbook
from sqlalchemy import select

from tests.desk_world import HOME, OTHER_KEY, DeskWorld, make
from tests.web_world import csrf_of, dump
from workflow.agreement.models import Agreement
from workflow.audit import AuditEntry, UnitOfWork
from workflow.clock import FixedClock
from workflow.cycle.models import CycleStep, StepState
from workflow.db import transaction
from workflow.desk.access import add_admin
from workflow.engine.sweep import sweep
from workflow.links.tokens import Action
from workflow.outbox.models import Mail, MailStatus
from workflow.plan.models import ExtensionRequest

PAGES = (
    "",
    "/cycle",
    "/activities",
    "/activities.csv",
    "/activities.xlsx",
    "/requests",
    "/outgoing",
    "/outbox",
    "/audit",
)
LATER = datetime(2012, 12, 12, 9, 0, tzinfo=UTC)  # those due 2012-11-30 have reached the coordinator


@pytest.fixture
def desk(tmp_path, sqlite_templates) -> DeskWorld:
    return make(tmp_path, sqlite_templates)


def _posts(desk: DeskWorld) -> list[str]:
    with desk.world.sessions() as session:
        mail = session.scalar(select(Mail.id).order_by(Mail.id))
    return [
        f"{HOME}/cycle/2012/1",
        f"{HOME}/requests/{desk.world.subjects[Action.APPROVE]}",
        f"{HOME}/outbox/{mail or 1}/resend",
    ]


@pytest.mark.parametrize("path", PAGES)
def test_every_desk_page_opens_for_the_coordinator(desk, path):
    answer = desk.client(desk.coordinator.email).get(HOME + path)
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["Cache-Control"] == "no-store"


def test_the_desk_is_refused_to_management_to_another_agreements_coordinator_and_to_nobody(desk):
    before = dump(desk.world.url)
    who = {desk.management.email: 403, desk.other_coordinator.email: 404, None: 403}
    for email, status in who.items():
        client = desk.client(email)
        for path in PAGES + ("/outgoing/2012-03-01/1",):
            assert client.get(HOME + path).status_code == status, (email, path)
        for path in _posts(desk):
            # A genuine CSRF token (every page's language switch has one): the refusal is the door's.
            token = csrf_of(client.get(HOME).text)
            answer = client.post(path, data={"csrf_token": token, "action": "close", "decision": "approve"})
            assert answer.status_code == status, (email, path)
    assert dump(desk.world.url) == before


def test_the_other_agreements_coordinator_sees_their_own_desk_only(desk):
    client = desk.client(desk.other_coordinator.email)
    assert client.get(f"/agreements/{OTHER_KEY}").status_code == 200
    assert client.get("/agreements/no-such-agreement").status_code == 404


def test_me_links_the_coordinator_to_the_desk(desk):
    page = desk.client(desk.coordinator.email).get("/me").text
    assert f'href="{HOME}"' in page
    assert 'href="/overview"' in page  # a coordinator sees the overview of their agreement too
    assert 'href="/overview"' in desk.client(desk.management.email).get("/me").text


def test_an_administrator_without_a_person_reads_the_desk_but_may_not_change_it(desk):
    with transaction(desk.world.sessions) as session:
        add_admin(UnitOfWork(session, desk.world.clock, "cli:test"), "chef@rikspolis.example")
    client = desk.client("chef@rikspolis.example")
    assert client.get(HOME + "/cycle").status_code == 200
    before = dump(desk.world.url)
    token = csrf_of(client.get(HOME + "/cycle").text)
    answer = client.post(
        f"{HOME}/cycle/2012/1", data={"csrf_token": token, "action": "override", "reason": "x"}
    )
    assert answer.status_code == 403 and "person" in answer.text
    assert dump(desk.world.url) == before


def _step_form(client, step: int, **fields):
    token = csrf_of(client.get(HOME + "/cycle").text)
    return client.post(f"{HOME}/cycle/2012/{step}", data={"csrf_token": token, **fields})


def test_closing_step_one_with_its_deliverables_is_audited_as_the_coordinator_on_the_web(desk):
    client = desk.client(desk.coordinator.email)
    page = client.get(HOME + "/cycle").text
    keys = sorted(set(k for k in _values(page, "deliverable") if k.startswith("facts-")))
    assert keys, "step 1 lists its deliverables as checkboxes"
    answer = _step_form(client, 1, action="close", deliverable=keys, note="lägesbild klar")
    assert answer.status_code == 303
    with desk.world.sessions() as session:
        step = session.scalar(select(CycleStep).where(CycleStep.number == 1).order_by(CycleStep.id))
        assert step.state == StepState.CLOSED and step.closed_by == f"person:{desk.coordinator.id}"
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "cycle_step")).one()
        assert (entry.action, entry.actor, entry.channel) == ("close", f"person:{desk.coordinator.id}", "web")
    assert "✓" in client.get(HOME + "/cycle").text


def test_a_step_with_missing_deliverables_is_refused_then_overridden_with_a_reason(desk):
    client = desk.client(desk.coordinator.email)
    before = dump(desk.world.url)
    refused = _step_form(client, 1, action="close")
    assert refused.status_code == 422 and "facts-" in refused.text
    assert _step_form(client, 1, action="override", reason="   ").status_code == 422
    assert dump(desk.world.url) == before
    assert _step_form(client, 1, action="override", reason="polisen levererar i maj").status_code == 303
    with desk.world.sessions() as session:
        entry = session.scalars(select(AuditEntry).where(AuditEntry.action == "override")).one()
        assert entry.reason == "polisen levererar i maj" and entry.actor == f"person:{desk.coordinator.id}"


def _values(page: str, name: str) -> list[str]:
    import re

    return re.findall(rf'name="{name}" value="([^"]+)"', page)


def test_approving_a_request_extends_the_activity_and_kicks_the_decision_mail(desk):
    kicks = []
    client = desk.client(desk.coordinator.email, kick=lambda: kicks.append(1))
    page = client.get(HOME + "/requests").text
    assert "sjukdom" in page
    request_id = desk.world.subjects[Action.APPROVE]
    answer = client.post(
        f"{HOME}/requests/{request_id}",
        data={"csrf_token": csrf_of(page), "decision": "approve", "note": "ok"},
    )
    assert answer.status_code == 303 and kicks == [1]
    with desk.world.sessions() as session:
        request = session.get(ExtensionRequest, request_id)
        assert (request.status, request.decided_by) == ("approved", f"person:{desk.coordinator.id}")
    assert "sjukdom" not in client.get(HOME + "/requests").text
    again = client.post(
        f"{HOME}/requests/{request_id}", data={"csrf_token": csrf_of(page), "decision": "refuse"}
    )
    assert again.status_code == 409


def test_send_again_puts_a_failed_mail_back_in_the_queue_audited(desk):
    sweep(desk.world.sessions, LATER, ran_at=LATER)
    with transaction(desk.world.sessions) as session:
        mail = session.scalars(select(Mail).where(Mail.agreement_id == desk.coordinator.agreement_id)).first()
        mail.status, mail.attempts, mail.last_error = MailStatus.FAILED, 8, "550 5.1.1 mailbox unavailable"
        mail_id = mail.id
    client = desk.client(desk.coordinator.email, kick=lambda: None)
    page = client.get(HOME + "/outbox?status=failed").text
    assert "550 5.1.1 mailbox unavailable" in page
    answer = client.post(f"{HOME}/outbox/{mail_id}/resend", data={"csrf_token": csrf_of(page)})
    assert answer.status_code == 303
    with desk.world.sessions() as session:
        mail = session.get(Mail, mail_id)
        assert (mail.status, mail.attempts) == (MailStatus.PENDING, 0)
        entry = session.scalars(select(AuditEntry).where(AuditEntry.entity == "mail")).one()
        assert (entry.action, entry.before["last_error"]) == ("resend", "550 5.1.1 mailbox unavailable")
    again = client.post(f"{HOME}/outbox/{mail_id}/resend", data={"csrf_token": csrf_of(page)})
    assert again.status_code == 409


def test_the_activities_filter_by_status_and_export_the_same_rows_as_csv_and_xlsx(desk):
    sweep(desk.world.sessions, LATER, ran_at=LATER)  # the ladder's notices are made
    client = desk.client(desk.coordinator.email, clock=FixedClock(LATER))
    before = dump(desk.world.url)
    page = client.get(HOME + "/activities?status=overdue").text
    assert '<span class="tag bad">försenad</span>' in page
    assert "efter 5 arbetsdagar: samordnaren (7 december 2012 kl. 08:00)" in page  # the step reached
    assert "efter 10 arbetsdagar: ledningen (14 december 2012 kl. 08:00)" in page  # and the next
    rows = list(
        csv.reader(
            io.StringIO(client.get(HOME + "/activities.csv?status=overdue").text.lstrip("\ufeff")),
            delimiter=";",
        )
    )
    assert rows[0][:4] == ["Id", "Område", "Mål", "Aktivitet"]
    assert len(rows) > 1 and all(r[7] == "försenad" for r in rows[1:])
    assert all(r[0] in page for r in rows[1:])
    book = load_workbook(io.BytesIO(client.get(HOME + "/activities.xlsx?status=overdue").data))
    sheet = book.active
    values = list(sheet.iter_rows(values_only=True))
    assert [v[0] for v in values[1:]] == [r[0] for r in rows[1:]]
    assert all(isinstance(v[6], datetime | date) for v in values[1:])
    everything = client.get(HOME + "/activities.csv").text.count("\n")
    assert everything > len(rows)
    assert dump(desk.world.url) == before


def test_the_audit_log_filters_by_person_object_and_date(desk):
    client = desk.client(desk.coordinator.email)
    _step_form(client, 1, action="override", reason="skäl")
    actor = f"person:{desk.coordinator.id}"
    mine = client.get(f"{HOME}/audit?actor={actor}").text
    assert "cycle_step" in mine and "skäl" in mine and "load" not in mine.split("<tbody>")[1]
    assert "cycle_step" not in client.get(f"{HOME}/audit?entity=activity").text.split("<tbody>")[1]
    assert "skäl" in client.get(f"{HOME}/audit?key=2012/1").text
    assert "skäl" not in client.get(f"{HOME}/audit?until=2011-12-31").text


def test_an_archived_agreement_is_read_on_the_desk_but_not_changed(desk):
    with transaction(desk.world.sessions) as session:
        agreement = session.get(Agreement, desk.coordinator.agreement_id)
        agreement.archived_at = LATER
    client = desk.client(desk.coordinator.email)
    page = client.get(HOME + "/cycle")
    assert page.status_code == 200 and "arkiverad" in page.text
    before = dump(desk.world.url)
    answer = client.post(
        f"{HOME}/cycle/2012/1", data={"csrf_token": csrf_of(page.text), "action": "override", "reason": "x"}
    )
    assert answer.status_code == 403 and "arkiverad" in answer.text
    assert dump(desk.world.url) == before


def test_the_coordinator_renews_the_agreement_on_the_desk_as_themselves(desk):
    client = desk.client(desk.coordinator.email)
    page = client.get(HOME).text
    assert "Förnya överenskommelsen" in page and "Arkivera överenskommelsen" in page
    bad = client.post(f"{HOME}/renew", data={"csrf_token": csrf_of(page), "to": "2013-13-40"})
    assert bad.status_code == 422 and "2013-13-40" in bad.text  # an impossible date, named
    answer = client.post(
        f"{HOME}/renew", data={"csrf_token": csrf_of(page), "from": "2014-01-01", "to": "2015-12-31"}
    )
    assert answer.status_code == 303
    with desk.world.sessions() as session:
        agreement = session.get(Agreement, desk.coordinator.agreement_id)
        assert (agreement.period_start, agreement.period_end) == (date(2014, 1, 1), date(2015, 12, 31))
        entry = session.scalar(select(AuditEntry).where(AuditEntry.action == "renew"))
        assert (entry.actor, entry.channel) == (f"person:{desk.coordinator.id}", "web")


def test_archiving_on_the_desk_needs_the_tick_and_then_refuses_every_change(desk):
    client = desk.client(desk.coordinator.email)
    page = client.get(HOME).text
    before = dump(desk.world.url)
    unticked = client.post(f"{HOME}/archive", data={"csrf_token": csrf_of(page)})
    assert unticked.status_code == 422 and dump(desk.world.url) == before
    assert (
        client.post(f"{HOME}/archive", data={"csrf_token": csrf_of(page), "confirm": "yes"}).status_code
        == 303
    )
    home = client.get(HOME).text
    assert "arkiverad" in home and "Förnya överenskommelsen" not in home
    again = client.post(f"{HOME}/renew", data={"csrf_token": csrf_of(home), "to": "2015-12-31"})
    assert again.status_code == 403
