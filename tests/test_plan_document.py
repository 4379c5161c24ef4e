"""Reading an action plan file (Word text copy, CSV, XLSX) into areas and rows with their places."""

from __future__ import annotations

import hashlib
import tempfile
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import Workbook

from workflow.plan_language.document import PlanDocument, read_plan
from workflow.source import InputError, Problem

SEED = (
    Path(__file__).resolve().parents[1]
    / "config"
    / "agreements"
    / "sources"
    / "overenskommelse-harnosand-2012-2013.txt"
)
DATA = Path(__file__).resolve().parent / "data"
TITLES = [
    "Förebyggande arbete ungdomar",
    "Trygga medborgare i ett tryggt centrum",
    "Alkohol och drogrelaterad brottslighet",
    "Trafik",
    "Livsstilskriminella",
]
HEADER = "Mål\tAktivitet\tNär\tAnsvarig"


@pytest.fixture(scope="module")
def seed() -> PlanDocument:
    return read_plan(SEED)


def tuples(doc: PlanDocument) -> list[tuple[str, str, str, str, str]]:
    return [(a.title, r.goal, r.activity, r.when, r.responsible) for a in doc.areas for r in a.rows]


def write(directory: Path, name: str, content: str | bytes) -> Path:
    path = directory / name
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content, encoding="utf-8")
    return path


def only_problem(path: Path) -> Problem:
    with pytest.raises(InputError) as caught:
        read_plan(path)
    assert len(caught.value.problems) == 1, caught.value.problems
    return caught.value.problems[0]


# --- the seed itself ------------------------------------------------------------------------


def test_seed_has_its_five_areas_in_plan_order_not_priority_list_order(seed):
    assert [a.title for a in seed.areas] == TITLES
    assert [a.number for a in seed.areas] == [1, 2, 3, 4, 5]
    assert [len(a.rows) for a in seed.areas] == [8, 4, 2, 3, 2]
    assert seed.title == "Handlingsplan för 2012-2013"
    assert seed.sha256 == hashlib.sha256(SEED.read_bytes()).hexdigest()


def test_seed_rows_keep_the_coordinators_wording_typos_included(seed):
    rows = tuples(seed)
    assert len(rows) == 19
    assert rows[0] == (
        TITLES[0],
        "Ökad kontakt mellan polis, föräldrar och skolpersonal",
        "Kontaktuppgifter ska lämnas mellan polis och skola",
        "Under 2012",
        "Polis och skola",
    )
    assert rows[3][4] == "Kommunen i samverkan med polis, räddningstjänst, socialtjänst och handels"
    assert rows[5][1:3] == (
        "Drogrfria miljöer",
        "Utveckla Kåken genom olika arrangemang, besök regelbundet av polis",
    )
    assert rows[9][2:] == (
        "Avvisa och/eller omhändertaga människor som stör den allmänna ordningen.",
        "Kontinuerligt",
        "Polis",
    )
    assert rows[13][1] == "Våld i nära relation?"
    assert rows[15][3] == "2 gånger/år samt vid remissförfarande"
    assert rows[18][2:] == (
        "Öka och aktualisera anmälningar enligt LVM ² 6 § samt SOL ³ 14 §",
        "Under projektiden",
        "Polis och kommun",
    )


def test_seed_last_row_with_empty_goal_continues_the_goal_above(seed):
    above, last = seed.areas[4].rows
    assert last.goal == above.goal
    assert last.goal.startswith("Minska förekomst av mängdbrott")


def test_seed_line_numbers_and_columns_point_into_the_file(seed):
    lines = SEED.read_text(encoding="utf-8").split("\n")
    assert [a.line for a in seed.areas] == [92, 112, 126, 136, 147]
    assert [r.line for r in seed.areas[0].rows] == list(range(103, 111))
    assert seed.areas[4].rows[1].line == 155
    for area in seed.areas:
        assert lines[area.line - 1].endswith(area.title)
        for row in area.rows:
            text = lines[row.line - 1]
            for name in ("activity", "when", "responsible"):
                column = row.columns[name]
                assert text[column - 1 :].startswith(getattr(row, name)), (row.line, name)
    assert seed.areas[4].rows[1].columns == {"goal": 1, "activity": 2, "when": 67, "responsible": 85}
    assert all(r.id is None for a in seed.areas for r in a.rows)


