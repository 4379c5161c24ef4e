"""A plan's own year dates its year-less När phrases; dates outside the agreement are warnings (issue 19)."""

from __future__ import annotations

import json

import pytest

from tests.conftest import HARNOSAND, SEED, trygg
from workflow.agreement.validate import read_agreement
from workflow.db import transaction
from workflow.loading import load_agreement
from workflow.plan.importing import read_plan_import
from workflow.status import resolve_agreement

AUTUMN_ROW = "Under hösten 2012\tKommun och polis"


@pytest.fixture
def loaded(sessions, clock):
    with transaction(sessions) as session:
        load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    return sessions


def _plan(tmp_path, title: str, when: str):
    text = SEED.read_text(encoding="utf-8")
    assert "Handlingsplan för 2012-2013" in text and AUTUMN_ROW in text
    path = tmp_path / "plan.txt"
    path.write_text(
        text.replace("Handlingsplan för 2012-2013", title).replace(AUTUMN_ROW, f"{when}\tKommun och polis"),
        encoding="utf-8",
    )
    return path


def _autumn_row(checked):
    return next(plan for plan, row, _ in checked.rows if row.when in ("Under hösten", "Under 2015"))


def test_the_heading_year_dates_a_phrase_without_a_year_unless_the_year_is_given(loaded, tmp_path):
    path = _plan(tmp_path, "Handlingsplan 2013", "Under hösten")
    with loaded() as session:
        agreement = resolve_agreement(session, None)
        from_heading = read_plan_import(session, agreement, path, 2012, year_given=False)
        given = read_plan_import(session, agreement, path, 2012)
    assert from_heading.year == 2013 and not from_heading.problems
    assert _autumn_row(from_heading).timing["start"] == "2013-09-01"
    assert given.year == 2012 and _autumn_row(given).timing["start"] == "2012-09-01"


def test_a_date_outside_the_agreement_is_imported_with_a_warning_at_its_row(loaded, tmp_path):
    path = _plan(tmp_path, "Handlingsplan 2013", "Under 2015")
    with loaded() as session:
        checked = read_plan_import(session, resolve_agreement(session, None), path, 2013)
    assert not checked.problems and _autumn_row(checked).timing["end"] == "2015-12-31"
    (warning,) = checked.warnings
    line = (
        path.read_text(encoding="utf-8")
        .splitlines()
        .index(next(x for x in path.read_text(encoding="utf-8").splitlines() if "Under 2015" in x))
    )
    assert (warning.file, warning.line, warning.path) == (str(path), line + 1, "När")
    assert "2015-12-31" in warning.message and "2013-12-31" in warning.message


@pytest.mark.slow  # starts the real entry point
def test_cli_json_lists_the_warnings_with_their_place(cli_loaded, tmp_path):
    path = _plan(tmp_path, "Handlingsplan 2013", "Under 2015")
    result = trygg("plan", "import", str(path), "--dry-run", "--json", env={"TRYGG_DATABASE_URL": cli_loaded})
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["year"] == 2013 and data["errors"] == []
    (warning,) = data["warnings"]
    assert warning["path"] == "När" and warning["line"] and "2015" in warning["message"]
