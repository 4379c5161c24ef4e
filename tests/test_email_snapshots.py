"""Every kind of mail as the engine writes it, Swedish and English, compared with its stored snapshot.

No hand-written data: the Härnösand agreement runs through the command line (`trygg load`,
`trygg sweep --now`, `trygg meeting reschedule|cancel|minutes`) and, for what only the web does
(a new date asked for and approved, a sign-in), the workflow functions the web's links call, on a throwaway SQLite database with
the file transport, at a handful of instants of 2012 that between them produce every kind of mail;
one sweep goes through an SMTP server that refuses a recipient, which produces the delivery
failure. The English run is the same agreement with every person reading English.

`trygg load` has no clock but the system's: the status an activity gets at the load is dated
today; a mail shows "Läge: inte påbörjad" without it, and a report's date as its day. Every date of a year other
than the scenario's is masked in the snapshots, so that they do not change from day to day.

Of each kind the first mail (by sweep, then recipient) is kept as three files in
tests/snapshots/emails/<language>/: its headers and parts, its text part and its HTML part. A
change of wording or layout is a diff there. To accept one, run
`TRYGG_UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/test_email_snapshots.py` and review the diff.
"""

from __future__ import annotations

import os
import re
from datetime import date, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, ROOT, trygg
from tests.mail_links import BASE_URL, SECRET
from tests.smtp_server import Script, SmtpServer
from workflow.agreement.models import Person
from workflow.answers.extensions import decide_extension, request_extension
from workflow.answers.signin import request_sign_in
from workflow.audit import UnitOfWork
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction
from workflow.links.tokens import LinkSigner
from workflow.outbox.kinds import KINDS  # every kind the product sends has its snapshots
from workflow.plan.models import Activity, ExtensionRequest

SNAPSHOTS = Path(__file__).parent / "snapshots" / "emails"
UPDATE = os.environ.get("TRYGG_UPDATE_SNAPSHOTS") == "1"
LANGUAGES = ("sv", "en")
REFUSED = "johan.berg@example.org"
MINUTES = (
    "1. Mötet öppnades.\n2. Lägesbilden: <aktuella händelser> från polis och kommun.\n3. Övriga frågor.\n"
)

# One agreement file, a single run of one database as a coordinator would drive it through 2012.
# A sweep at 08:00 local on a working day sends what is due that morning.
SCENARIO: list[tuple[str, ...]] = [
    ("sweep", "2012-01-31T08:00:00+01:00"),  # 14 days before council-2012-1: the agenda call
    ("sweep", "2012-02-07T08:00:00+01:00"),  # 7 days before: the invitation with its calendar
    (
        "trygg",
        "meeting",
        "reschedule",
        "council-2012-1",
        "--start",
        "2012-02-21T09:00",
        "--location",
        "Polishuset",
    ),
    ("sweep", "2012-02-13T08:00:00+01:00"),  # the update to everyone invited
    ("sweep", "2012-02-22T08:00:00+01:00"),  # the day after the moved meeting: the secretary is asked
    ("minutes", "council-2012-1", "fred-nilsson,anna-sjoberg,karin-ek"),
    ("sweep", "2012-02-23T08:00:00+01:00"),  # the minutes to everyone invited
    ("sweep", "2012-04-03T08:00:00+02:00"),  # council-2012-2 is called
    (
        "trygg",
        "meeting",
        "cancel",
        "council-2012-2",
        "--reason",
        "För få kan komma; punkterna tas upp i september",
    ),
    ("sweep", "2012-04-04T08:00:00+02:00"),  # … and cancelled
    ("sweep", "2012-05-31T08:00:00+02:00"),  # the June check-in is called
    ("sweep", "2012-06-05T08:00:00+02:00"),  # its report, two days before
    ("sweep", "2012-12-03T08:00:00+01:00"),  # the evaluation: the yearly report to the leaderships
    ("smtp", "2012-12-17T08:00:00+01:00"),  # reminders and digests; one recipient refused for good
    ("sweep", "2013-01-02T08:00:00+01:00"),  # past the year-end deadlines: overdue
    ("sweep", "2013-01-09T08:00:00+01:00"),  # five working days on: escalated to the coordinator
    # What people answer on the web (no command line for it): a new date asked for by link and
    # approved by the coordinator, and a sign-in link; these mails go at once, not at 08:00.
    ("ask", "2013-01-09T09:00:00+01:00"),
    ("sweep", "2013-01-09T09:05:00+01:00"),
    ("approve", "2013-01-09T09:30:00+01:00"),
    ("sweep", "2013-01-09T09:35:00+01:00"),
    ("sweep", "2013-11-01T08:00:00+01:00"),  # sixty days before the period ends: renew or archive
]


