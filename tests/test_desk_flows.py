"""The coordinator's desk and the leadership's overview in a real browser, from sign-in to the mails that follow.

Debian's Chromium under Playwright drives a live `trygg web` (tests/web_browser.py: its clock in
the Härnösand agreement's time, mails as `.eml` files, sweeps with `trygg sweep --now`). Anna
Sjöberg, the coordinator, signs in by a mailed link and works the desk: the revised plan, the
cycle's steps, a meeting moved, an extension approved, an absence with a deputy; then the
overview of two agreements and the yearly report as PDF. Every page visited has no axe-core
violation and is photographed at 1280 and 390 px (var/screenshots/flow-*).
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

pytest.register_assert_rewrite("tests.web_browser")  # before its import: its asserts explain themselves

from tests.conftest import IN_CI, SEED  # noqa: E402
from tests.web_browser import SCREENSHOTS, link, looked_at, of_kind, one, recipient, summary, text_of  # noqa: E402
from workflow.db import make_engine, session_factory  # noqa: E402
from workflow.desk.overview import leadership_overview  # noqa: E402
from workflow.meetings.models import Meeting  # noqa: E402
from workflow.plan.models import Activity  # noqa: E402

pytest_plugins = ("tests.web_browser",)  # its fixtures: browser, page, live_server
pytestmark = pytest.mark.slow  # a web server process and a browser

ANNA = "anna.sjoberg@example.org"  # the coordinator
DESK = "/agreements/harnosand-2012-2013"
# The revised plan: the seed's text as copied from Word, with one När changed, one row removed,
# one added and one footnote changed (the same four as tests/test_desk_part2.py).
REVISIONS = [
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
MARIA, EVA, ERIK = "maria.lund@example.org", "eva.strom@example.org", "erik.holm@example.org"
CONTACTS = "Kontaktuppgifter ska lämnas mellan polis och skola"  # Maria's and Johan's, due 28 Dec 2012
TRAINING = "Utbildningsdagar för åk 6 och information till föräldrar"  # Eva's among five, due 20 Dec 2012
STOCKHOLM = ZoneInfo("Europe/Stockholm")
ADDED = "Bjuda in handlarna i centrum till en egen kvällsvandring"
REMOVED = "Öka och aktualisera anmälningar enligt LVM"


def press(page, name: str) -> None:
    """Press the button a person sees (by its accessible name) and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def sign_in(page, server, email: str = ANNA) -> None:
    """Sign in as a person does: the address on /sign-in, the mailed link, *Logga in*."""
    page.goto(f"{server.base_url}/sign-in")
    looked_at(page, "flow-sign-in")
    page.fill("[name=email]", email)
    press(page, "Skicka en inloggningslänk")
    mail = one(server.mails_sent_at_once("sign_in", email), "sign_in", email)
    page.goto(link(mail, "Logga in"))
    press(page, "Logga in")
    assert page.url == f"{server.base_url}/me", page.url
    looked_at(page, "flow-me")


def revised_plan(folder) -> str:
    text = SEED.read_text(encoding="utf-8")
    for old, new in REVISIONS:
        assert text.count(old) == 1, old
        text = text.replace(old, new)
    path = folder / "reviderad-plan.txt"
    path.write_text(text, encoding="utf-8")
    return str(path)


def upload(page, path: str) -> None:
    page.set_input_files("#plan-file", path)
    page.fill("#plan-year", "2012")
    press(page, "Visa vad den ändrar")


def diff_rows(page) -> list[tuple[str, str, str]]:
    """The diff's rows as (what, change, field)."""
    rows = []
    for row in page.locator("section[aria-labelledby=diff-title] tbody tr").all():
        cells = [c.inner_text().strip() for c in row.locator("td").all()]
        rows.append((cells[0].splitlines()[0], cells[1], cells[2] if len(cells) > 3 else ""))
    return rows


def reading(server):
    """Sessions on the server's database, to read what the pages should show (never to write)."""
    return session_factory(make_engine(server.db_url))


