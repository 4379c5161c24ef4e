"""The coordinator's desk, part 2: schedules, meetings, the plan and people — each page and POST on real SQLite."""

from __future__ import annotations

import io
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, SEED, load_file
from tests.web_world import KEY, csrf_of, dump
from web.app import create_app
from workflow.agreement.models import Absence, Agreement, Person
from workflow.audit import AuditEntry
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.engine.sweep import sweep
from workflow.links.tokens import LinkSigner
from workflow.links.urls import LinkSettings
from workflow.meetings.models import Meeting
from workflow.outbox.delivery import prepare
from workflow.outbox.models import Mail, Notice
from workflow.plan.models import Activity, PlanVersion
from workflow.settings import Settings

NOW = datetime(2012, 3, 1, 9, 0, tzinfo=UTC)
COORDINATOR = "anna.sjoberg@example.org"
OFFICER = "johan.berg@example.org"
AGREEMENT = "harnosand-2012-2013"


@pytest.fixture
def desk(tmp_path, sqlite_templates):
    url = f"sqlite:///{tmp_path / 'desk.db'}"
    sqlite_templates.copy("harnosand", lambda u: load_file(session_factory(make_engine(u)), HARNOSAND), url)
    sessions = session_factory(make_engine(url))
    app = create_app(
        Settings(
            database_url=url, secret_key=KEY, upload_dir=tmp_path / "uploads", mail_dir=tmp_path / "mail"
        ),
        sessions=sessions,
        clock=FixedClock(NOW),
    )
    app.config["TESTING"] = True
    return app, sessions, url


def signed_in(app, email):
    client = app.test_client()
    with client.session_transaction() as session:
        session["email"] = email
    return client


def post(client, page, action=None, **fields):
    data = {"csrf_token": csrf_of(client.get(page).text), **fields}
    return client.post(action or page, data=data, content_type="multipart/form-data")


BASE = f"/agreements/{AGREEMENT}"
PAGES = [f"{BASE}/schedules", f"{BASE}/meetings", f"{BASE}/plan", f"{BASE}/people"]


@pytest.mark.parametrize("page", PAGES)
def test_each_page_opens_for_the_coordinator(desk, page):
    app, _, _ = desk
    answer = signed_in(app, COORDINATOR).get(page)
    assert answer.status_code == 200, answer.text[:500]


@pytest.mark.parametrize("page", PAGES)
def test_each_page_is_refused_to_an_officer_and_to_nobody_and_unknown_agreements_are_not_told(desk, page):
    app, _, _ = desk
    assert signed_in(app, OFFICER).get(page).status_code == 403
    assert app.test_client().get(page).status_code == 403
    assert signed_in(app, COORDINATOR).get(page.replace(AGREEMENT, "nowhere")).status_code == 404


def test_a_post_by_an_officer_changes_nothing(desk):
    app, _, url = desk
    coordinator, officer = signed_in(app, COORDINATOR), signed_in(app, OFFICER)
    token = csrf_of(officer.get(f"{BASE}/people").text)  # the 403 page's own forms carry one
    assert coordinator.get(f"{BASE}/people").status_code == 200
    before = dump(url)
    for action in (f"{BASE}/people/absences", f"{BASE}/schedules", f"{BASE}/meetings/council-2012-1/cancel"):
        answer = officer.post(action, data={"csrf_token": token, "reason": "x", "action": "save"})
        assert answer.status_code == 403
    assert dump(url) == before


def _form(client):
    page = client.get(f"{BASE}/schedules").text
    import re

    fields = dict(re.findall(r'name="([a-z_.]+)" value="([^"]*)"', page))
    for name, text in re.findall(r'<textarea id="[^"]+" name="([a-z_.]+)"[^>]*>([^<]*)</textarea>', page):
        fields[name] = text
    return fields


