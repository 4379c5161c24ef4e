"""`trygg plan import`: the seed's text, CSV and XLSX become the year's plan version, by the same
path as the agreement file, with stable ids and located errors."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, ROOT, SEED, trygg
from workflow.agreement.validate import read_agreement
from workflow.db import transaction
from workflow.loading import import_plan, load_agreement
from workflow.plan.importing import read_plan_import
from workflow.plan.models import Activity, PlanVersion
from workflow.source import InputError
from workflow.status import resolve_agreement

CSV = ROOT / "tests" / "data" / "plan-harnosand.csv"


@pytest.fixture
def loaded(sessions, clock):
    with transaction(sessions) as session:
        load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    return sessions


def activities(sessions) -> dict[str, tuple]:
    """Every activity as the store has it: what it is, when, who."""
    with sessions() as session:
        return {
            a.key: (
                a.goal.area.key,
                a.goal.title,
                a.title,
                a.when_text,
                a.responsible_text,
                json.dumps(a.timing, sort_keys=True),
                a.deadline,
                tuple((o.organisation.key, o.role) for o in a.owners),
                a.state,
            )
            for a in session.scalars(select(Activity))
        }


def run_import(sessions, clock, path, year=2012, actor="cli:coordinator"):
    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        checked = read_plan_import(session, agreement, path, year)
        return checked, import_plan(session, checked, clock=clock, actor=actor)


def test_the_seed_text_gives_the_same_activities_as_the_agreement_file(loaded, clock):
    before = activities(loaded)
    checked, result = run_import(loaded, clock, SEED)
    assert len(checked.rows) == 19
    assert activities(loaded) == before
    assert result.changes == [("create", "plan_version", "2012/2")]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_csv_and_xlsx_give_the_same_activities(loaded, clock, fmt, tmp_path):
    path = CSV
    if fmt == "xlsx":
        import csv

        from openpyxl import Workbook

        book = Workbook()
        sheet = book.active
        with CSV.open(encoding="utf-8") as handle:
            for record in csv.reader(handle, delimiter=";"):
                sheet.append(record)
        path = tmp_path / "plan.xlsx"
        book.save(path)
    before = activities(loaded)
    checked, _ = run_import(loaded, clock, path)
    assert len(checked.rows) == 19
    assert activities(loaded) == before


def test_importing_the_same_file_again_changes_nothing(loaded, clock):
    run_import(loaded, clock, SEED)
    _, again = run_import(loaded, clock, SEED)
    assert again.changes == []
    with loaded() as session:
        assert len(session.scalars(select(PlanVersion)).all()) == 2


def test_a_revised_plan_keeps_ids_withdraws_and_adds(loaded, clock, tmp_path):
    text = SEED.read_text(encoding="utf-8")
    text = text.replace("Regelbundna kontroller\t2012", "Regelbundna kontroller av cyklister\tUnder 2013")
    text = text.replace(
        "Rökfria skolgårdar\tArbeta aktivt för rökfria skolgårdar.\tUnder 2012\tKommun\n",
        "Rökfria skolgårdar\tArbeta aktivt för rökfria skolgårdar.\tUnder 2012\tKommun\n"
        "Trygg skolväg\tKartlägga otrygga platser längs skolvägar\tUnder vårterminen 2013\tSkola i samverkan med polis\n",
    )
    text = text.replace(
        "Erbjuda kommuninnevånare grannsamverkan\tÅterskapa rutiner kring arbete med grannsamverkan\tUnder 2012\tPolis och kommun\n",
        "",
    )
    revised = tmp_path / "handlingsplan-2013.txt"
    revised.write_text(text, encoding="utf-8")
    run_import(loaded, clock, SEED, year=2012)

    checked, result = run_import(loaded, clock, revised, year=2013)

    keys = [plan.key for plan, _, _ in checked.rows]
    assert "tra-cykelkontroller" in keys  # edited text, same id
    assert "ung-kartlagga-otrygga-platser-langs" in keys
    changes = set(result.changes)
    assert ("update", "activity", "tra-cykelkontroller") in changes
    assert ("create", "activity", "ung-kartlagga-otrygga-platser-langs") in changes
    assert ("retire", "activity", "cen-grannsamverkan") in changes
    assert ("create", "plan_version", "2013/1") in changes
    now = activities(loaded)
    assert now["tra-cykelkontroller"][3] == "Under 2013"
    assert str(now["tra-cykelkontroller"][6]) == "2013-12-30"
    assert now["cen-grannsamverkan"][-1] == "withdrawn"
    with loaded() as session:
        versions = {(v.year, v.revision): v for v in session.scalars(select(PlanVersion))}
        assert set(versions) == {(2012, 1), (2012, 2), (2013, 1)}
        assert "grannsamverkan" in json.dumps(versions[(2012, 2)].content, ensure_ascii=False)


def test_reloading_the_agreement_file_does_not_undo_an_import(loaded, clock, tmp_path):
    revised = tmp_path / "plan.txt"
    revised.write_text(
        SEED.read_text(encoding="utf-8").replace(
            "Regelbundna kontroller\t2012", "Regelbundna kontroller\tUnder 2013"
        ),
        encoding="utf-8",
    )
    run_import(loaded, clock, revised, year=2013)
    with transaction(loaded) as session:
        result = load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    assert result.changes == []
    assert activities(loaded)["tra-cykelkontroller"][3] == "Under 2013"


def test_an_unreadable_when_is_refused_naming_the_phrase_and_its_place(loaded, clock, tmp_path):
    bad = tmp_path / "plan.txt"
    bad.write_text(
        SEED.read_text(encoding="utf-8").replace(
            "Under hösten 2012\tKommun och polis", "När snön smälter\tKommun och polis"
        ),
        encoding="utf-8",
    )
    before = activities(loaded)
    with pytest.raises(InputError) as caught:
        run_import(loaded, clock, bad)
    (problem,) = caught.value.problems
    line = (
        bad.read_text(encoding="utf-8")
        .splitlines()
        .index(next(x for x in bad.read_text(encoding="utf-8").splitlines() if "När snön smälter" in x))
        + 1
    )
    assert (problem.file, problem.line, problem.path) == (str(bad), line, "När")
    assert problem.column == len("Erbjuda trygghetsvandringar\tUtföra trygghetsvandring (ar)\t") + 1
    assert "När snön smälter" in problem.message
    assert activities(loaded) == before


def test_an_unknown_responsible_word_is_named(loaded, clock, tmp_path):
    bad = tmp_path / "plan.csv"
    bad.write_text(
        CSV.read_text(encoding="utf-8").replace("Polis och socialtjänst", "Polis och Tullverket"),
        encoding="utf-8",
    )
    with pytest.raises(InputError) as caught:
        run_import(loaded, clock, bad)
    assert any("Tullverket" in p.message and p.path == "Ansvarig" for p in caught.value.problems)


def test_a_year_outside_the_agreement_is_refused(loaded, clock):
    with pytest.raises(InputError, match="2015"):
        run_import(loaded, clock, SEED, year=2015)


def test_cli_dry_run_prints_19_activities_and_writes_nothing(cli_loaded):
    env = {"TRYGG_DATABASE_URL": cli_loaded}
    result = trygg("plan", "import", str(SEED), "--dry-run", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert len(data["activities"]) == 19 and data["errors"] == []
    first = data["activities"][0]
    assert first["owners"] == ["polisen", "skola"] and first["timing"]["kind"] == "window"
    again = json.loads(trygg("plan", "import", str(SEED), "--dry-run", "--json", env=env).stdout)
    assert again["changes"] == data["changes"]  # the dry run wrote nothing


def test_cli_refuses_a_bad_row_with_its_place(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded}
    bad = tmp_path / "plan.txt"
    bad.write_text(
        SEED.read_text(encoding="utf-8").replace("Uppföljning månadsvis", "Ibland kanske"), encoding="utf-8"
    )
    result = trygg("plan", "import", str(bad), "--json", env=env)
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert any("Ibland kanske" in e["message"] and e["line"] and e["column"] for e in data["errors"])
    human = trygg("plan", "import", str(bad), env=env)
    assert "Ibland kanske" in human.stderr and f"{bad}:" in human.stderr