def test_seed_footnotes_stay_with_their_area_and_backgrounds_are_read(seed):
    assert [a.footnotes for a in seed.areas] == [
        (),
        ("¹ Brottsförebyggande rådets Nationella trygghetsundersökning.",),
        (),
        (),
        ("² Lagen om vård av missbrukare", "³ Socialtjänstlagen"),
    ]
    assert all(a.background for a in seed.areas)
    first = seed.areas[0].background
    assert first.startswith("Brott som begås av ungdomar")
    assert first.count("\n\n") == 2  # three paragraphs
    assert "brottslighet¹ jämfört med 2011" in seed.areas[1].background
    assert "Bakgrund" not in first
    assert "Kontaktinformation" not in seed.areas[4].background


def test_seed_with_windows_line_endings_and_bom_reads_the_same(seed, tmp_path):
    crlf = "\ufeff" + SEED.read_text(encoding="utf-8").replace("\n", "\r\n")
    doc = read_plan(write(tmp_path, "plan.txt", crlf))
    assert tuples(doc) == tuples(seed)
    assert [r.line for a in doc.areas for r in a.rows] == [r.line for a in seed.areas for r in a.rows]


def test_plan_without_title_starts_at_first_area_not_at_priority_list(seed, tmp_path):
    text = SEED.read_text(encoding="utf-8").replace("Handlingsplan för 2012-2013\n", "\n")
    doc = read_plan(write(tmp_path, "plan.txt", text))
    assert doc.title is None
    assert tuples(doc) == tuples(seed)


# --- CSV and XLSX ---------------------------------------------------------------------------


def test_csv_version_reads_like_the_seed(seed):
    doc = read_plan(DATA / "plan-harnosand.csv")
    assert tuples(doc) == tuples(seed)
    rows = [r for a in doc.areas for r in a.rows]
    assert [r.line for r in rows] == list(range(2, 21))
    assert rows[0].id == "ung-kontaktuppgifter" and rows[2].id is None
    assert rows[18].columns == {"goal": 3, "activity": 4, "when": 5, "responsible": 6}
    assert doc.areas[3].background == "Det övergripande målet är att höja trafiksäkerheten."
    assert doc.areas[0].number is None and doc.areas[0].footnotes == ()


def test_csv_lines_are_physical_lines_when_a_cell_spans_lines(tmp_path):
    path = write(
        tmp_path,
        "plan.csv",
        "area,goal,activity,when,responsible\n"
        'Trafik,"Säkrare\ncykling",Kontroller,2012,Polis\n'
        ",,Kampanj,2013,Kommun\n",
    )
    doc = read_plan(path)
    assert [r.line for r in doc.areas[0].rows] == [2, 4]
    assert doc.areas[0].rows[1].goal == "Säkrare\ncykling"


def test_csv_from_windows_excel_in_cp1252_is_decoded(tmp_path):
    text = "Område;Mål;Aktivitet;När;Ansvarig\r\n2. Trafik;Säkrare gång;Kontroller;Under 2012;Polis\r\n"
    doc = read_plan(write(tmp_path, "plan.csv", text.encode("cp1252")))
    assert (doc.areas[0].number, doc.areas[0].title) == (2, "Trafik")
    assert tuples(doc) == [("Trafik", "Säkrare gång", "Kontroller", "Under 2012", "Polis")]