def test_a_wrong_schedule_is_shown_beside_its_field_and_nothing_is_saved(desk):
    app, _, url = desk
    client = signed_in(app, COORDINATOR)
    fields = _form(client)
    before = dump(url)
    fields |= {"reminders.send_at": "25:00", "meetings.agenda_call_days": "3", "action": "save"}
    answer = client.post(f"{BASE}/schedules", data=fields)
    assert answer.status_code == 422
    assert 'id="reminders-send_at-error"' in answer.text
    assert 'id="meetings-agenda_call_days-error"' in answer.text or 'id="meetings-error"' in answer.text
    assert dump(url) == before


def test_saving_schedules_audits_each_setting_and_moves_the_meetings(desk):
    app, sessions, _ = desk
    client = signed_in(app, COORDINATOR)
    fields = _form(client) | {
        "reminders.send_at": "07:30",
        "cycle.council_meetings.location": "Rådhuset, sal 2",
        "action": "save",
    }
    answer = client.post(f"{BASE}/schedules", data=fields)
    assert answer.status_code == 303, answer.text[:800]
    with sessions() as s:
        agreement = s.scalar(select(Agreement).where(Agreement.key == AGREEMENT))
        assert agreement.reminders_config["send_at"] == "07:30"
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.channel == "web", AuditEntry.entity == "agreement")
        ).all()
        assert sorted(next(iter(r.after)) for r in rows) == ["cycle.council_meetings", "reminders.send_at"]
        assert all(r.actor.startswith("person:") for r in rows)
        council = s.scalar(select(Meeting).where(Meeting.key == "council-2012-2"))
        assert council.location == "Rådhuset, sal 2" and council.sequence == 1


def test_the_preview_shows_what_goes_out_and_saves_nothing(desk):
    app, _, url = desk
    client = signed_in(app, COORDINATOR)
    before = dump(url)
    answer = client.post(
        f"{BASE}/schedules", data=_form(client) | {"reminders.send_at": "07:30", "action": "preview"}
    )
    assert answer.status_code == 200
    assert "reminders.send_at" in answer.text
    assert dump(url) == before


def test_a_meeting_agenda_is_added_ordered_and_removed_then_the_meeting_moved_and_cancelled(desk):
    app, sessions, _ = desk
    client = signed_in(app, COORDINATOR)
    page = f"{BASE}/meetings/council-2012-2"
    assert client.get(page).status_code == 200
    for title in ("Första punkten", "Andra punkten"):
        assert post(client, page, f"{page}/agenda", title=title).status_code == 303
    with sessions() as s:
        items = s.scalar(select(Meeting).where(Meeting.key == "council-2012-2")).agenda
        first, second = [(i.id, i.title) for i in items]
    assert post(client, page, f"{page}/agenda-move", item=str(second[0]), step="up").status_code == 303
    assert post(client, page, f"{page}/agenda-remove", item=str(first[0])).status_code == 303
    assert (
        post(
            client,
            page,
            f"{page}/reschedule",
            starts_at="2012-05-10T13:00",
            minutes="90",
            location="Polishuset",
        ).status_code
        == 303
    )
    with sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.key == "council-2012-2"))
        assert [i.title for i in meeting.agenda] == ["Andra punkten"]
        assert meeting.sequence == 1 and meeting.location == "Polishuset"
    refused = post(client, page, f"{page}/cancel", reason=" ")
    assert refused.status_code == 422 and 'role="alert"' in refused.text
    assert post(client, page, f"{page}/cancel", reason="Krock med budgetmötet").status_code == 303
    with sessions() as s:
        assert s.scalar(select(Meeting).where(Meeting.key == "council-2012-2")).status == "cancelled"