def test_the_revised_plan_shows_exactly_its_four_changes_and_the_next_sweep_follows_it(
    page, live_server, tmp_path
):
    server = live_server("2012-03-01T09:00:00+01:00")
    sign_in(page, server)
    page.goto(server.base_url + DESK)
    looked_at(page, "flow-desk-home")
    page.goto(server.base_url + DESK + "/plan")
    looked_at(page, "flow-plan")

    # The seed as the plan of 2012 first (the agreement file words a few fields otherwise), then
    # the revision: its diff is the four changes made to the text, nothing else.
    upload(page, str(SEED))
    press(page, "Importera som planen för 2012")
    page.goto(server.base_url + DESK + "/plan")
    upload(page, revised_plan(tmp_path))
    looked_at(page, "flow-plan-diff")
    rows = diff_rows(page)
    assert sorted((change, field) for _what, change, field in rows) == [
        ("borttagen", ""),
        ("tillagd", ""),
        ("ändrade", "Fotnoter"),
        ("ändrade", "När"),
    ], rows
    titles = {what for what, _change, _field in rows}
    assert ADDED in titles and any(t.startswith(REMOVED) for t in titles), rows
    assert "Återskapa rutiner kring arbete med grannsamverkan" in titles
    assert "Trygga medborgare i ett tryggt centrum" in titles  # the area whose footnote changed
    diff = page.inner_text("section[aria-labelledby=diff-title]")
    assert "Under hösten 2012" in diff and "trygghetsundersökning 2011." in diff

    press(page, "Importera som planen för 2012")
    looked_at(page, "flow-plan-version")
    assert ADDED in page.inner_text("main") and REMOVED not in page.inner_text("main")

    # The next sweep follows the new plan: on the autumn's last day the added activity and the
    # one now due in the autumn are reminded of; the removed one never again.
    with reading(server)() as session:
        added = session.scalar(select(Activity).where(Activity.title == ADDED))
        moved = session.scalar(select(Activity).where(Activity.title.startswith("Återskapa rutiner")))
        assert added is not None and added.deadline == moved.deadline, (added, moved)
        due = added.deadline
    mails = server.sweep(f"{due.isoformat()}T08:00:00+01:00")
    personal = [m for m in mails if m["X-Trygg-Kind"] in ("reminder", "digest")]
    assert any(ADDED in text_of(m) for m in personal), summary(mails)
    assert any("Återskapa rutiner kring arbete med grannsamverkan" in text_of(m) for m in personal)
    assert not any(REMOVED in text_of(m) for m in mails), summary(mails)


def test_step_one_closes_with_its_deliverables_and_step_two_is_overridden_with_a_reason(page, live_server):
    server = live_server("2012-03-01T09:00:00+01:00")
    sign_in(page, server)
    page.goto(server.base_url + DESK + "/cycle")
    looked_at(page, "flow-cycle")

    step1 = page.locator("form", has=page.locator("#note-1"))
    boxes = step1.locator("input[name=deliverable]")
    deliverables = boxes.count()
    assert deliverables > 0, "step 1 lists its deliverables"
    for box in boxes.all():
        box.check()
    page.fill("#note-1", "Polisens och kommunens fakta är samlade.")
    with page.expect_navigation():
        step1.get_by_role("button", name="Stäng steget", exact=True).click()
    looked_at(page, "flow-cycle-step-1-closed")

    step2 = page.locator("form", has=page.locator("#reason-2"))
    step2.locator("details > summary").click()  # the override is folded away under the step
    page.fill("#reason-2", "Lägesbilden togs fram i rådet utan skriftlig rapport.")
    with page.expect_navigation():
        page.locator("form", has=page.locator("#reason-2")).get_by_role(
            "button", name="Åsidosätt och stäng", exact=True
        ).click()
    looked_at(page, "flow-cycle-step-2-overridden")
    steps = page.locator("main section.step")
    first = steps.filter(has_text="1. Kommunen och polisen samlar in fakta").first.inner_text()
    second = steps.filter(has_text="2. En gemensam lägesbild").first.inner_text()
    assert "stängt" in first and first.count("av Anna Sjöberg") == deliverables, first
    assert "stängt" in second and "Åsidosatt: Lägesbilden togs fram i rådet utan skriftlig rapport." in second

    # Both are the coordinator's, on the web, in the audit log.
    page.goto(server.base_url + DESK + "/audit")
    page.locator("#f-actor").select_option(label="Anna Sjöberg")
    press(page, "Visa")
    looked_at(page, "flow-audit")
    audit = page.inner_text("main")
    assert "Anna Sjöberg" in audit and "Lägesbilden togs fram i rådet" in audit


def calendar_parts(mail) -> list[str]:
    return [part.get_content() for part in mail.walk() if part.get_content_type() == "text/calendar"]


def sequence_of(mail) -> tuple[str, int]:
    """The UID and SEQUENCE of the mail's calendar part."""
    (ics,) = calendar_parts(mail)
    event = ics.split("BEGIN:VEVENT", 1)[1]
    uid = re.search(r"^UID:(.+)$", event, re.MULTILINE).group(1).strip()
    return uid, int(re.search(r"^SEQUENCE:(\d+)", event, re.MULTILINE).group(1))