def test_xlsx_version_reads_like_the_seed(seed, tmp_path):
    book = Workbook()
    book.active.title = "Info"
    book.active.append(["Detta blad ska inte läsas"])
    sheet = book.create_sheet("Handlingsplan")
    sheet.append([])  # the header is in the first non-empty row
    sheet.append(["Område", "Mål", "Aktivitet", "När", "Ansvarig", "Id"])
    for number, (area, goal, activity, when, responsible) in enumerate(tuples(seed), start=1):
        sheet.append([area, goal, activity, when, responsible, number if number % 2 else None])
    sheet.cell(row=21, column=2).value = None  # an empty Mål continues the goal above
    book.save(tmp_path / "plan.xlsx")

    doc = read_plan(tmp_path / "plan.xlsx")
    assert tuples(doc) == tuples(seed)
    rows = [r for a in doc.areas for r in a.rows]
    assert [r.line for r in rows] == list(range(3, 22))
    assert (rows[0].id, rows[1].id) == ("1", None)
    assert rows[0].columns == {"goal": 2, "activity": 3, "when": 4, "responsible": 5}


# --- broken inputs --------------------------------------------------------------------------


def test_text_row_with_three_cells_is_refused_with_its_place():
    path = DATA / "plan-broken-row.txt"
    problem = only_problem(path)
    line = "Säkrare cykling\tCykelkampanj i skolorna\tKommun"
    assert (problem.file, problem.line, problem.column) == (str(path), 11, len(line) + 1)
    assert "raden har 3 kolumner, väntade 4" in problem.message


def test_text_row_with_five_cells_points_at_the_extra_cell(tmp_path):
    row = "Mål ett\tAktivitet\tUnder 2012\tPolis\tÖver"
    path = write(tmp_path, "plan.txt", f"1. Trafik\n\n{HEADER}\t\n{row}\n")
    problem = only_problem(path)
    assert (problem.line, problem.column) == (4, row.index("Över") + 1)
    assert "5 kolumner" in problem.message


def test_trailing_tabs_and_spaces_in_header_and_rows_are_tolerated(tmp_path):
    path = write(tmp_path, "plan.txt", "1. Trafik\n mål \t AKTIVITET\tnär\tAnsvarig\t\t\nA\tB\tC\tD\t\t\n")
    assert tuples(read_plan(path)) == [("Trafik", "A", "B", "C", "D")]


def test_row_before_any_header_is_refused(tmp_path):
    text = f"Handlingsplan för 2014\n\n1. Trafik\n\nBakgrund\n\nText.\nA\tB\tC\tD\n{HEADER}\n"
    problem = only_problem(write(tmp_path, "plan.txt", text))
    assert (problem.line, problem.column) == (8, 1)
    assert "före tabellens rubrikrad" in problem.message


def test_table_without_area_heading_is_refused(tmp_path):
    text = f"Handlingsplan för 2014\n\nBakgrund\n\n{HEADER}\nA\tB\tC\tD\n"
    problem = only_problem(write(tmp_path, "plan.txt", text))
    assert (problem.line, problem.column) == (5, 1)
    assert "områdesrubrik" in problem.message


def test_first_row_with_empty_goal_is_refused(tmp_path):
    problem = only_problem(write(tmp_path, "plan.txt", f"1. Trafik\n{HEADER}\n\tB\tC\tD\n"))
    assert (problem.line, problem.column, problem.path) == (3, 1, "Mål")


def test_csv_missing_nar_column_names_the_header_line(tmp_path):
    path = write(tmp_path, "plan.csv", "\nOmråde;Mål;Aktivitet;Ansvarig\nTrafik;A;B;Polis\n")
    problem = only_problem(path)
    assert (problem.file, problem.line, problem.column, problem.path) == (str(path), 2, None, "När")
    assert 'kolumnen "När" saknas' in problem.message


def test_empty_file_is_refused(tmp_path):
    for name in ("plan.txt", "plan.csv", "plan.xlsx"):
        path = write(tmp_path, name, b"")
        problem = only_problem(path)
        assert (problem.file, problem.line, problem.column) == (str(path), 1, 1)
        assert problem.message == "filen är tom"