def test_a_guest_is_coopted_and_minutes_are_recorded_with_attendance(desk):
    app, sessions, _ = desk
    client = signed_in(app, COORDINATOR)
    page = f"{BASE}/meetings/council-2012-1"
    with sessions() as s:
        org = s.scalars(select(Person)).first().organisation_id
    answer = post(
        client, page, f"{page}/coopt", name="Gun Gäst", email="gun@example.org", organisation=str(org)
    )
    assert answer.status_code == 303, answer.text[:500]
    with sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.key == "council-2012-1"))
        held = meeting.ends_at + timedelta(days=1)
        someone = meeting.invitees[0].person_id
    app.extensions["trygg"] = app.extensions["trygg"].__class__(
        **{**app.extensions["trygg"].__dict__, "clock": FixedClock(held)}
    )
    answer = post(client, page, f"{page}/minutes", text="Mötet hölls.", attended=str(someone))
    assert answer.status_code == 303, answer.text[:500]
    with sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.key == "council-2012-1"))
        assert len(meeting.minutes) == 1 and meeting.status == "closed"
        assert [i.person_id for i in meeting.invitees if i.attended] == [someone]
        assert any(i.person.name == "Gun Gäst" and i.co_opted for i in meeting.invitees)


def _seed_revised(tmp_path):
    text = SEED.read_text(encoding="utf-8")
    changes = [
        (
            "Återskapa rutiner kring arbete med grannsamverkan\tUnder 2012",
            "Återskapa rutiner kring arbete med grannsamverkan\tUnder hösten 2012",
        ),
        (
            "\tÖka och aktualisera anmälningar enligt LVM ² 6 § samt SOL ³ 14 §\tUnder projektiden\tPolis och kommun\n",
            "",
        ),
        (
            "Erbjuda trygghetsvandringar\tUtföra trygghetsvandring (ar)\tUnder hösten 2012\tKommun och polis\n",
            "Erbjuda trygghetsvandringar\tUtföra trygghetsvandring (ar)\tUnder hösten 2012\tKommun och polis\n"
            "\tBjuda in handlarna i centrum till en egen kvällsvandring\tUnder hösten 2012\tKommun och polis\n",
        ),
        (
            "¹ Brottsförebyggande rådets Nationella trygghetsundersökning.",
            "¹ Brottsförebyggande rådets Nationella trygghetsundersökning 2011.",
        ),
    ]
    for old, new in changes:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = tmp_path / "reviderad.txt"
    path.write_text(text, encoding="utf-8")
    return path


def _upload(client, path, name):
    page = f"{BASE}/plan"
    data = {
        "csrf_token": csrf_of(client.get(page).text),
        "year": "2012",
        "file": (io.BytesIO(path.read_bytes()), name),
    }
    return client.post(page, data=data, content_type="multipart/form-data")


def test_the_plan_diff_shows_exactly_one_when_one_row_removed_one_added_and_one_footnote(desk, tmp_path):
    app, sessions, url = desk
    client = signed_in(app, COORDINATOR)
    assert _upload(client, SEED, "seed.txt").status_code == 200
    assert (
        client.post(
            f"{BASE}/plan/confirm", data={"csrf_token": csrf_of(client.get(f"{BASE}/plan").text)}
        ).status_code
        == 303
    )
    from workflow.desk import plan_upload

    with sessions() as s:
        agreement = s.scalar(select(Agreement).where(Agreement.key == AGREEMENT))
        outcome = plan_upload.preview(
            s, agreement, _seed_revised(tmp_path), 2012, clock=FixedClock(NOW), actor="system"
        )
    seen = {
        (c.entity, c.action, tuple(f.field for f in c.fields) if c.action == "changed" else ())
        for c in outcome.changes
    }
    assert seen == {
        ("activity", "changed", ("when",)),
        ("activity", "removed", ()),
        ("activity", "added", ()),
        ("area", "changed", ("footnotes",)),
    }, outcome.changes
    before = dump(url)
    answer = _upload(client, _seed_revised(tmp_path), "reviderad.txt")
    assert answer.status_code == 200 and "Under hösten 2012" in answer.text and "2011." in answer.text
    assert dump(url) == before  # the upload is kept as a file; the preview was rolled back

    def versions():
        with sessions() as s:
            return len(s.scalars(select(PlanVersion)).all())

    count = versions()
    confirm = client.post(
        f"{BASE}/plan/confirm", data={"csrf_token": csrf_of(client.get(f"{BASE}/plan").text)}
    )
    assert confirm.status_code == 303 and versions() == count + 1
    with (
        sessions() as s
    ):  # the engine follows the new plan: the new row is scheduled, the removed one withdrawn
        added = s.scalar(select(Activity).where(Activity.title.startswith("Bjuda in handlarna")))
        removed = s.scalar(
            select(Activity).where(Activity.title.startswith("Öka och aktualisera anmälningar"))
        )
        assert added.state == "open" and added.next_action_at is not None
        assert removed.state == "withdrawn"
    assert client.get(confirm.headers["Location"]).status_code == 200