def test_a_moved_meeting_sends_everyone_invited_an_update_with_a_higher_sequence(page, live_server):
    server = live_server("2012-03-01T09:00:00+01:00")
    with reading(server)() as session:
        meeting = session.scalar(
            select(Meeting)
            .where(Meeting.key.startswith("council-"), Meeting.starts_at > datetime(2012, 3, 1, tzinfo=UTC))
            .order_by(Meeting.starts_at)
        )
        key, starts = meeting.key, meeting.starts_at.astimezone(STOCKHOLM)
    invited_on = (starts - timedelta(days=7)).date()
    server.move_to(f"{invited_on.isoformat()}T08:05:00+01:00")
    invitations = of_kind(server.sweep(f"{invited_on.isoformat()}T08:00:00+01:00"), "invitation")
    assert invitations, f"no invitation to {key} a week before it"
    before = {recipient(m): sequence_of(m) for m in invitations}

    sign_in(page, server)
    page.goto(f"{server.base_url}{DESK}/meetings")
    looked_at(page, "flow-meetings")
    page.goto(f"{server.base_url}{DESK}/meetings/{key}")
    looked_at(page, "flow-meeting")
    later = starts + timedelta(days=1)
    page.fill("#starts-at", later.strftime("%Y-%m-%dT%H:%M"))
    press(page, "Flytta mötet (de inbjudna får en uppdatering)")
    looked_at(page, "flow-meeting-moved")

    updates = of_kind(server.mails_sent_at_once("meeting_update"), "meeting_update")
    assert {recipient(m) for m in updates} >= set(before), summary(updates)
    for mail in updates:
        uid, sequence = sequence_of(mail)
        if recipient(mail) in before:
            assert uid == before[recipient(mail)][0], "the update is not the same calendar event"
            assert sequence > before[recipient(mail)][1], (recipient(mail), sequence, before[recipient(mail)])
        event = calendar_parts(mail)[0].split("BEGIN:VEVENT", 1)[1]  # not the time zone's own DTSTART
        start = re.search(r"^DTSTART[^:]*:(\S+)", event, re.MULTILINE).group(1)
        assert start in (later.strftime("%Y%m%dT%H%M%S"), later.astimezone(UTC).strftime("%Y%m%dT%H%M%SZ"))


def in_other_browser(page):
    """A page of a second browser (no cookies): the officer who answers from their own mail."""
    context = page.context.browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
    context.set_default_timeout(15_000)
    return context.new_page()


def test_in_december_an_absence_sends_the_next_reminder_to_the_deputy_and_an_extension_is_approved(
    page, live_server
):
    server = live_server("2012-12-14T07:30:00+01:00")
    sign_in(page, server)

    # Maria Lund is away over Christmas; Erik Holm stands in for her.
    page.goto(server.base_url + DESK + "/people")
    looked_at(page, "flow-people")
    page.locator("#absence-person").select_option(label="Maria Lund")
    page.locator("#absence-deputy").select_option(label="Erik Holm")
    # From Monday: the reminder this Friday catches up its stage due on Tuesday the 11th, and a
    # notice goes to whoever stands in on its due day (workflow/outbox/stand_ins.py).
    page.fill("#absence-from", "2012-12-10")
    page.fill("#absence-to", "2013-01-06")
    page.fill("#absence-note", "Föräldraledig över jul")
    press(page, "Lägg till frånvaron")
    looked_at(page, "flow-people-absence")
    assert "Erik Holm" in page.inner_text("#absences")

    mails = server.sweep("2012-12-14T08:00:00+01:00")
    assert not [m for m in mails if recipient(m) == MARIA], [
        text_of(m) for m in mails if recipient(m) == MARIA
    ]
    for_maria = [m for m in mails if recipient(m) == ERIK and "På uppdrag av Maria Lund" in text_of(m)]
    assert for_maria, summary(mails)
    assert CONTACTS in text_of(for_maria[0])
    assert "På uppdrag av Maria Lund" in for_maria[0].get_body(("html",)).get_content()

    # Eva asks for a new date from her reminder, in her own browser; Anna approves on the desk.
    reminder = one(mails, "reminder", EVA)
    officer = in_other_browser(page)
    officer.goto(link(reminder, "Begär ny slutdag"))
    officer.fill("[name=new_deadline]", "2013-01-31")
    officer.fill("[name=reason]", "Skolorna kan först ta emot oss efter jullovet.")
    press(officer, "Begär ny slutdag")
    officer.context.close()
    server.mails_sent_at_once("extension_request")

    page.goto(server.base_url + DESK + "/requests")
    looked_at(page, "flow-requests")
    request = page.locator("form", has_text="Eva Ström")
    assert "31 januari 2013" in page.inner_text("main"), page.inner_text("main")
    with page.expect_navigation():
        request.get_by_role("button", name="Godkänn", exact=True).click()
    looked_at(page, "flow-requests-decided")
    decision = one(server.mails_sent_at_once("extension_decision", EVA), "extension_decision", EVA)
    assert "31 januari 2013" in text_of(decision)

    # After Maria's last day, still away: the ladder names who stands in for her.
    ladder = server.sweep("2013-01-03T08:00:00+01:00")
    named = [m for m in ladder if "Erik Holm på uppdrag av Maria Lund" in text_of(m)]
    assert named, summary(ladder)
    assert not [m for m in ladder if recipient(m) == MARIA], summary(ladder)


