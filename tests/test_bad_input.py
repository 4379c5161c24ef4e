"""Broken agreement files are refused with their place (file, line, field) and change nothing."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import inspect, select, text

from tests.conftest import HARNOSAND, trygg

GOOD = HARNOSAND.read_text(encoding="utf-8")

# (case, text replaced, replacement, expected field path, text on the expected line)
CASES = [
    ("yaml_syntax", "period:\n  start: 2012-01-01", "period:\n  start: [2012-01-01", "", "end: 2013-12-31"),
    (
        "duplicate_yaml_key",
        "timezone: Europe/Stockholm\n",
        "timezone: Europe/Stockholm\ntimezone: UTC\n",
        "",
        "timezone: UTC",
    ),
    (
        "unknown_key",
        "  place: Härnösand\n",
        "  place: Härnösand\n  colour: blue\n",
        "signed.colour",
        "colour: blue",
    ),
    ("missing_field", "    name: Anna Sjöberg\n", "", "people[2].name", "- id: anna-sjoberg"),
    (
        "unknown_person",
        "  - person: thomas-nyberg\n    party: polisen",
        "  - person: thomas-nyborg\n    party: polisen",
        "signatories[0].person",
        "- person: thomas-nyborg",
    ),
    (
        "unknown_organisation",
        "    organisation: skola\n",
        "    organisation: skolan-x\n",
        "people[5].organisation",
        "organisation: skolan-x",
    ),
    (
        "parent_loop",
        "    kind: party\n    aliases: [Kommun, Kommunen]",
        "    kind: party\n    parent: faltarbetare\n    aliases: [Kommun, Kommunen]",
        "organisations[1].parent",
        "parent: faltarbetare",
    ),
    (
        "invalid_email",
        "maria.lund@example.org",
        "maria.lund(at)example.org",
        "people[5].email",
        "email: maria.lund(at)",
    ),
    (
        "duplicate_id",
        "- id: cen-ordning",
        "- id: cen-krogtillsyn",
        "plan.areas[1].goals[1].activities[0].id",
        "- id: cen-krogtillsyn\n              activity: Avvisa",
    ),
    ("period_ends_before_start", "  end: 2013-12-31", "  end: 2011-12-31", "period", "period:"),
    ("impossible_date", "  date: 2010-12-22", "  date: 2010-02-30", "signed.date", "date: 2010-02-30"),
    (
        "unknown_responsible",
        "responsible: Polis och skola",
        "responsible: Polis och brandkåren",
        "plan.areas[0].goals[0].activities[0].responsible",
        "responsible: Polis och brandkåren",
    ),
    (
        "unreadable_when",
        "when: Under 2012\n              responsible: Polis och skola",
        "when: När andan faller på\n              responsible: Polis och skola",
        "plan.areas[0].goals[0].activities[0].when",
        "when: När andan faller på",
    ),
    ("wrong_type", "  year: 2012\n", "  year: tjugotolv\n", "plan.year", "year: tjugotolv"),
]


def line_of(content: str, anchor: str) -> int:
    index = content.index(anchor)
    return content.count("\n", 0, index) + 1


def broken(tmp_path, case):
    name, old, new, path, anchor = case
    assert GOOD.count(old) >= 1, f"{name}: the good file no longer contains {old!r}"
    content = GOOD.replace(old, new, 1)
    file = tmp_path / f"{name}.yaml"
    file.write_text(content, encoding="utf-8")
    return file, path, line_of(content, anchor)


def command_line(db_url: str):
    def invoke(*args: str):
        return trygg(*args, env={"TRYGG_DATABASE_URL": db_url, "TRYGG_LANGUAGE": "sv"})

    return invoke


@pytest.fixture
def cli(engine, db_url):
    """`trygg …` on an empty database of the current schema."""
    return command_line(db_url)


@pytest.fixture
def cli_on_harnosand(cli_loaded):
    """`trygg …` on a database where `trygg load` loaded the Härnösand agreement."""
    return command_line(cli_loaded)


def dump(db_url: str) -> dict[str, list]:
    """Every row of every table: the database's whole content."""
    from workflow.db import make_engine

    eng = make_engine(db_url)
    out = {}
    with eng.connect() as conn:
        for table in sorted(inspect(conn).get_table_names()):
            rows = conn.execute(text(f'select * from "{table}"')).all()
            out[table] = sorted(map(repr, rows))
    eng.dispose()
    return out


@pytest.mark.parametrize("case", CASES, ids=[c[0] for c in CASES])
def test_broken_file_is_refused_with_its_place_and_changes_nothing(case, tmp_path, cli_on_harnosand, db_url):
    cli = cli_on_harnosand
    before = dump(db_url)
    file, path, line = broken(tmp_path, case)

    result = cli("load", str(file), "--json")
    assert result.returncode == 2, result.stdout
    errors = json.loads(result.stdout)["errors"]
    assert any(e["file"] == str(file) and e["line"] == line and e["path"] == path for e in errors), errors
    assert dump(db_url) == before

    human = cli("check", str(file))
    assert human.returncode == 2
    assert f"{file}:{line}" in human.stderr
    assert path in human.stderr
    assert "Traceback" not in human.stdout + human.stderr


def test_every_problem_of_a_file_is_reported_at_once(tmp_path, cli):
    content = GOOD.replace("maria.lund@example.org", "maria.lund.example.org").replace(
        "responsible: Polis och skola", "responsible: Polis och brandkåren"
    )
    file = tmp_path / "two.yaml"
    file.write_text(content, encoding="utf-8")
    result = cli("check", str(file), "--json")
    assert result.returncode == 2
    # Field errors stop the reading before references are checked; the email is found first.
    paths = {e["path"] for e in json.loads(result.stdout)["errors"]}
    assert "people[5].email" in paths


def test_a_missing_file_is_a_clear_error(tmp_path, cli):
    result = cli("check", str(tmp_path / "nope.yaml"))
    assert result.returncode == 2
    assert "nope.yaml" in result.stderr and "Traceback" not in result.stderr


def test_unknown_when_names_the_phrase_and_suggests_the_structured_form(tmp_path, cli):
    file, _, _ = broken(tmp_path, CASES[-2])
    result = cli("check", str(file))
    assert "När andan faller på" in result.stderr
    assert "timing" in result.stderr


def test_nothing_is_loaded_from_a_broken_file_into_an_empty_database(tmp_path, cli, db_url):
    from workflow.agreement.models import Agreement
    from workflow.db import make_engine, session_factory

    file, _, _ = broken(tmp_path, CASES[5])
    assert cli("load", str(file)).returncode == 2
    eng = make_engine(db_url)
    with session_factory(eng)() as session:
        assert session.scalars(select(Agreement)).all() == []
    eng.dispose()