def test_a_confirm_without_an_upload_in_the_session_is_refused(desk):
    app, _, url = desk
    client = signed_in(app, COORDINATOR)
    before = dump(url)
    answer = client.post(
        f"{BASE}/plan/confirm", data={"csrf_token": csrf_of(client.get(f"{BASE}/plan").text)}
    )
    assert answer.status_code == 409 and dump(url) == before


def test_a_person_is_edited_and_audited_per_field_on_the_web(desk):
    app, sessions, _ = desk
    client = signed_in(app, COORDINATOR)
    with sessions() as s:
        person = s.scalar(select(Person).where(Person.email == OFFICER))
        pid, org, roles = person.id, person.organisation_id, person.role_names
    fields = {
        "name": "Johan Berg",
        "email": "johan.b@example.org",
        "title": "",
        "organisation": str(org),
        "language": "en",
        "roles": roles,
    }
    answer = post(client, f"{BASE}/people", f"{BASE}/people/{pid}", **fields)
    assert answer.status_code == 303, answer.text[:500]
    with sessions() as s:
        person = s.get(Person, pid)
        assert (person.email, person.language) == ("johan.b@example.org", "en")
        rows = s.scalars(
            select(AuditEntry).where(AuditEntry.entity == "person", AuditEntry.channel == "web")
        ).all()
        assert {next(iter(r.after)) for r in rows} >= {"email", "language"}
    bad = post(client, f"{BASE}/people", f"{BASE}/people/{pid}", **(fields | {"email": "inte en adress"}))
    assert bad.status_code == 422 and 'role="alert"' in bad.text


def _reminders_to(sessions, person_id):
    with sessions() as s:
        return s.scalars(
            select(Notice).where(Notice.recipient_id == person_id, Notice.rule == "reminder")
        ).all()


def _first_deadline_owner_and_deputy(sessions):
    """The activity due first, its responsible contact, and someone else who may stand in for them."""
    with sessions() as s:
        activity = s.scalars(
            select(Activity).where(Activity.deadline.is_not(None)).order_by(Activity.deadline)
        ).first()
        owner = next(
            p
            for p in s.scalars(select(Person).where(Person.is_contact))
            if p.organisation_id in {o.organisation_id for o in activity.owners}
        )
        deputy = s.scalars(select(Person).where(Person.id != owner.id, Person.is_contact.is_(False))).first()
        return owner.id, deputy.id, activity.deadline


def _set_absence(client, owner_id, deputy_id, start, end):
    """The coordinator records on the desk that `owner_id` is away from–to, `deputy_id` standing in."""
    return post(
        client,
        f"{BASE}/people",
        f"{BASE}/people/absences",
        person=str(owner_id),
        deputy=str(deputy_id),
        starts_on=start.isoformat(),
        ends_on=end.isoformat(),
    )


