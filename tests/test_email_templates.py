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
    "last_status": {
        "state": "in_progress",
        "note": "Listan är <nästan> klar",
        "at": "2012-12-03T09:15:00+00:00",
        "by": "cli:anna",
    },
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
EXTENDED = {
    **ACTIVITY,
    "activity": "tra-smadit",
    "title": "Genom samverkan och gemensam utbildning",
    "extended_deadline": "2013-02-28",
}

MEETING = {
    "meeting": "council-2012-4",
    "kind": "council",
    "title": "Rådet för trygghet och hälsa: rådsmöte 4/4 2012",
    "day": "2012-11-13",
    "starts_at": "2012-11-13T12:00:00+00:00",
    "ends_at": "2012-11-13T14:00:00+00:00",
    "location": "Kommunhuset, Härnösand",
    "sequence": 0,
    "agenda": [
        "Mötets öppnande",
        "Lägesbild: aktuella händelser från polis och kommun",
        "Trygghetsvandring i <centrum>",
        "Övriga frågor",
    ],
    "organizer": {"name": "Anna Sjöberg", "email": "anna.sjoberg@example.org"},
    "invited": [
        {"name": "Fred Nilsson", "organisation": "Härnösands kommun", "co_opted": False},
        {"name": "Johan Berg", "organisation": "Härnösands närpolisområde", "co_opted": False},
        {"name": "Eva Ström", "organisation": "Handeln i Härnösand", "co_opted": True},
    ],
    "co_opted": False,
}
CHECK_IN = {
    **MEETING,
    "meeting": "check_in-2012-2",
    "kind": "check_in",
    "title": "Avstämning kommun–polis 2/2 2012",
    "day": "2012-11-01",
    "starts_at": "2012-11-01T09:00:00+00:00",
    "ends_at": "2012-11-01T10:30:00+00:00",
    "location": None,
}
REPORT = {
    "as_of": "2012-10-30",
    "standings": {
        "sv": {
            "done_on_time": "klar i tid",
            "done_late": "klar, försenad",
            "late": "försenad",
            "open": "pågår, i tid",
            "ongoing": "löpande",
        },
        "en": {
            "done_on_time": "done on time",
            "done_late": "done late",
            "late": "late",
            "open": "open, on time",
            "ongoing": "ongoing",
        },
    },
    "areas": [
        {
            "title": "Förebyggande arbete ungdomar",
            "counts": {"done_on_time": 1, "done_late": 0, "late": 1, "open": 0, "ongoing": 0},
            "activities": [
                {
                    "activity": "ung-natmobbning",
                    "title": "Föreläsning för elever och föräldrar.",
                    "goal": "Minska mobbning",
                    "owners": ["Skolan"],
                    "when": "Under höstterminen 2012",
                    "deadline": "2012-12-20",
                    "standing": "done_on_time",
                    "done_on": "2012-10-02",
                    "last_note": "Föreläsningen hölls i aulan",
                    "last_note_on": "2012-10-02",
                },
                {
                    "activity": "ung-kontaktuppgifter",
                    "title": "Kontaktuppgifter ska lämnas mellan polis och skola",
                    "goal": "Ökad kontakt",
                    "owners": ["Härnösands närpolisområde", "Skolan"],
                    "when": "Under 2012",
                    "deadline": "2012-09-28",
                    "standing": "late",
                    "done_on": None,
                    "last_note": "Listan är <nästan> klar",
                    "last_note_on": "2012-10-15",
                },
            ],
        },
    ],
}