def english(text: str) -> str:
    """The agreement file with every person, and the agreement itself, reading English."""
    text = re.sub(r"(?m)^    language: \w+\n", "", text)
    text = re.sub(r"(?m)^(    email: .+\n)", r"\1    language: en\n", text)
    return re.sub(r"(?m)^language: sv$", "language: en", text)


def run_scenario(folder: Path, language: str) -> list[EmailMessage]:
    """Every mail of the scenario, in the order of the sweeps, each sweep's by kind and recipient."""
    agreement = HARNOSAND
    if language == "en":
        agreement = folder / "harnosand-en.yaml"
        agreement.write_text(english(HARNOSAND.read_text(encoding="utf-8")), encoding="utf-8")
    mail_dir = folder / "mail"
    env = {
        "TRYGG_DATABASE_URL": f"sqlite:///{folder / 'trygg.db'}",
        "TRYGG_MAIL_DIR": str(mail_dir),
        "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
        "TRYGG_LANGUAGE": language,
        # A fixed key and address: the links, and so the snapshots, are the same on every run.
        "TRYGG_SECRET_KEY": SECRET,
        "TRYGG_BASE_URL": BASE_URL,
    }

    def cli(*args: str, **extra: str):
        result = trygg(*args, env={**env, **extra})
        assert result.returncode == 0, f"trygg {' '.join(args)}: {result.stderr}"
        return result

    cli("db", "upgrade")
    cli("load", str(agreement))
    seen: set[str] = set()
    mails: list[EmailMessage] = []
    for step, *args in SCENARIO:
        if step == "trygg":
            cli(*args)
            continue
        if step in ("ask", "approve"):
            answer_on_the_web(env["TRYGG_DATABASE_URL"], step, datetime.fromisoformat(args[0]))
            continue
        if step == "minutes":
            meeting, attended = args
            text = folder / f"{meeting}.md"
            text.write_text(MINUTES, encoding="utf-8")
            cli("meeting", "minutes", meeting, str(text), "--attended", attended)
            continue
        (instant,) = args
        batch: list[EmailMessage] = []
        if step == "smtp":
            server = SmtpServer(
                Script(refuse={REFUSED: f"550 5.1.1 <{REFUSED}>: Recipient address rejected"})
            )
            server.start()
            try:
                cli("sweep", "--now", instant, TRYGG_SMTP_URL=server.url)
            finally:
                server.stop()
            batch += server.messages
        else:
            cli("sweep", "--now", instant)
        new = (
            sorted(p.name for p in mail_dir.glob("*.eml") if p.name not in seen) if mail_dir.exists() else []
        )
        seen.update(new)
        batch += [message_from_bytes((mail_dir / name).read_bytes(), policy=policy.default) for name in new]
        mails += sorted(batch, key=lambda m: (m["X-Trygg-Kind"], m["To"].addresses[0].addr_spec))
    return mails


