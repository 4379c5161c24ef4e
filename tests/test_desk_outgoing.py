"""*Vad som går ut*: the dry run of the next 7 days changes nothing and lists exactly what the real engine then sends."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy import select, text

from tests.desk_world import HOME, DeskWorld, make
from tests.web_world import dump
from workflow import models  # noqa: F401 (every table known to the metadata)
from workflow.agreement.models import Agreement
from workflow.clock import FixedClock
from workflow.db import Base
from workflow.desk.outgoing import send_instants, what_goes_out
from workflow.engine.sweep import sweep
from workflow.links.tokens import LinkSigner
from workflow.links.urls import LinkSettings
from workflow.outbox.delivery import claim_lease, deliver
from workflow.outbox.models import Mail
from workflow.outbox.transport import FileTransport

# The Monday before the deadlines of 2012-11-30: reminders, then the first overdue notices.
START = datetime(2012, 11, 26, 6, 30, tzinfo=UTC)
SENDER = "trygg@harnosand.example"


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2012, 1, 2, 7, 0, tzinfo=UTC))


def _snapshot(sessions) -> dict[str, list]:
    with sessions() as session:
        tables = [t.name for t in Base.metadata.sorted_tables]
        return {
            t: sorted(map(tuple, session.execute(text(f"SELECT * FROM {t}")).all()), key=repr) for t in tables
        }


def _agreement(sessions) -> tuple[int, str]:
    with sessions() as session:
        agreement = session.scalars(select(Agreement)).one()
        return agreement.id, agreement.key


def test_the_dry_run_changes_nothing_and_lists_what_the_real_sweep_then_sends(loaded, tmp_path):
    agreement_id, _key = _agreement(loaded)
    before = _snapshot(loaded)
    with loaded() as session:
        days = what_goes_out(session, agreement_id, START, 7, base_url="https://trygg.example", sender=SENDER)
    assert _snapshot(loaded) == before
    previewed = [(d.day, m.recipient_id, m.subject) for d in days for m in d.mails]
    assert len(days) == 7 and previewed, "reminders and overdue notices go out that week"

    with loaded() as session:
        instants = send_instants(session.get(Agreement, agreement_id), START, 7)
    links = LinkSettings("https://trygg.example", LinkSigner("k" * 48))
    sent = []
    for instant in instants:
        sweep(loaded, instant, ran_at=instant)
        done = deliver(
            loaded,
            FixedClock(instant),
            FileTransport(tmp_path / "mail"),
            sender=SENDER,
            lease=claim_lease(30),
            links=links,
        )
        with loaded() as session:
            for item in done.sent:
                mail = session.get(Mail, item["mail"])
                if mail.agreement_id == agreement_id:
                    day = days[instants.index(instant)].day
                    sent.append((day, mail.recipient_id, item["subject"]))
    assert sorted(sent) == sorted(previewed)


def test_a_preview_with_other_settings_follows_them_and_keeps_nothing(loaded):
    agreement_id, _key = _agreement(loaded)
    before = _snapshot(loaded)
    quiet = {"stages": [], "follow_up_stages": [], "escalation": []}
    with loaded() as session:
        days = what_goes_out(
            session,
            agreement_id,
            START,
            7,
            base_url="https://t.example",
            sender=SENDER,
            config={"reminders_config": quiet},
        )
        usual = what_goes_out(session, agreement_id, START, 7, base_url="https://t.example", sender=SENDER)
    kinds = {m.kind for d in days for m in d.mails}
    assert not kinds & {"reminder", "overdue", "escalation", "digest"}
    assert {m.kind for d in usual for m in d.mails} & {"reminder", "digest", "overdue"}
    assert _snapshot(loaded) == before
    with pytest.raises(ValueError):
        with loaded() as session:
            what_goes_out(session, agreement_id, START, 1, base_url="x", sender=SENDER, config={"title": "x"})


@pytest.fixture
def desk(tmp_path, sqlite_templates) -> DeskWorld:
    return make(tmp_path, sqlite_templates)


def test_the_page_lists_each_day_per_person_and_shows_each_mail_as_rendered(desk):
    client = desk.client(desk.coordinator.email, clock=FixedClock(START))
    before = dump(desk.world.url)
    page = client.get(HOME + "/outgoing")
    assert page.status_code == 200
    assert "2012-11-26" in page.text and "2012-12-02" in page.text
    link = f"{HOME}/outgoing/2012-11-27/1"
    assert link in page.text
    mail = client.get(link)
    assert mail.status_code == 200 and "<iframe" in mail.text and 'sandbox=""' in mail.text
    html = client.get(link + "/mail.html")
    assert html.status_code == 200 and "sandbox" in html.headers["Content-Security-Policy"]
    assert "script-src" not in html.headers["Content-Security-Policy"]
    assert client.get(f"{HOME}/outgoing/2012-11-27/999").status_code == 404
    assert client.get(f"{HOME}/outgoing/1999-01-01/1").status_code == 404
    assert client.get(f"{HOME}/outgoing/inte-ett-datum/1").status_code == 404
    assert dump(desk.world.url) == before


def test_preview_links_are_signed_with_a_key_of_the_moment(desk):
    client = desk.client(desk.coordinator.email, clock=FixedClock(START))
    body = client.get(f"{HOME}/outgoing/2012-11-27/1").text
    tokens = [part.split('"')[0].split("<")[0].split()[0] for part in body.split("/l/")[1:]]
    assert tokens, "the reminder carries its links"
    for token in tokens[:3]:
        answer = client.get(f"/l/{token}")
        assert answer.status_code == 400  # tampered: not signed with the deployment's key


def test_the_preview_of_one_agreement_lists_only_its_mails_and_leaves_the_other_untouched(loaded, tmp_path):
    from tests.conftest import HARNOSAND, load_file

    # A second partnership with the same plan: its deadlines fall on the same days as the first's.
    twin = tmp_path / "tvilling.yaml"
    twin.write_text(
        HARNOSAND.read_text(encoding="utf-8").replace("id: harnosand-2012-2013", "id: tvilling-2012-2013", 1),
        encoding="utf-8",
    )
    load_file(loaded, twin)
    with loaded() as session:
        ids = {a.key: a.id for a in session.scalars(select(Agreement))}
    first, second = ids["harnosand-2012-2013"], ids["tvilling-2012-2013"]
    before = _snapshot(loaded)
    with loaded() as session:
        days = what_goes_out(session, first, START, 7, base_url="https://trygg.example", sender=SENDER)
    assert _snapshot(loaded) == before
    previewed = [(d.day, m.recipient_id) for d in days for m in d.mails]
    assert previewed, "reminders and overdue notices of the first go out that week"

    # The real engine sends both agreements' mails that week; the preview named the first's only.
    with loaded() as session:
        people = {
            p_id: a_id
            for p_id, a_id in session.execute(
                text("SELECT id, agreement_id FROM people WHERE agreement_id IN (:a, :b)"),
                {"a": first, "b": second},
            )
        }
        instants = send_instants(session.get(Agreement, first), START, 7)
    assert {people[recipient] for _day, recipient in previewed} == {first}
    for instant in instants:
        sweep(loaded, instant, ran_at=instant)
    with loaded() as session:
        by_agreement = {a_id for (a_id,) in session.execute(select(Mail.agreement_id).distinct())}
    assert by_agreement == {first, second}
