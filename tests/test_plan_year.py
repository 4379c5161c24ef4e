"""A plan's own year dates its year-less När phrases; dates outside the agreement are warnings (issue 19)."""

from __future__ import annotations

import json
from datetime import date

import pytest

from tests.conftest import HARNOSAND, SEED, trygg
from workflow.agreement.context import context_of
from workflow.agreement.validate import read_agreement
from workflow.db import transaction
from workflow.loading import import_plan, load_agreement
from workflow.plan.importing import read_plan_import
from workflow.reminders.targets import targets_of
from workflow.report.yearly import yearly_report
from workflow.status import agreement_status, resolve_agreement

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
    assert warning["field"] == "När" and warning["line"] and "2015" in warning["message"]


def test_the_new_kinds_go_through_the_engine_deadlines_follow_ups_status_and_report(loaded, clock, tmp_path):
    """A count within a span is due at its end; a count per month is followed up monthly with no
    deadline; 'vid behov' has neither; each shows in the status and the yearly report as such."""
    text = SEED.read_text(encoding="utf-8").replace("Handlingsplan för 2012-2013", "Handlingsplan 2013")
    text = text.replace(AUTUMN_ROW, "Minst 4 tillfällen under hösten\tKommun och polis")
    text = text.replace("\tUppföljning månadsvis\t", "\t2 gånger per månad\t")
    text = text.replace("\tKontinuerligt\tPolis", "\tVid behov\tPolis")
    path = tmp_path / "plan.txt"
    path.write_text(text, encoding="utf-8")
    with transaction(loaded) as session:
        agreement = resolve_agreement(session, None)
        checked = read_plan_import(session, agreement, path, 2012, year_given=False)
        assert not checked.problems and checked.year == 2013
        import_plan(session, checked, clock=clock, actor="cli:test")
    with loaded() as session:
        agreement = resolve_agreement(session, None)
        rows = {
            a["when"]: a for area in agreement_status(session, agreement)["areas"] for a in area["activities"]
        }
        report = yearly_report(session, agreement, 2013, date(2013, 12, 31))
        context = context_of(agreement)
        monthly = rows["2 gånger per månad"]
        targets = targets_of(
            timing=monthly["timing"], deadline=None, open_events=(), reported_at=None,
            ctx=context.timing, cal=context.workdays, today=date(2013, 3, 10),
        )  # fmt: skip
    counted, as_needed = rows["Minst 4 tillfällen under hösten"], rows["Vid behov"]
    assert (
        counted["timing"]["kind"] == "occasions" and counted["deadline"] == "2013-11-29"
    )  # 30 Nov: Saturday
    assert counted["starts_on"] == "2013-09-01"
    assert monthly["timing"]["kind"] == "occasions" and monthly["deadline"] is None
    assert [(t.kind, t.due) for t in targets] == [
        ("follow_up", date(2013, 3, 28)),
        ("follow_up", date(2013, 4, 30)),
    ]
    assert as_needed["timing"]["kind"] == "as_needed" and as_needed["deadline"] is None
    followed = {f["title"]: f["due"] for f in report["follow_ups"]}
    assert followed[monthly["title"]] == 12 and as_needed["title"] not in followed