def test_during_an_absence_the_next_reminder_goes_to_the_deputy_marked_and_after_it_to_the_person(desk):
    app, sessions, _ = desk
    client = signed_in(app, COORDINATOR)
    owner_id, deputy_id, deadline = _first_deadline_owner_and_deputy(sessions)
    start, end = deadline - timedelta(days=30), deadline + timedelta(days=1)
    answer = _set_absence(client, owner_id, deputy_id, start, end)
    assert answer.status_code == 303, answer.text[:500]
    with transaction(sessions) as s:
        assert s.scalar(select(Absence)).deputy_id == deputy_id
    day = datetime.combine(deadline - timedelta(days=14), datetime.min.time(), tzinfo=UTC) + timedelta(
        hours=9
    )
    while day.date() <= deadline:
        sweep(sessions, day, ran_at=day)
        day += timedelta(days=1)
    with sessions() as s:
        routed = [
            n
            for n in s.scalars(select(Notice).where(Notice.recipient_id == deputy_id))
            if n.payload.get("on_behalf_of")
        ]
        assert routed, [
            (n.key, n.recipient_id, n.due_at)
            for n in s.scalars(select(Notice).where(Notice.key.contains(f"/{owner_id}/")))
        ][:5]
        assert all(n.key.split("/")[1] == str(owner_id) for n in routed)
        direct = s.scalars(select(Notice).where(Notice.recipient_id == owner_id)).all()
        assert not [(n.rule, n.due_at) for n in direct if start <= n.due_at.date() <= end]
        owner_name = s.get(Person, owner_id).name
        mail = s.get(Mail, routed[0].mail_id)
        assert mail is not None and mail.recipient_id == deputy_id
        letter = prepare(
            s, mail.id, NOW, "trygg <trygg@example.org>", LinkSettings("http://x", LinkSigner(KEY))
        )
        assert f"På uppdrag av {owner_name}" in letter.rendered.text
        assert f"På uppdrag av {owner_name}" in letter.rendered.html


def test_after_an_absence_the_person_gets_their_mails_again(desk):
    from workflow.outbox.stand_ins import StandIns

    app, sessions, _ = desk
    with transaction(sessions) as s:
        a, b = s.scalars(select(Person).limit(2)).all()
        s.add(
            Absence(
                agreement_id=a.agreement_id,
                person_id=a.id,
                deputy_id=b.id,
                starts_on=date(2012, 5, 1),
                ends_on=date(2012, 5, 31),
                created_at=NOW,
                created_by="system",
            )
        )
        s.flush()
        stand_ins = StandIns(s, [a.agreement_id])
        row = {
            "agreement_id": a.agreement_id,
            "recipient_id": a.id,
            "due_at": datetime(2012, 5, 15, 6, tzinfo=UTC),
            "payload": {},
        }
        during, after = (
            stand_ins.route(row),
            stand_ins.route(row | {"due_at": datetime(2012, 6, 1, 6, tzinfo=UTC)}),
        )
        assert (during["recipient_id"], during["payload"]["on_behalf_of"]) == (b.id, a.name)
        assert after["recipient_id"] == a.id and "on_behalf_of" not in after["payload"]
        # The ladder names who stands in: an escalation about the absent person's activity says so.
        escalation = stand_ins.route(row | {"recipient_id": b.id, "payload": {"contacts": [a.name]}})
        assert escalation["payload"]["stand_ins"] == [{"name": b.name, "on_behalf_of": a.name}]
        assert (
            "stand_ins"
            not in stand_ins.route(
                row | {"due_at": datetime(2012, 6, 1, 6, tzinfo=UTC), "payload": {"contacts": [a.name]}}
            )["payload"]
        )


def test_a_deputy_may_answer_the_absent_persons_reminders_only_from_the_first_to_the_last_day(desk):
    from workflow.answers.permissions import may
    from workflow.links.tokens import Action

    _, sessions, _ = desk
    stockholm = ZoneInfo("Europe/Stockholm")
    with transaction(sessions) as s:
        activity = s.scalars(select(Activity).where(Activity.deadline.is_not(None))).first()
        owners = {o.organisation_id for o in activity.owners}
        owner = next(
            p for p in s.scalars(select(Person).where(Person.is_contact)) if p.organisation_id in owners
        )
        deputy = s.scalars(select(Person).where(Person.is_contact.is_(False), Person.id != owner.id)).first()
        in_may = datetime(2012, 5, 15, 9, tzinfo=stockholm)
        assert not may(s, deputy, Action.DONE, activity, in_may)
        s.add(
            Absence(
                agreement_id=owner.agreement_id,
                person_id=owner.id,
                deputy_id=deputy.id,
                starts_on=date(2012, 5, 1),
                ends_on=date(2012, 5, 31),
                created_at=NOW,
                created_by="system",
            )
        )
        s.flush()
        # The edges are Stockholm's midnights (UTC is two hours behind in May).
        for local, allowed in (
            (datetime(2012, 4, 30, 23, 59, tzinfo=stockholm), False),
            (datetime(2012, 5, 1, 0, 0, tzinfo=stockholm), True),
            (in_may, True),
            (datetime(2012, 5, 31, 23, 59, tzinfo=stockholm), True),
            (datetime(2012, 6, 1, 0, 0, tzinfo=stockholm), False),
        ):
            assert may(s, deputy, Action.DONE, activity, local.astimezone(UTC)) is allowed, local
        assert may(s, owner, Action.DONE, activity, in_may)  # the absent person keeps theirs