def test_binary_garbage_is_refused_at_its_first_bad_byte(tmp_path):
    path = write(tmp_path, "plan.txt", b"M\xc3\xa5l\tAktivitet\n\x89PNG\x00\x01\x02\xff")
    problem = only_problem(path)
    assert (problem.file, problem.line, problem.column) == (str(path), 2, 5)
    assert "binärt" in problem.message


def test_text_file_that_is_not_an_xlsx_is_refused_as_xlsx(tmp_path):
    problem = only_problem(write(tmp_path, "plan.xlsx", "Område;Mål\n"))
    assert "Excel" in problem.message


def test_signatures_after_the_last_area_are_ignored_even_with_tabs(tmp_path):
    text = f"1. Trafik\n{HEADER}\nA\tB\tC\tD\n\nKontaktinformation:\n\nThomas Nyberg\tFred Nilsson\n"
    assert tuples(read_plan(write(tmp_path, "plan.txt", text))) == [("Trafik", "A", "B", "C", "D")]


def test_cell_with_a_line_break_is_refused_not_misread(tmp_path):
    text = f"1. Trafik\n{HEADER}\nA\tB\tC\tD\nSäkrare\ncykling\tKampanj\t2014\tKommun\n"
    problem = only_problem(write(tmp_path, "plan.txt", text))
    assert (problem.line, problem.column) == (5, 1)
    assert "texten på rad 4" in problem.message


def test_area_heading_without_a_table_is_refused(tmp_path):
    text = f"1. Trafik\n\nBakgrund\n\n2. Livsstilskriminella\n{HEADER}\nA\tB\tC\tD\n"
    problem = only_problem(write(tmp_path, "plan.txt", text))
    assert (problem.line, problem.column) == (1, 1)
    assert 'området "1. Trafik" har ingen tabell' in problem.message


def test_unreadable_path_is_refused(tmp_path):
    problem = only_problem(tmp_path)
    assert (problem.file, problem.line) == (str(tmp_path), None)
    assert problem.message.startswith("kan inte läsas")


def test_file_with_no_plan_table_is_refused(tmp_path):
    problem = only_problem(write(tmp_path, "plan.txt", "Överenskommelse\n\n1. Trafik\n"))
    assert "ingen handlingsplan" in problem.message


# --- never a traceback ----------------------------------------------------------------------

PIECES = [
    "1. Trafik",
    "Bakgrund",
    HEADER,
    "A\tB\tC\tD",
    "\tB\tC\tD",
    "A\tB",
    "¹ Not",
    "Text",
    "Handlingsplan för 2014",
    "",
    "\t\t",
    "Mål\tAktivitet",
    "\r",
    "\ufeff",
]


def read_or_refuse(content: str | bytes, suffix: str) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = write(Path(tmp), "plan" + suffix, content)
        try:
            assert isinstance(read_plan(path), PlanDocument)
        except InputError as exc:
            assert exc.problems and all(p.file == str(path) for p in exc.problems)


# Pieces of plans around a small valid one, so that both reading and refusing get exercised.
NOISE = st.lists(st.sampled_from(PIECES) | st.text(max_size=8), max_size=6)
PLANISH = st.tuples(NOISE, NOISE, NOISE).map(
    lambda n: "\n".join([*n[0], "1. Trafik", *n[1], HEADER, "A\tB\tC\tD", *n[2]])
)


@settings(max_examples=200, deadline=None)
@given(st.one_of(st.text(), PLANISH), st.sampled_from([".txt", ".csv", ".doc"]))
def test_any_text_is_read_or_refused_never_crashes(content, suffix):
    read_or_refuse(content, suffix)


@settings(max_examples=100, deadline=None)
@given(st.binary(), st.sampled_from([".txt", ".csv", ".xlsx"]))
def test_any_bytes_are_read_or_refused_never_crash(content, suffix):
    read_or_refuse(content, suffix)
