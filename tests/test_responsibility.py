"""The Ansvarig language: every seed phrase, the aliases, and no crash on any text."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import HARNOSAND
from workflow.agreement.validate import alias_table, read_agreement
from workflow.plan_language.responsibility import ResponsibilityError, parse_responsible

ALIASES = alias_table(read_agreement(HARNOSAND).spec)

# Every distinct Ansvarig text of the seed, with the leads and partners it must give.
SEED_PHRASES = [
    ("Polis och skola", ("polisen", "skola"), ()),
    ("Kommunen i samverkan med polis", ("kommunen",), ("polisen",)),
    ("Polisen", ("polisen",), ()),
    (
        "Kommunen i samverkan med polis, räddningstjänst, socialtjänst och handels",
        ("kommunen",),
        ("polisen", "raddningstjanst", "socialtjanst", "handeln"),
    ),
    ("Kommunen i samverkan med polisen", ("kommunen",), ("polisen",)),
    ("Polis i samverkan med fritidspersonal", ("polisen",), ("fritid",)),
    ("Polis i samverkan med socialtjänst", ("polisen",), ("socialtjanst",)),
    ("Kommun", ("kommunen",), ()),
    ("Polis", ("polisen",), ()),
    ("Polis och kommun", ("polisen", "kommunen"), ()),
    ("Kommun och polis", ("kommunen", "polisen"), ()),
    ("Polis och socialtjänst", ("polisen", "socialtjanst"), ()),
    ("Samhällsförvaltning och polis", ("samhallsforvaltning", "polisen"), ()),
]


@pytest.mark.parametrize(("text", "leads", "partners"), SEED_PHRASES, ids=[p[0] for p in SEED_PHRASES])
def test_every_seed_phrase(text, leads, partners):
    result = parse_responsible(text, ALIASES)
    assert (result.leads, result.partners) == (leads, partners)


@pytest.mark.parametrize(
    ("text", "leads", "partners"),
    [
        (
            "Socialförvaltningen tillsammans med fältarbetare och frivård",
            ("socialtjanst",),
            ("faltarbetare", "frivarden"),
        ),
        ("POLISEN, Skolan samt Räddningstjänsten", ("polisen", "skola", "raddningstjanst"), ()),
        ("Kommunen med stöd av polis och polisen", ("kommunen",), ("polisen",)),
        ("  Polis  i  samverkan  med  kommun. ", ("polisen",), ("kommunen",)),
    ],
)
def test_other_phrasings_and_aliases(text, leads, partners):
    result = parse_responsible(text, ALIASES)
    assert (result.leads, result.partners) == (leads, partners)


def test_an_unknown_word_is_named():
    with pytest.raises(ResponsibilityError) as caught:
        parse_responsible("Polis i samverkan med Tullverket", ALIASES)
    assert caught.value.word == "Tullverket"
    assert "Tullverket" in str(caught.value)


@settings(max_examples=300, deadline=None)
@given(st.text())
def test_never_crashes_on_any_text(text):
    try:
        parse_responsible(text, ALIASES)
    except ResponsibilityError:
        pass


WORDS = ["Polis", "kommunen", "och", "i samverkan med", ",", "samt", "skola", "handels", "X", " "]


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(WORDS), max_size=8).map(" ".join))
def test_never_crashes_on_phrases_from_the_vocabulary(text):
    try:
        result = parse_responsible(text, ALIASES)
    except ResponsibilityError:
        return
    assert result.leads and not set(result.leads) & set(result.partners)