def answer_on_the_web(url: str, step: str, instant: datetime) -> None:
    """ask: Johan Berg asks for a new date; approve: Anna Sjöberg approves it, and Maria Lund
    asks to sign in. The same workflow functions as the web's links, in process."""
    engine = make_engine(url)
    clock = FixedClock(instant)
    try:
        with transaction(session_factory(engine)) as session:
            people = {p.key: p for p in session.scalars(select(Person))}
            johan, anna = people["johan-berg"], people["anna-sjoberg"]
            if step == "ask":
                activity = session.scalar(select(Activity).where(Activity.key == "ung-kontaktuppgifter"))
                unit = UnitOfWork(session, clock, f"person:{johan.id}")
                request_extension(unit, activity, johan, date(2013, 2, 28), "Skolorna har inte svarat")
                return
            request = session.scalar(select(ExtensionRequest))
            decide_extension(UnitOfWork(session, clock, f"person:{anna.id}"), request, True, "Godkänt")
            request_sign_in(session, clock, "maria.lund@example.org")
    finally:
        engine.dispose()


@pytest.fixture(scope="module", params=LANGUAGES)
def scenario(request, tmp_path_factory) -> tuple[str, dict[str, EmailMessage], list[EmailMessage]]:
    """(language, the first mail of each kind in that language, every mail of the run)."""
    language = request.param
    mails = run_scenario(tmp_path_factory.mktemp(f"mails-{language}"), language)
    first: dict[str, EmailMessage] = {}
    for mail in mails:
        # A meeting mail's snapshot is an invited member's; the convener's copy is checked apart.
        if mail["Content-Language"] == language and not convener_copy(mail):
            first.setdefault(mail["X-Trygg-Kind"], mail)
    return language, first, mails


def convener_copy(mail: EmailMessage) -> bool:
    """The coordinator's own copy of a meeting mail: its calendar part a PUBLISH, not a request."""
    return any(
        p.get_param("method") == "PUBLISH" for p in mail.walk() if p.get_content_type() == "text/calendar"
    )


# "28 november 2026 kl. 09:11" / "28 November 2026 at 09:11": not 2012–2014 (2014: the grace after the
# period, in the agreement_ending mail), so the system clock.
TODAY = re.compile(r"\b\d{1,2} [^\W\d]+ (?!2012\b|2013\b|2014\b)\d{4}(?: (?:kl\.|at) \d{2}:\d{2})?")


def check_snapshot(path: Path, actual: str) -> None:
    actual = TODAY.sub("⟨when trygg load ran⟩", actual)
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with TRYGG_UPDATE_SNAPSHOTS=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs (TRYGG_UPDATE_SNAPSHOTS=1 accepts)"


def parts(mail: EmailMessage) -> list[str]:
    out = []
    for part in mail.walk():
        described = part.get_content_type()
        if part.get_filename():
            described += f" ({part.get_content_disposition()}: {part.get_filename()})"
        elif part.get_param("method"):
            described += f" (method={part.get_param('method')})"
        out.append(described)
    return out


def headers(mail: EmailMessage) -> str:
    """What a reader sees of a mail besides its body, and its structure (ids left out: they count mails)."""
    names = (
        "Subject",
        "From",
        "To",
        "Reply-To",
        "Date",
        "Content-Language",
        "X-Trygg-Kind",
        "Auto-Submitted",
    )
    lines = [f"{name}: {mail[name]}" for name in names if mail[name] is not None]
    return "\n".join([*lines, "", "Parts:", *(f"  {p}" for p in parts(mail))]) + "\n"


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_of_mail_matches_its_snapshot(scenario, kind):
    language, first, _ = scenario
    assert kind in first, f"the scenario sent no {kind} mail in {language}: {sorted(first)}"
    mail = first[kind]
    folder = SNAPSHOTS / language
    check_snapshot(folder / f"{kind}.headers.txt", headers(mail))
    check_snapshot(folder / f"{kind}.txt", mail.get_body(("plain",)).get_content())
    check_snapshot(folder / f"{kind}.html", mail.get_body(("html",)).get_content())


def test_the_scenario_sends_every_kind_and_no_other(scenario):
    language, first, mails = scenario
    assert set(first) == set(KINDS)
    assert {m["X-Trygg-Kind"] for m in mails} == set(KINDS)