ITEMS = {
    "agenda_call": [{**MEETING, "rule": "agenda_call", "invitation_at": "2012-11-06T07:00:00+00:00"}],
    "invitation": [{**MEETING, "rule": "invitation", "co_opted": True}],
    "meeting_update": [
        {
            **MEETING,
            "rule": "meeting_update",
            "sequence": 2,
            "day": "2012-11-20",
            "starts_at": "2012-11-20T12:00:00+00:00",
            "ends_at": "2012-11-20T14:00:00+00:00",
        }
    ],
    "cancellation": [
        {
            **MEETING,
            "rule": "cancellation",
            "sequence": 1,
            "reason": "För få kan komma; punkterna tas upp i februari",
        }
    ],
    "minutes_request": [
        {**MEETING, "rule": "minutes_request", "chase": 1, "minutes_due": "2012-11-20T07:00:00+00:00"},
        {**CHECK_IN, "rule": "minutes_request", "chase": 2, "minutes_due": "2012-11-08T07:00:00+00:00"},
    ],
    "minutes": [
        {
            **MEETING,
            "rule": "minutes",
            "revision": 2,
            "recorded_at": "2012-11-15T10:00:00+00:00",
            "attended": ["Fred Nilsson", "Eva Ström"],
            "absent": ["Johan Berg"],
            "text": "1. Mötet öppnades.\n2. Trygghetsvandringen <i> centrum hålls 4 december.\n",
        }
    ],
    "checkin_invitation": [{**CHECK_IN, "rule": "checkin_invitation"}],
    "checkin_report": [{**CHECK_IN, "rule": "checkin_report", "report": REPORT}],
    "evaluation": [
        {
            **MEETING,
            "rule": "evaluation",
            "meeting": "evaluation-2012",
            "kind": "evaluation",
            "title": "Utvärdering 2012: redovisning till polis- och kommunledning",
            "day": "2012-12-05",
            "starts_at": "2012-12-05T12:00:00+00:00",
            "ends_at": "2012-12-05T14:00:00+00:00",
            "year": 2012,
            "as_of": "2012-12-03",
            "totals": {"done_on_time": 12, "done_late": 3, "late": 4, "open": 2, "ongoing": 9},
            "attachment": {
                "filename": "arsrapport-harnosand-2012-2013-2012.html",
                "content_type": "text/html",
                "content": "<html></html>",
            },
        }
    ],
    "reminder": [{**ACTIVITY, "rule": "reminder", "stage": 10}],
    "overdue": [{**ACTIVITY, "rule": "overdue", "after": 1, "to": "owner", "overdue_since": "2012-12-29"}],
    "escalation": [
        {**ACTIVITY, "rule": "escalation", "after": 10, "to": "management", "overdue_since": "2012-12-29"},
        {
            **EXTENDED,
            "rule": "escalation",
            "after": 10,
            "to": "management",
            "overdue_since": "2013-03-01",
            "due": "2013-02-28",
        },
    ],
    "digest": [
        {**ACTIVITY, "rule": "overdue", "after": 1, "to": "owner", "overdue_since": "2012-12-29"},
        {**FOLLOW_UP, "rule": "reminder"},
        {
            **ACTIVITY,
            "rule": "reminder",
            "stage": 0,
            "activity": "ung-natmobbning",
            "title": "Föreläsning för elever och föräldrar.",
        },
    ],
    "delivery_failure": [
        {
            "mail": 17,
            "to_name": "Nils Ek",
            "to_email": "nils.ek@example.org",
            "kind": "reminder",
            "subject": "Påminnelse: Kontaktuppgifter – senast 28 december 2012",
            "attempts": 1,
            "error": "550 5.1.1 <nils.ek@example.org>: Recipient address rejected",
            "failed_at": "2012-12-17T07:01:00+00:00",
        }
    ],
}
TEMPLATED = sorted(ITEMS)


def context(kind: str) -> dict:
    return {
        "recipient": {"name": "Johan Berg", "key": "johan-berg"},
        "agreement": {
            "title": "Överenskommelse för ökad trygghet i Härnösands kommun 2012-2013",
            "key": "harnosand-2012-2013",
            "timezone": "Europe/Stockholm",
        },
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
        kinds = {p.name.split(".")[0] for p in folder.glob("*.j2") if not p.name.startswith("_")}
        assert kinds <= set(KINDS)
        assert kinds == set(TEMPLATED), f"{lang}: a template without a snapshot test, or the reverse"
    assert environment().autoescape("x.html.j2") and not environment().autoescape("x.txt.j2")


def test_a_message_carries_the_products_headers():
    rendered = render("digest", "sv", context("digest"))
    msg = build_message(
        rendered,
        kind="digest",
        sender="trygg <trygg@example.org>",
        to=("Johan Berg", "johan.berg@example.org"),
        reply_to=("Anna Sjöberg", "anna.sjoberg@example.org"),
        message_id=message_id(17, "harnosand-2012-2013", "trygg <trygg@example.org>"),
        date=datetime(2012, 12, 17, 7, tzinfo=UTC),
        language="sv",
    )
    assert msg["Auto-Submitted"] == "auto-generated"
    assert msg["X-Trygg-Kind"] == "digest"
    assert msg["Message-ID"] == "<trygg.harnosand-2012-2013.mail-17@example.org>"
    assert msg["Reply-To"].addresses[0].addr_spec == "anna.sjoberg@example.org"
    assert msg["To"].addresses[0].display_name == "Johan Berg"
    assert msg["Content-Language"] == "sv"
    assert msg.get_content_type() == "multipart/alternative"
    assert [p.get_content_type() for p in msg.iter_parts()] == ["text/plain", "text/html"]
