"""The message catalogues: complete in both languages, up to date with the sources; one language at a time."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_keywords, parse_mapping_cfg
from babel.messages.pofile import read_po

from tests.conftest import trygg
from workflow.i18n import LANGUAGES, _, _l, catalogue_path, gettext, language, render

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ("workflow", "tasks", "web", "templates")  # as `make messages` extracts them


def _catalogue(lang: str):
    with catalogue_path(lang).open("rb") as po:
        return read_po(po, locale=lang)


def _entries(catalog) -> dict[tuple[str, str | None], object]:
    return {(m.id if isinstance(m.id, str) else m.id[0], m.context): m for m in catalog if m.id}


def _extracted() -> set[tuple[str, str | None]]:
    """What `make messages` would extract: babel.cfg's map, the Makefile's keywords."""
    flags = re.search(r"^BABEL_KEYWORDS := (.*)$", (ROOT / "Makefile").read_text(), re.M).group(1)
    keywords = {**DEFAULT_KEYWORDS, **parse_keywords(flags.replace("-k ", "").split())}
    with (ROOT / "babel.cfg").open() as cfg:
        method_map, options_map = parse_mapping_cfg(cfg)
    found = set()
    for source in SOURCES:
        for _file, _line, message, _comments, context in extract_from_dir(
            ROOT / source, method_map, options_map, keywords=keywords
        ):
            found.add((message if isinstance(message, str) else message[0], context))
    return found


def test_every_entry_is_in_both_catalogues_translated_and_not_fuzzy():
    entries = {lang: _entries(_catalogue(lang)) for lang in LANGUAGES}
    assert sorted(set(entries["sv"]) - set(entries["en"])) == [], "missing in en"
    assert sorted(set(entries["en"]) - set(entries["sv"])) == [], "missing in sv"
    for lang, found in entries.items():
        empty = [
            key for key, m in found.items() if not (m.string if isinstance(m.string, str) else all(m.string))
        ]
        fuzzy = [key for key, m in found.items() if m.fuzzy]
        assert empty == [], f"{lang}: untranslated"
        assert fuzzy == [], f"{lang}: fuzzy"


def test_translations_keep_the_placeholders_of_their_msgid():
    for lang in LANGUAGES:
        errors = [(m.id, [str(e) for e in errs]) for m, errs in _catalogue(lang).check()]
        assert errors == [], lang


def test_the_catalogues_hold_every_msgid_of_the_sources():
    """`make messages` was run after the last change of words in code or templates."""
    extracted = _extracted()
    catalogued = set(_entries(_catalogue("sv")))
    assert sorted(extracted - catalogued, key=str) == [], "run `make messages` and translate"
    assert sorted(catalogued - extracted, key=str) == [], "obsolete entries: run `make messages`"


def test_no_catalogue_call_hides_in_an_f_string():
    """pybabel does not look inside f-strings (on Python 3.11): such a msgid never reaches the catalogues."""
    call = re.compile(r"""\bf(["'])[^"']*\{\s*(_|_l|_n|_p|_nl|_pl|gettext|ngettext|pgettext)\(""")
    hidden = [
        f"{path.relative_to(ROOT)}:{n}"
        for source in ("workflow", "tasks", "web")
        for path in (ROOT / source).rglob("*.py")
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1)
        if call.search(line)
    ]
    assert hidden == []


def test_a_text_is_said_in_the_language_asked_for():
    assert gettext("Loaded: %(agreement_key)s", "sv", agreement_key="x") == "Inläst: x"
    assert gettext("Loaded: %(agreement_key)s", "en", agreement_key="x") == "Loaded: x"
    lazy = _l("the activity is not overdue")
    assert render(lazy, "sv") == "aktiviteten är inte försenad"
    with language("en"):
        assert str(lazy) == "the activity is not overdue"
        assert _("never") == "never"
    with language("sv"):
        assert str(ValueError(lazy)) == "aktiviteten är inte försenad"
    # Any placeholder name, also those of LazyText's own (positional) parameters.
    assert render(_l("%(n)s rows, %(context)s", n=3, context="x"), "en") == "3 rows, x"


@pytest.mark.parametrize(
    ("lang", "other", "words"),
    [
        ("sv", "en", "Validera en överenskommelse utan att skriva något."),
        ("en", "sv", "Validate an agreement without writing anything."),
    ],
)
def test_help_comes_in_the_chosen_language_only(monkeypatch, lang, other, words):
    # Typer builds the click command before the runner applies `env`: the process has the language.
    monkeypatch.setenv("TRYGG_LANGUAGE", lang)
    env = {"TRYGG_LANGUAGE": lang, "COLUMNS": "300"}
    for args in (
        ["--help"],
        ["activity", "--help"],
        ["meeting", "coopt", "--help"],
        ["cycle", "override", "--help"],
    ):
        shown = trygg(*args, env=env)
        assert shown.returncode == 0, shown.stderr
        if args == ["--help"]:
            assert words in shown.stdout
        for msgid in (
            "The five-step cycle that never stops",
            "the agreement's id (may be left out when only one is loaded)",
        ):
            if gettext(msgid, lang) in shown.stdout:
                assert gettext(msgid, other) not in shown.stdout
        if lang == "en":  # the bilingual help of old had Swedish in every line
            assert not re.search(r"[åäöÅÄÖ]", shown.stdout.replace("vid remissförfarande", "")), args


@pytest.mark.parametrize(
    ("lang", "said", "unsaid"),
    [
        ("sv", "Databasen har inte aktuellt schema", "The database schema is not current"),
        ("en", "The database schema is not current", "Databasen har inte aktuellt schema"),
    ],
)
def test_an_error_comes_in_the_chosen_language_only(tmp_path, lang, said, unsaid):
    env = {"TRYGG_LANGUAGE": lang, "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'empty.db'}"}
    result = trygg("status", env=env)
    assert result.returncode == 3
    assert said in result.stderr and unsaid not in result.stderr


@pytest.mark.parametrize(
    ("lang", "said"), [("sv", "okänd aktivitet 'nope'"), ("en", "unknown activity 'nope'")]
)
def test_a_domain_error_is_said_in_the_callers_language(tmp_path, lang, said):
    env = {"TRYGG_LANGUAGE": lang, "TRYGG_DATABASE_URL": f"sqlite:///{tmp_path / 'trygg.db'}"}
    assert trygg("db", "upgrade", env=env).returncode == 0
    harnosand = ROOT / "config" / "agreements" / "harnosand-2012-2013.yaml"
    assert trygg("load", str(harnosand), env=env).returncode == 0
    result = trygg("activity", "done", "nope", env=env)
    assert result.returncode == 3
    assert said in result.stderr