def test_every_template_on_disk_has_a_snapshot_and_every_snapshot_a_template():
    templates = ROOT / "templates" / "emails"  # one per kind and part; the words come from the catalogues
    kinds = {p.name.split(".")[0] for p in templates.glob("*.j2") if not p.name.startswith("_")}
    assert kinds == set(KINDS), "a template without a snapshot test, or the reverse"
    for language in LANGUAGES:
        snapshots = {p.name.split(".")[0] for p in (SNAPSHOTS / language).iterdir()}
        assert snapshots <= set(KINDS), f"{language}: a snapshot of no kind: {sorted(snapshots - set(KINDS))}"


def test_every_mail_carries_the_products_headers_and_both_parts(scenario):
    language, _, mails = scenario
    for mail in mails:
        assert mail["Auto-Submitted"] == "auto-generated"
        assert mail["X-Trygg-Kind"] in KINDS
        assert re.fullmatch(r"<trygg\.harnosand-2012-2013\.mail-\d+@example\.org>", mail["Message-ID"])
        assert mail["From"] == "trygg <trygg@example.org>"
        assert mail["Reply-To"].addresses[0].addr_spec == "anna.sjoberg@example.org"
        assert mail["Content-Language"] in LANGUAGES
        assert mail.get_body(("plain",)) is not None and mail.get_body(("html",)) is not None
    if language == "en":
        assert {m["Content-Language"] for m in mails} == {"en"}


def test_every_mail_says_how_to_report_back(scenario):
    language, first, _ = scenario
    words = {"sv": ("Så svarar du", "Så åtgärdar du"), "en": ("How to report back", "How to fix it")}[
        language
    ]
    for kind, mail in first.items():
        if kind == "sign_in":
            continue  # it asks for nothing to be reported: only to press the button
        for part in (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()):
            assert any(w in part for w in words), kind


def test_html_is_escaped_and_text_is_not(scenario):
    _, first, _ = scenario
    minutes = first["minutes"]
    assert "<aktuella händelser>" in minutes.get_body(("plain",)).get_content()
    html = minutes.get_body(("html",)).get_content()
    assert "&lt;aktuella händelser&gt;" in html and "<aktuella händelser>" not in html


def test_dates_are_written_the_way_of_the_language(scenario):
    language, first, _ = scenario
    text = first["invitation"].get_body(("plain",)).get_content()
    expected = {"sv": "tisdag 14 februari 2012", "en": "Tuesday 14 February 2012"}[language]
    assert expected in text


def test_the_refused_recipient_is_named_to_the_coordinator(scenario):
    _, first, _ = scenario
    failure = first["delivery_failure"]
    assert failure["To"].addresses[0].addr_spec == "anna.sjoberg@example.org"
    text = failure.get_body(("plain",)).get_content()
    assert REFUSED in text and "550 5.1.1" in text


# The table: the labels of every action, and the links each kind of mail carries.
LABELS = {
    "sv": {
        "done": "Klart",
        "progress": "Rapportera läget",
        "extend": "Begär ny slutdag",
        "ack": "Jag har sett förseningen",
        "propose": "Föreslå en punkt",
        "attend": "Jag kommer",
        "decline": "Jag kommer inte",
        "minutes": "Lämna mötesanteckningar",
        "approve": "Godkänn",
        "refuse": "Avslå",
        "sign_in": "Logga in",
    },
    "en": {
        "done": "Done",
        "progress": "Report progress",
        "extend": "Ask for a new date",
        "ack": "I have seen the delay",
        "propose": "Propose an item",
        "attend": "I will attend",
        "decline": "I will not attend",
        "minutes": "Submit the minutes",
        "approve": "Approve",
        "refuse": "Decline",
        "sign_in": "Sign in",
    },
}
MY_TASKS = {"sv": "Mina uppgifter", "en": "My tasks"}
ACTIVITY = ("done", "progress", "extend")
ROW: dict[str, tuple[tuple[str, ...], ...]] = {  # the action sets a kind may carry (per item)
    "reminder": (ACTIVITY, ("progress",)),  # a recurring follow-up is reported on, never done
    "overdue": (ACTIVITY,),
    "digest": (ACTIVITY, ("progress",)),
    "escalation": (("ack",),),
    "agenda_call": (("propose",),),
    "invitation": (("attend", "decline"),),
    "checkin_invitation": (("attend", "decline"),),
    "meeting_update": (("attend", "decline"),),
    "minutes_request": (("minutes",),),
    "extension_request": (("approve", "refuse"),),
    "sign_in": (("sign_in",),),
}
TEXT_LINK = re.compile(r"(?m)^ *([^:\n]+): (https://trygg\.example\.org/l/(\S+))$")
HTML_LINK = re.compile(r'<a href="(https://trygg\.example\.org/l/([^"]+))">([^<]+)</a>')


