"""People answer from their mail in a real browser: each flow starts from an `.eml` the file transport wrote.

Debian's Chromium under Playwright opens the link found by its label in the mail's text part, the
page shows the item and a button, the POST acts; what follows is read again from the next mails.
Every page visited has no axe-core violation (WCAG 2.1 A/AA), is photographed at 1280 and 390 px
under var/screenshots/ and does not scroll sideways on the phone. The Härnösand agreement's
calendar gives the instants (tests/test_email_snapshots.py lists which sweep sends what).
"""

from __future__ import annotations

import pytest

pytest.register_assert_rewrite("tests.web_browser")  # before its import: its asserts explain themselves

from tests.web_browser import link, looked_at, of_kind, one, recipient, summary, text_of  # noqa: E402

pytest_plugins = ("tests.web_browser",)  # its fixtures: browser, page, live_server
pytestmark = pytest.mark.slow  # a web server process and a browser

MARIA, JOHAN, EVA = "maria.lund@example.org", "johan.berg@example.org", "eva.strom@example.org"
ANNA, KARIN, ERIK = "anna.sjoberg@example.org", "karin.ek@example.org", "erik.holm@example.org"
FRED, THOMAS = "fred.nilsson@example.org", "thomas.nyberg@example.org"
CONTACTS = "Kontaktuppgifter ska lämnas mellan polis och skola"  # Maria's and Johan's, due 28 Dec 2012
TRAINING = "Utbildningsdagar för åk 6 och information till föräldrar"  # five owners, due 20 Dec 2012
COUNCIL_INVITED = 7  # the six council members and the secretary


def press(page, name: str) -> None:
    """Press the button a person sees (by its accessible name) and wait for the page it leads to."""
    with page.expect_navigation():
        page.get_by_role("button", name=name, exact=True).click()


def answer_status(page, url: str) -> int:
    """Open `url` and return the HTTP status of the page shown."""
    response = page.goto(url)
    assert response is not None
    return response.status