def test_the_overview_of_two_agreements_shows_each_ones_on_time_rate_and_the_report_opens_as_pdf(
    page, live_server, tmp_path
):
    server = live_server("2012-12-14T08:05:00+01:00")
    # Maria does one of her activities on time; the rest of 2012's deadlines are late.
    reminder = one(server.sweep("2012-12-14T08:00:00+01:00"), "reminder", MARIA)
    officer = in_other_browser(page)
    officer.goto(link(reminder, "Klart", after=CONTACTS))
    press(officer, "Klart")
    officer.context.close()
    # A second agreement, and Anna an administrator of the deployment: her overview shows both.
    synthetic = tmp_path / "syntetisk.yaml"
    server.cli("synthetic", str(synthetic), "--around", "2012-09-15", "--activities", "12", "--people", "6")
    server.cli("load", str(synthetic))
    server.cli("admin", "add", ANNA)

    sign_in(page, server)
    page.goto(server.base_url + "/overview")
    looked_at(page, "flow-overview")
    with reading(server)() as session:
        rows = leadership_overview(session, None, datetime(2012, 12, 14, 8, 10, tzinfo=STOCKHOLM))
        expected = {row.title: row.verdict(2012) for row in rows}
    assert len(expected) == 2, expected
    for title, verdict in expected.items():
        shown = page.locator("table.overview tbody tr", has_text=title).locator("td").first.inner_text()
        assert shown.strip() == ("–" if verdict.percent is None else f"{verdict.percent} %"), (title, shown)
    harnosand = next(v for t, v in expected.items() if "Härnösand" in t)
    assert harnosand.on_time >= 1 and harnosand.late >= 1, harnosand  # a rate that says something

    page.goto(f"{server.base_url}/agreements/harnosand-2012-2013/report/2012")
    looked_at(page, "flow-report")
    verdict = " ".join(page.inner_text("#verdict").split())
    assert re.fullmatch(r"(Preliminärt: )?\d+ av \d+ åtgärder? klara? i tid.*\.", verdict), verdict
    # The story's first line gives the overview's rate: one measure, read in one place.
    rate = " ".join(page.locator("#story li").first.inner_text().split())
    assert (
        f"{harnosand.due} sista dag" in rate and f"i tid: {harnosand.on_time} ({harnosand.percent} %)" in rate
    )
    answer = page.request.get(f"{server.base_url}/agreements/harnosand-2012-2013/report/2012.pdf")
    assert answer.status == 200 and answer.headers["content-type"] == "application/pdf"
    assert answer.body().startswith(b"%PDF")
    pdf = tmp_path / "arsrapport.pdf"
    pdf.write_bytes(answer.body())
    first_page = pdf_page_one(pdf, tmp_path)
    assert verdict in first_page and rate in first_page, (verdict, rate)


def pdf_page_one(pdf, folder) -> str:
    """Page 1 drawn by pdftoppm (it must render) and its text by pdftotext, whitespace folded."""
    missing = [tool for tool in ("pdftoppm", "pdftotext") if shutil.which(tool) is None]
    if missing:
        reason = f"no {', '.join(missing)} (poppler-utils; .ci/run installs it)"
        if IN_CI:
            pytest.fail(f"CI=true needs {reason}")
        pytest.skip(reason)
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "60", "-png", str(pdf), str(folder / "page")], check=True
    )
    (drawn,) = folder.glob("page*.png")
    assert drawn.read_bytes().startswith(b"\x89PNG") and drawn.stat().st_size > 5000, drawn
    shutil.copy(drawn, SCREENSHOTS / "flow-report-pdf-page-1.png")
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    )
    return " ".join(text.stdout.split())