def test_an_administrator_without_a_person_reads_but_may_not_change_and_an_archived_agreement_is_read_only(
    desk,
):
    from workflow.agreement.models import Admin

    app, sessions, url = desk
    with transaction(sessions) as s:
        s.add(Admin(email="admin@example.org", added_at=NOW, added_by="system"))
    admin = signed_in(app, "admin@example.org")
    assert admin.get(f"{BASE}/people").status_code == 200
    before = dump(url)
    refused = post(admin, f"{BASE}/people", f"{BASE}/meetings/council-2012-2/cancel", reason="x")
    assert refused.status_code == 403 and "inte en av dess personer" in refused.text
    assert dump(url) == before
    with transaction(sessions) as s:
        s.scalar(select(Agreement).where(Agreement.key == AGREEMENT)).archived_at = NOW
    before = dump(url)
    coordinator = signed_in(app, COORDINATOR)
    refused = post(coordinator, f"{BASE}/people", f"{BASE}/meetings/council-2012-2/cancel", reason="x")
    assert refused.status_code == 403
    assert dump(url) == before


def test_a_meeting_moved_on_the_desk_sends_the_invited_an_update_with_a_higher_sequence(desk):
    app, sessions, _ = desk
    invited_at = datetime(2012, 4, 5, 9, tzinfo=UTC)  # council-2012-2 (10 April) has had its invitations
    sweep(sessions, invited_at, ran_at=invited_at)
    client = signed_in(app, COORDINATOR)
    page = f"{BASE}/meetings/council-2012-2"
    moved = post(client, page, f"{page}/reschedule", starts_at="2012-04-12T13:00", minutes="120", location="")
    assert moved.status_code == 303
    sweep(sessions, invited_at + timedelta(minutes=5), ran_at=invited_at + timedelta(minutes=5))
    with sessions() as s:
        meeting = s.scalar(select(Meeting).where(Meeting.key == "council-2012-2"))
        updates = s.scalars(
            select(Notice).where(Notice.rule == "meeting_update", Notice.subject_id == meeting.id)
        ).all()
        assert meeting.sequence == 1
        assert updates and {n.payload["sequence"] for n in updates} == {1}
        assert {n.recipient_id for n in updates} == {i.person_id for i in meeting.invitees}


def test_a_notice_drafted_late_goes_to_whoever_stands_in_when_it_is_drafted(desk):
    """The engine catches up after days down: a reminder due before the absence began, drafted
    during it, goes to the deputy — the person is away when it arrives."""
    app, sessions, _ = desk
    client = signed_in(app, COORDINATOR)
    owner_id, deputy_id, deadline = _first_deadline_owner_and_deputy(sessions)
    start, end = deadline - timedelta(days=2), deadline + timedelta(days=1)
    _set_absence(client, owner_id, deputy_id, start, end)
    late = datetime.combine(start, datetime.min.time(), tzinfo=UTC) + timedelta(hours=9)
    sweep(sessions, late, ran_at=late)  # the first sweep in weeks
    with sessions() as s:
        earlier = s.scalars(
            select(Notice).where(
                Notice.key.contains(f"/{owner_id}/"), Notice.due_at < late - timedelta(days=1)
            )
        ).all()
        assert earlier, "the catch-up drafts a notice that was due before the absence"
        assert {n.recipient_id for n in earlier} == {deputy_id}