def tampered(url: str) -> str:
    """The link with one character of its token changed (one in the middle: all six bits count)."""
    base, token = url.rsplit("/", 1)
    at = next(i for i in range(len(token) // 2, len(token)) if token[i].isalnum())
    return f"{base}/{token[:at]}{'x' if token[at] != 'x' else 'y'}{token[at + 1 :]}"


def test_the_done_link_marks_the_activity_done_and_the_next_sweep_reminds_nobody_of_it(page, live_server):
    server = live_server("2012-12-14T08:05:00+01:00")
    reminder = one(server.sweep("2012-12-14T08:00:00+01:00"), "reminder", MARIA)
    url = link(reminder, "Klart")

    assert answer_status(page, url) == 200
    assert CONTACTS in page.content()
    looked_at(page, "done-link")
    press(page, "Klart")
    looked_at(page, "done-answered")

    # The same link again: what was done, by whom; the button is gone.
    assert answer_status(page, url) == 200
    assert "Maria Lund" in page.inner_text("main")
    assert page.get_by_role("button", name="Klart", exact=True).count() == 0
    looked_at(page, "done-used")

    # 20 December would have reminded Maria (and Johan in his digest) of it; now nobody is.
    later = server.sweep("2012-12-20T08:00:00+01:00")
    assert of_kind(later, "reminder", EVA), summary(later)  # the ladder runs on for the others
    assert not [m for m in later if CONTACTS in text_of(m)], summary(later)
    overdue = server.sweep("2013-01-02T08:00:00+01:00")
    assert not [m for m in overdue if CONTACTS in text_of(m)], summary(overdue)


def test_a_progress_note_from_the_monthly_reminder_appears_in_the_next_check_in_report(page, live_server):
    server = live_server("2012-05-31T08:05:00+02:00")
    reminder = one(server.sweep("2012-05-31T08:00:00+02:00"), "reminder", JOHAN)
    assert "Klart:" not in text_of(reminder)  # a recurring follow-up is never done: progress only
    note = "Arbetsgruppen träffades 29 maj; tre ärenden följs upp av frivården."

    page.goto(link(reminder, "Rapportera läget"))
    looked_at(page, "progress-link")
    page.fill("[name=note]", note)
    press(page, "Rapportera läget")
    looked_at(page, "progress-answered")

    report = one(server.sweep("2012-06-05T08:00:00+02:00"), "checkin_report", ANNA)
    assert note in text_of(report)


def test_a_new_date_asked_for_and_approved_is_the_one_the_next_reminder_names(page, live_server):
    server = live_server("2012-12-14T08:05:00+01:00")
    reminder = one(server.sweep("2012-12-14T08:00:00+01:00"), "reminder", EVA)

    page.goto(link(reminder, "Begär ny slutdag"))
    looked_at(page, "extend-link")
    page.fill("[name=new_deadline]", "2013-01-31")
    page.fill("[name=reason]", "Skolorna kan först ta emot oss efter jullovet.")
    press(page, "Begär ny slutdag")
    looked_at(page, "extend-answered")

    request = one(server.mails_sent_at_once("extension_request", ANNA), "extension_request", ANNA)
    assert "31 januari 2013" in text_of(request) and "efter jullovet" in text_of(request)
    page.goto(link(request, "Avslå"))
    looked_at(page, "refuse-link")  # looked at only: the coordinator approves
    page.goto(link(request, "Godkänn"))
    looked_at(page, "approve-link")
    press(page, "Godkänn")
    looked_at(page, "approve-answered")

    decision = one(server.mails_sent_at_once("extension_decision", EVA), "extension_decision", EVA)
    assert "31 januari 2013" in text_of(decision)
    # 20 December is no longer her last day: no overdue notice the day after.
    after = server.sweep("2012-12-21T08:00:00+01:00")
    assert not of_kind(after, "overdue", EVA), summary(after)
    nearer = one(server.sweep("2013-01-28T08:00:00+01:00"), "reminder", EVA)
    assert TRAINING in text_of(nearer) and "31 januari 2013" in text_of(nearer)


def test_declining_with_a_deputy_sends_the_deputy_the_invitation(page, live_server):
    # The June check-in invites the coordinator and the community police officer only, so
    # Johan's colleague Thomas Nyberg (polisen, not invited) may go in his place. (At a council
    # meeting everyone of the invitees' organisations is invited already: no deputy to name.)
    server = live_server("2012-05-31T08:05:00+02:00")
    invitation = one(server.sweep("2012-05-31T08:00:00+02:00"), "checkin_invitation", JOHAN)

    page.goto(link(invitation, "Jag kommer inte"))
    looked_at(page, "decline-link")
    page.select_option("[name=deputy]", label="Thomas Nyberg")
    press(page, "Jag kommer inte")
    looked_at(page, "decline-answered")
    assert "Thomas Nyberg" in page.inner_text("main")

    invited = of_kind(server.sweep("2012-06-01T08:00:00+02:00"), "checkin_invitation")  # the next morning
    assert [recipient(m) for m in invited] == [THOMAS], summary(invited)
    assert "7 juni 2012" in text_of(invited[0])


def test_the_secretarys_minutes_with_attendance_go_to_everyone_invited(page, live_server):
    server = live_server("2012-02-07T08:05:00+01:00")
    invitations = server.sweep("2012-02-07T08:00:00+01:00")
    assert len(of_kind(invitations, "invitation")) == COUNCIL_INVITED, summary(invitations)
    page.goto(link(one(invitations, "invitation", JOHAN), "Jag kommer"))
    looked_at(page, "attend-link")
    press(page, "Jag kommer")
    looked_at(page, "attend-answered")

    server.move_to("2012-02-15T08:05:00+01:00")  # the day after the meeting
    request = one(server.sweep("2012-02-15T08:00:00+01:00"), "minutes_request", KARIN)
    page.goto(link(request, "Lämna mötesanteckningar"))
    looked_at(page, "minutes-link")
    johan = page.get_by_label("Johan Berg")
    assert johan.is_checked()  # pre-filled from his answer
    assert not page.get_by_label("Maria Lund").is_checked()
    for name in ("Fred Nilsson", "Anna Sjöberg", "Karin Ek"):
        page.get_by_label(name).check()
    page.fill("[name=text]", "1. Mötet öppnades.\n2. Lägesbilden från polis och kommun.\n3. Övriga frågor.")
    press(page, "Lämna mötesanteckningar")
    looked_at(page, "minutes-answered")

    minutes = of_kind(server.sweep("2012-02-16T08:00:00+01:00"), "minutes")
    assert len(minutes) == COUNCIL_INVITED, summary(minutes)
    assert all("Lägesbilden från polis och kommun" in text_of(m) for m in minutes)
    attended = text_of(minutes[0])
    assert all(n in attended for n in ("Fred Nilsson", "Anna Sjöberg", "Karin Ek", "Johan Berg"))


def test_signing_in_by_a_mailed_link_opens_my_tasks(page, live_server):
    server = live_server("2012-12-14T08:05:00+01:00")
    maria_reminder = one(server.sweep("2012-12-14T08:00:00+01:00"), "reminder", MARIA)

    page.goto(f"{server.base_url}/sign-in")
    looked_at(page, "sign-in")
    page.fill("[name=email]", JOHAN)
    press(page, "Skicka en inloggningslänk")
    looked_at(page, "sign-in-sent")

    mail = one(server.mails_sent_at_once("sign_in", JOHAN), "sign_in", JOHAN)
    page.goto(link(mail, "Logga in"))
    looked_at(page, "sign-in-link")
    press(page, "Logga in")
    assert page.url == f"{server.base_url}/me", page.url
    assert TRAINING in page.inner_text("main")  # one of Johan's activities
    looked_at(page, "me")

    # Signed in as Johan, Maria's link is not his to use.
    assert answer_status(page, link(maria_reminder, "Klart")) == 403
    looked_at(page, "error-not-yours")


def test_an_agenda_item_an_acknowledged_delay_and_the_refused_links_have_accessible_pages(page, live_server):
    """The links of an agenda call and an escalation, and the pages of a link that cannot be
    used: expired, tampered, and an address that is no page."""
    server = live_server("2012-01-31T08:05:00+01:00")
    agenda_call = one(server.sweep("2012-01-31T08:00:00+01:00"), "agenda_call", ANNA)
    propose = link(agenda_call, "Föreslå en punkt")
    page.goto(propose)
    looked_at(page, "propose-link")
    page.fill("[name=title]", "Trygghetsvandring i centrum inför sommaren")
    press(page, "Föreslå en punkt")
    looked_at(page, "propose-answered")

    server.move_to("2012-12-14T08:05:00+01:00")
    escalation = one(server.sweep("2012-12-14T08:00:00+01:00"), "escalation", FRED)
    ack = link(escalation, "Jag har sett förseningen")
    page.goto(ack)
    looked_at(page, "ack-link")
    press(page, "Jag har sett förseningen")
    looked_at(page, "ack-answered")

    assert answer_status(page, propose) == 410  # its 30 days are long past
    looked_at(page, "error-expired")
    assert answer_status(page, tampered(ack)) == 400
    looked_at(page, "error-tampered")
    assert answer_status(page, f"{server.base_url}/no-such-page") == 404
    looked_at(page, "error-not-found")
