"""Every mail template, rendered with fixed data and compared with its stored snapshot; the headers.

A wording change shows up as a diff of tests/snapshots/emails/. To accept one, run
`TRYGG_UPDATE_SNAPSHOTS=1 make test PYTEST_ARGS=tests/test_email_templates.py` and review the diff.
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path

import pytest

from workflow.outbox.kinds import KINDS
from workflow.outbox.render import LANGUAGES, build_message, environment, message_id, render
from workflow.resources import templates_dir

SNAPSHOTS = Path(__file__).parent / "snapshots" / "emails"
UPDATE = os.environ.get("TRYGG_UPDATE_SNAPSHOTS") == "1"

ACTIVITY = {
    "activity": "ung-kontaktuppgifter",
    "title": "Kontaktuppgifter ska lämnas mellan polis och skola",
    "area": "Förebyggande arbete ungdomar",
    "goal": "Ökad kontakt mellan polis, föräldrar och skolpersonal",
    "when": "Under 2012",
    "responsible": "Polis och skola",
    "deadline": "2012-12-28",
    "extended_deadline": None,
    "owners": ["Härnösands närpolisområde", "Skolan"],
    "contacts": ["Johan Berg", "Maria Lund"],
    "state": "in_progress",
    "last_status": {"state": "in_progress", "note": "Listan är <nästan> klar", "at": "2012-12-03T09:15:00+00:00", "by": "cli:anna"},
    "target": "deadline",
    "due": "2012-12-28",
}
FOLLOW_UP = {
    **ACTIVITY,
    "activity": "liv-arbetsgrupp",
    "title": "Samverka mellan polis, fältarbetare och frivård genom arbetsgrupp",
    "when": "Uppföljning månadsvis",
    "deadline": None,
    "last_status": None,
    "target": "follow_up",
    "due": "2012-12-28",
    "stage": 3,
}
EXTENDED = {**ACTIVITY, "activity": "tra-smadit", "title": "Genom samverkan och gemensam utbildning", "extended_deadline": "2013-02-28"}

ITEMS = {
    "reminder": [{**ACTIVITY, "rule": "reminder", "stage": 10}],
    "overdue": [{**ACTIVITY, "rule": "overdue", "after": 1, "to": "owner", "overdue_since": "2012-12-29"}],
    "escalation": [
        {**ACTIVITY, "rule": "escalation", "after": 10, "to": "management", "overdue_since": "2012-12-29"},
        {**EXTENDED, "rule": "escalation", "after": 10, "to": "management", "overdue_since": "2013-03-01", "due": "2013-02-28"},
    ],
    "digest": [
        {**ACTIVITY, "rule": "overdue", "after": 1, "to": "owner", "overdue_since": "2012-12-29"},
        {**FOLLOW_UP, "rule": "reminder"},
        {**ACTIVITY, "rule": "reminder", "stage": 0, "activity": "ung-natmobbning", "title": "Föreläsning för elever och föräldrar."},
    ],
    "delivery_failure": [
        {
            "mail": 17, "to_name": "Nils Ek", "to_email": "nils.ek@example.org", "kind": "reminder",
            "subject": "Påminnelse: Kontaktuppgifter – senast 28 december 2012", "attempts": 1,
            "error": "550 5.1.1 <nils.ek@example.org>: Recipient address rejected", "failed_at": "2012-12-17T07:01:00+00:00",
        }
    ],
}
TEMPLATED = sorted(ITEMS)


def context(kind: str) -> dict:
    return {
        "recipient": {"name": "Johan Berg", "key": "johan-berg"},
        "agreement": {"title": "Överenskommelse för ökad trygghet i Härnösands kommun 2012-2013",
                      "key": "harnosand-2012-2013", "timezone": "Europe/Stockholm"},
        "coordinator": {"name": "Anna Sjöberg", "email": "anna.sjoberg@example.org"},
        "items": ITEMS[kind],
    }


def check_snapshot(path: Path, actual: str) -> None:
    if UPDATE:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
    assert path.exists(), f"no snapshot {path}: run with TRYGG_UPDATE_SNAPSHOTS=1 and review it"
    assert actual == path.read_text(encoding="utf-8"), f"{path} differs (TRYGG_UPDATE_SNAPSHOTS=1 accepts)"


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", TEMPLATED)
def test_every_template_matches_its_snapshot(kind, lang):
    rendered = render(kind, lang, context(kind))
    check_snapshot(SNAPSHOTS / lang / f"{kind}.subject.txt", rendered.subject + "\n")
    check_snapshot(SNAPSHOTS / lang / f"{kind}.txt", rendered.text)
    check_snapshot(SNAPSHOTS / lang / f"{kind}.html", rendered.html)


@pytest.mark.parametrize("lang", LANGUAGES)
@pytest.mark.parametrize("kind", TEMPLATED)
def test_every_mail_says_how_to_report_back(kind, lang):
    rendered = render(kind, lang, context(kind))
    words = {"sv": ("Så svarar du", "Så åtgärdar du"), "en": ("How to report back", "How to fix it")}[lang]
    for part in (rendered.text, rendered.html):
        assert any(w in part for w in words)


def test_html_is_escaped_and_text_is_not():
    rendered = render("reminder", "sv", context("reminder"))
    assert "Listan är &lt;nästan&gt; klar" in rendered.html
    assert "Listan är <nästan> klar" in rendered.text


def test_dates_are_written_the_swedish_way():
    sv = render("reminder", "sv", context("reminder"))
    en = render("reminder", "en", context("reminder"))
    assert "fredag 28 december 2012" in sv.text and "3 december 2012 kl. 10:15" in sv.text
    assert "Friday 28 December 2012" in en.text


def test_every_template_on_disk_is_a_known_kind_in_both_languages():
    folder = templates_dir() / "emails"
    for lang in LANGUAGES:
        kinds = {p.name.split(".")[0] for p in (folder / lang).glob("*.j2") if not p.name.startswith("_")}
        assert kinds <= set(KINDS)
        assert kinds == set(TEMPLATED), f"{lang}: a template without a snapshot test, or the reverse"
    assert environment().autoescape("x.html.j2") and not environment().autoescape("x.txt.j2")


def test_a_message_carries_the_products_headers():
    rendered = render("digest", "sv", context("digest"))
    msg = build_message(
        rendered, kind="digest", sender="trygg <trygg@example.org>", to=("Johan Berg", "johan.berg@example.org"),
        reply_to=("Anna Sjöberg", "anna.sjoberg@example.org"), message_id=message_id(17, "harnosand-2012-2013", "trygg <trygg@example.org>"),
        date=datetime(2012, 12, 17, 7, tzinfo=UTC), language="sv",
    )
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Trygg-Kind"] == "digest"
    assert msg["Message-ID"] == "<trygg.harnosand-2012-2013.mail-17@example.org>"
    assert msg["Reply-To"].addresses[0].addr_spec == "anna.sjoberg@example.org"
    assert msg["To"].addresses[0].display_name == "Johan Berg"
    assert msg["Content-Language"] == "sv"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