def actions_in(mail: EmailMessage, language: str) -> tuple[list[tuple[str, str]], list[tuple[str, str]]]:
    """(action, token) of every link, in the text part and in the HTML part, read by their labels."""
    action_of = {label: action for action, label in LABELS[language].items()}
    text = mail.get_body(("plain",)).get_content()
    html = mail.get_body(("html",)).get_content()
    in_text = [(action_of[label], token) for label, _, token in TEXT_LINK.findall(text)]
    in_html = [(action_of[label], token) for _, token, label in HTML_LINK.findall(html)]
    return in_text, in_html


def in_items(actions: list[str], allowed: tuple[tuple[str, ...], ...]) -> bool:
    """Whether the links, in order, are items' link sets of the kind's row, one after another."""
    if not actions:
        return True
    return any(
        tuple(actions[: len(row)]) == row and in_items(actions[len(row) :], allowed) for row in allowed
    )


def test_every_mail_carries_the_links_of_its_kind_and_ends_with_my_tasks(scenario):
    language, _, mails = scenario
    signer = LinkSigner(SECRET)
    for mail in mails:
        kind = mail["X-Trygg-Kind"]
        in_text, in_html = actions_in(mail, language)
        assert in_text == in_html, f"{kind}: the text and the HTML part link differently"
        # The convener's own calendar copy asks nothing of her: no "I will attend" to her own meeting.
        allowed = () if convener_copy(mail) else ROW.get(kind, ())
        assert bool(in_text) == bool(allowed), f"{kind}: links {in_text}"
        sent = mail["Date"].datetime
        for action, token in in_text:
            grant = signer.verify(token, sent)
            assert grant.action == action
            valid = timedelta(minutes=15) if action == "sign_in" else timedelta(days=30)  # expiry_days
            assert grant.expires_at == sent + valid
        assert in_items([a for a, _ in in_text], allowed), f"{kind}: {in_text}"
        text = mail.get_body(("plain",)).get_content()
        html = mail.get_body(("html",)).get_content()
        assert f"\n{MY_TASKS[language]}: {BASE_URL}/me\n" in text, kind
        assert f'<a href="{BASE_URL}/me">{MY_TASKS[language]}</a>' in html, kind


def test_no_mail_holds_a_command_line_or_an_id_line(scenario):
    _, _, mails = scenario
    for mail in mails:
        kind = mail["X-Trygg-Kind"]
        for part in (mail.get_body(("plain",)).get_content(), mail.get_body(("html",)).get_content()):
            assert "trygg activity" not in part and "trygg meeting" not in part, kind
            assert not re.search(r"(?m)^\s*Id:", part), kind
            # The coordinator's own fix of a bad address is the one command a mail still names.
            assert kind == "delivery_failure" or "trygg load" not in part, kind


def test_a_mailed_links_nonce_is_its_mail_id(scenario):
    """So a retry, or a dry run, writes the links the first attempt wrote."""
    language, first, _ = scenario
    again = LinkSigner(SECRET)
    for kind, mail in first.items():
        for _action, token in actions_in(mail, language)[0]:
            grant = again.verify(token, mail["Date"].datetime)
            expected = again.sign(
                grant.person_id, grant.action, grant.subject_id, grant.expires_at, nonce=_nonce_of(mail)
            )
            assert expected == token, kind


def _nonce_of(mail: EmailMessage) -> str:
    return "mail-" + re.search(r"\.mail-(\d+)@", mail["Message-ID"]).group(1)
