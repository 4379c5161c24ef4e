"""A mail's Subject arrives as it was written, and a shortened one keeps what tells mails apart."""

from __future__ import annotations

import random
from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from workflow.outbox.render import Rendered, build_message, shorten
from workflow.outbox.transport import wire_bytes

WORDS = (
    "Rådet för trygghet och hälsa rådsmöte åtgärd ökad öppna händelse Härnösands kommun är över "
    "trygghetsvandring försenad påminnelse – “citat” (år) 2012 A"
).split()


def _subjects(count: int) -> list[str]:
    pick = random.Random(16)
    subjects = ["Rådet för trygghet och hälsa: rådsmöte 14 februari 2012"]
    for _ in range(count):
        text = " ".join(pick.choice(WORDS) for _ in range(60))
        subjects.append(text[: pick.randint(150, 200)].strip())
    subjects.append("Reminder: " + "an activity with a long plain title " * 6)
    return subjects


def _message(subject: str):
    return build_message(
        Rendered(subject=subject, text="Hej!\n", html="<p>Hej!</p>"),
        kind="reminder",
        sender="trygg <trygg@example.org>",
        to=("Åsa Öberg", "asa.oberg@example.org"),
        reply_to=None,
        message_id="<trygg.test@example.org>",
        date=datetime(2012, 12, 17, 7, tzinfo=UTC),
        language="sv",
    )


@pytest.mark.parametrize("utf8", [False, True], ids=["7bit headers", "SMTPUTF8 headers"])
def test_every_long_swedish_subject_parses_back_to_exactly_the_written_text(utf8):
    for subject in _subjects(200):
        wire = wire_bytes(_message(subject), utf8=utf8, linesep="\r\n")
        head = wire.split(b"\r\n\r\n")[0]
        assert max(len(line) for line in head.split(b"\r\n")) <= 78, head
        assert message_from_bytes(wire, policy=policy.default)["Subject"] == subject


def test_a_shortened_title_keeps_its_start_and_its_end():
    first = shorten("Rådet för trygghet och hälsa: genomgång och revidering av handlingsplanen 2012", 50)
    second = shorten("Rådet för trygghet och hälsa: genomgång och revidering av handlingsplanen 2013", 50)
    assert first != second
    assert first.startswith("Rådet för") and first.endswith("handlingsplanen 2012")
    assert len(first) <= 50 and "…" in first


def test_a_short_title_is_left_as_it_is():
    assert shorten("Utföra trygghetsvandring (ar)", 50) == "Utföra trygghetsvandring (ar)"
