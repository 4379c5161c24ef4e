"""Hostile input files are refused with their place, within bounded memory, and change nothing:
XLSX dimension bombs and understatements, huge cells, 200k-row CSVs, YAML alias bombs and deep
nesting, control characters in names and cells, and an import that would withdraw most of a plan.

Commands that run in a child process are measured (peak RSS of that child, wall time); with
TRYGG_HOSTILE_REPORT=FILE the measurements are written there as a Markdown table."""

from __future__ import annotations

import csv
import json
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from openpyxl import Workbook
from sqlalchemy import select

from tests.conftest import HARNOSAND, ROOT, load_file
from tests.test_bad_input import dump
from workflow import migrate
from workflow.db import make_engine, session_factory, transaction
from workflow.loading import import_plan
from workflow.plan.importing import read_plan_import, withdrawal_problem
from workflow.plan.models import Activity, ActivityState
from workflow.plan_language.document import read_plan
from workflow.source import InputError, Limits, read_yaml
from workflow.status import resolve_agreement

CSV_PLAN = ROOT / "tests" / "data" / "plan-harnosand.csv"
MB = 1024 * 1024
MEMORY_BOUND_MB = 200
REPORT: list[tuple[str, str, str, float, float, bool]] = []


@dataclass
class Measured:
    returncode: int
    stdout: str
    stderr: str
    peak_mb: float
    seconds: float


def measure(*args: str, env: dict[str, str]) -> Measured:
    """`trygg ARGS` in a child process: its exit code, output, peak RSS (of that child alone,
    from wait4) and wall time. The child's address space is capped at 2 GB, so a regression
    fails the test instead of taking the machine down."""

    def cap() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2048 * MB, 2048 * MB))

    started = time.monotonic()
    with tempfile.TemporaryFile() as stdout, tempfile.TemporaryFile() as stderr:
        proc = subprocess.Popen(
            [sys.executable, "-m", "tasks.cli", *args],
            stdin=subprocess.DEVNULL,
            stdout=stdout,
            stderr=stderr,
            env={**os.environ, "TRYGG_LANGUAGE": "sv", **env},
            cwd=ROOT,
            preexec_fn=cap,
        )
        _, status, usage = os.wait4(proc.pid, 0)
        proc.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.monotonic() - started
        stdout.seek(0), stderr.seek(0)
        out, err = (f.read().decode("utf-8", errors="replace") for f in (stdout, stderr))
    return Measured(proc.returncode, out, err, usage.ru_maxrss / 1024, seconds)


def record(case: str, command: str, result: Measured, outcome: str, unchanged: bool) -> None:
    REPORT.append((case, command, outcome, result.peak_mb, result.seconds, unchanged))


@pytest.fixture(scope="module", autouse=True)
def report_table():
    yield
    target = os.environ.get("TRYGG_HOSTILE_REPORT")
    if target and REPORT:
        lines = [
            "| input | command | outcome | peak memory | time | database unchanged |",
            "|---|---|---|---|---|---|",
        ]
        for case, command, outcome, peak, seconds, unchanged in REPORT:
            lines.append(
                f"| {case} | `{command}` | {outcome} | {peak:.0f} MB | {seconds:.1f} s | "
                f"{'yes' if unchanged else 'NO'} |"
            )
        Path(target).write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def loaded_db(tmp_path_factory) -> Path:
    """A SQLite file with the Härnösand agreement loaded, built once; tests use copies."""
    path = tmp_path_factory.mktemp("hostile") / "loaded.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    load_file(session_factory(engine), HARNOSAND)
    engine.dispose()
    return path


@pytest.fixture
def db(loaded_db, tmp_path) -> str:
    copy = tmp_path / "trygg.db"
    shutil.copy(loaded_db, copy)
    return f"sqlite:///{copy}"


def plan_records() -> list[list[str]]:
    with CSV_PLAN.open(encoding="utf-8") as handle:
        return list(csv.reader(handle, delimiter=";"))


def xlsx(path: Path, records: list[list[str]], dimension: str | None = None) -> Path:
    """A workbook of `records`; `dimension` patches the sheet's declared <dimension ref>."""
    book = Workbook()
    for record_ in records:
        book.active.append(record_)
    book.save(path)
    if dimension is not None:
        patch_member(path, "xl/worksheets/sheet1.xml", lambda xml: _with_dimension(xml, dimension))
    return path


def _with_dimension(xml: bytes, ref: str) -> bytes:
    patched, n = re.subn(rb'<dimension ref="[^"]*"\s*/>', f'<dimension ref="{ref}"/>'.encode(), xml)
    assert n == 1
    return patched


def patch_member(path: Path, name: str, change) -> None:
    """Rewrite one member of a zip file."""
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            target.writestr(info, change(data) if info.filename == name else data)


def import_json(db: str, path: Path, *extra: str) -> Measured:
    return measure(
        "plan",
        "import",
        str(path),
        "--year",
        "2012",
        "--dry-run",
        "--json",
        *extra,
        env={"TRYGG_DATABASE_URL": db},
    )


# --- XLSX ------------------------------------------------------------------------------------


def test_dimension_bomb_is_read_by_its_content_under_200_mb(db, tmp_path):
    """`<dimension ref="A1:XFD1048576"/>` made openpyxl fill 17 billion cells (15 GB): the
    declared dimension is ignored, the sheet's 19 activities are read as they are."""
    bomb = xlsx(tmp_path / "bomb.xlsx", plan_records(), "A1:XFD1048576")
    assert bomb.stat().st_size < 10_000
    before = dump(db)
    result = import_json(db, bomb)
    assert result.returncode == 0, result.stderr
    assert len(json.loads(result.stdout)["activities"]) == 19
    assert result.peak_mb < MEMORY_BOUND_MB
    assert dump(db) == before
    record(
        'XLSX, 7 KB, `<dimension ref="A1:XFD1048576"/>`',
        "trygg plan import bomb.xlsx --dry-run",
        result,
        "exit 0, its 19 rows read (dimension ignored)",
        True,
    )


def test_a_dimension_bomb_with_a_cell_at_the_last_row_is_refused_under_200_mb(db, tmp_path):
    records = [*plan_records(), *[[] for _ in range(3)]]
    bomb = xlsx(tmp_path / "bomb.xlsx", records, "A1:XFD1048576")
    patch_member(
        bomb,
        "xl/worksheets/sheet1.xml",
        lambda xml: xml.replace(
            b"</sheetData>",
            b'<row r="1048576"><c r="A1048576" t="inlineStr"><is><t>x</t></is></c></row></sheetData>',
        ),
    )
    before = dump(db)
    result = import_json(db, bomb)
    assert result.returncode == 2, result.stderr
    errors = json.loads(result.stdout)["errors"]
    assert [(e["line"], e["path"]) for e in errors] == [(1048576, "Aktivitet")], errors
    assert result.peak_mb < MEMORY_BOUND_MB
    assert dump(db) == before
    record(
        "XLSX, dimension bomb plus a cell in row 1,048,576",
        "trygg plan import bomb.xlsx --dry-run",
        result,
        "exit 2, located: row 1048576, Aktivitet missing",
        True,
    )


def test_an_understated_dimension_imports_all_rows(loaded, clock, tmp_path):
    """A correct 20-row sheet declaring `A1:F5` imported 4 activities and withdrew 15."""
    sheet = xlsx(tmp_path / "plan.xlsx", plan_records(), "A1:F5")
    with transaction(loaded) as session:
        agreement = resolve_agreement(session, None)
        checked = read_plan_import(session, agreement, sheet, 2012)
        result = import_plan(session, checked, clock=clock, actor="cli:test")
    assert len(checked.rows) == 19
    assert not [c for c in result.changes if c[0] == "retire"]


def huge_string_xlsx(path: Path, megabytes: int) -> Path:
    """A small XLSX whose one cell's string unpacks to `megabytes` MB, written streaming."""
    xlsx(
        path, [["Område", "Mål", "Aktivitet", "När", "Ansvarig"], ["Trafik", "Mål", "HUGE", "2012", "Polis"]]
    )
    with zipfile.ZipFile(path) as source:
        members = [(info, source.read(info)) for info in source.infolist()]
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as target:
        for info, data in members:
            if info.filename != "xl/worksheets/sheet1.xml":
                target.writestr(info, data)
                continue
            head, tail = data.split(b"HUGE")
            with target.open(info.filename, "w", force_zip64=True) as member:
                member.write(head)
                chunk = b"A" * MB
                for _ in range(megabytes):
                    member.write(chunk)
                member.write(tail)
    return path


def test_an_xlsx_that_unpacks_to_a_huge_string_is_refused_before_it_is_unpacked(db, tmp_path):
    sheet = huge_string_xlsx(tmp_path / "huge.xlsx", 300)
    assert sheet.stat().st_size < 2 * MB
    before = dump(db)
    result = import_json(db, sheet)
    assert result.returncode == 2, result.stderr
    assert "4 × TRYGG_MAX_FILE_MB" in json.loads(result.stdout)["errors"][0]["message"]
    assert result.peak_mb < MEMORY_BOUND_MB
    assert dump(db) == before
    record(
        "XLSX, 0.3 MB, one string of 300 MB",
        "trygg plan import huge.xlsx --dry-run",
        result,
        "exit 2: unpacks past 4 × TRYGG_MAX_FILE_MB",
        True,
    )


def test_a_cell_longer_than_the_limit_is_refused_with_its_place(tmp_path):
    records = [
        ["Område", "Mål", "Aktivitet", "När", "Ansvarig"],
        ["Trafik", "Mål", "x" * 20_000, "2012", "Polis"],
    ]
    with pytest.raises(InputError) as refused:
        read_plan(xlsx(tmp_path / "long.xlsx", records))
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (2, 3)
    assert "10000" in problem.message


def test_text_in_a_column_past_the_limit_is_refused_with_its_place(tmp_path):
    header = ["Område", "Mål", "Aktivitet", "När", "Ansvarig"]
    row = ["Trafik", "Mål", "Kontroller", "2012", "Polis", *[""] * 45, "kommentar"]
    with pytest.raises(InputError) as refused:
        read_plan(xlsx(tmp_path / "wide.xlsx", [header, row]))
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (2, 51)


# --- CSV and text ----------------------------------------------------------------------------


def test_a_200k_row_csv_is_refused_by_the_row_limit_cheaply(db, tmp_path):
    """200,000 rows took 7 min 42 s and 2.77 GB in --dry-run."""
    path = tmp_path / "big.csv"
    with path.open("w", encoding="utf-8") as handle:
        handle.write("Område;Mål;Aktivitet;När;Ansvarig\n")
        for n in range(200_000):
            handle.write(f"Trafik;Säkrare;Kontroll {n};2012;Polis\n")
    assert path.stat().st_size < 10 * MB
    before = dump(db)
    result = import_json(db, path)
    assert result.returncode == 2, result.stderr
    (error,) = json.loads(result.stdout)["errors"]
    assert error["line"] == 5002 and "TRYGG_MAX_PLAN_ROWS" in error["message"]
    assert result.peak_mb < MEMORY_BOUND_MB
    assert dump(db) == before
    record(
        "CSV, 200,000 rows (7 MB)",
        "trygg plan import big.csv --dry-run",
        result,
        "exit 2, located at line 5002: TRYGG_MAX_PLAN_ROWS",
        True,
    )


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path):
    path = tmp_path / "plan.txt"
    path.write_bytes(b"x" * (MB + 1))
    with pytest.raises(InputError) as refused:
        read_plan(path, Limits(max_bytes=MB, max_rows=5000))
    assert "TRYGG_MAX_FILE_MB" in refused.value.problems[0].message


def test_the_row_limit_is_a_setting(tmp_path, monkeypatch):
    from workflow.settings import get_settings

    monkeypatch.setenv("TRYGG_MAX_PLAN_ROWS", "10")
    get_settings.cache_clear()
    try:
        with pytest.raises(InputError) as refused:
            read_plan(CSV_PLAN)
    finally:
        get_settings.cache_clear()
    assert refused.value.problems[0].line == 12


def test_a_text_plan_with_too_many_table_rows_is_refused(tmp_path):
    path = tmp_path / "plan.txt"
    rows = "".join(f"Mål\tAktivitet {n}\t2012\tPolis\n" for n in range(30))
    path.write_text(f"1. Trafik\nMål\tAktivitet\tNär\tAnsvarig\n{rows}", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_plan(path, Limits(max_bytes=MB, max_rows=20))
    assert refused.value.problems[0].line == 23


@pytest.mark.parametrize(
    ("cell", "value", "path"),
    [
        ("activity", "Kontroller\nKampanj", "Aktivitet"),
        ("responsible", "Polis\x1bX", "Ansvarig"),
        ("activity", "Kontroller\u2028Kampanj", "Aktivitet"),
        ("area", "Tra\rfik", "Område"),
    ],
)
def test_control_characters_in_plan_cells_are_refused_with_their_place(tmp_path, cell, value, path):
    header = ["Område", "Mål", "Aktivitet", "När", "Ansvarig"]
    row = dict(
        zip(
            ["area", "goal", "activity", "when", "responsible"],
            ["Trafik", "Mål", "Kontroller", "2012", "Polis"],
            strict=True,
        )
    )
    row[cell] = value
    file = tmp_path / "plan.csv"
    with file.open("w", encoding="utf-8", newline="") as handle:
        csv.writer(handle, delimiter=";").writerows([header, list(row.values())])
    with pytest.raises(InputError) as refused:
        read_plan(file)
    (problem,) = refused.value.problems
    assert (problem.line, problem.column, problem.path) == (2, header.index(path) + 1, path)
    assert "styrtecken" in problem.message


def test_a_goal_may_break_lines_as_a_merged_excel_cell_does(tmp_path):
    file = tmp_path / "plan.csv"
    file.write_text(
        'Område;Mål;Aktivitet;När;Ansvarig\nTrafik;"Säkrare\ncykling";Kontroller;2012;Polis\n',
        encoding="utf-8",
    )
    assert read_plan(file).areas[0].rows[0].goal == "Säkrare\ncykling"


# --- YAML ------------------------------------------------------------------------------------

ALIAS_BOMB = "\n".join(
    [
        'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]',
        *(f"{x}: &{x} [{', '.join([f'*{p}'] * 9)}]" for p, x in zip("abcdefgh", "bcdefghi", strict=True)),
    ]
)


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_an_alias_bomb_is_refused_with_its_place_under_200_mb(db, tmp_path):
    """486 bytes of anchors and aliases grew `trygg check` past 2.4 GB."""
    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "\n", encoding="utf-8")
    assert path.stat().st_size < 600
    before = dump(db)
    for command in ("check", "load"):
        result = measure(command, str(path), env={"TRYGG_DATABASE_URL": db})
        assert result.returncode == 2, result.stderr
        assert re.search(
            rf"{re.escape(str(path))}:\d+:\d+: \w+\[\d+\]: filen har fler än 100000", result.stderr
        )
        assert "Traceback" not in result.stderr
        assert result.peak_mb < MEMORY_BOUND_MB
    assert dump(db) == before
    record(
        "YAML alias bomb, 406 bytes (9 anchors × 9 aliases)",
        "trygg load bomb.yaml",
        result,
        "exit 2, located at the alias that passes 100,000 nodes",
        True,
    )


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_deep_nesting_is_a_located_error(db, tmp_path):
    path = tmp_path / "deep.yaml"
    path.write_text("title: " + "[" * 100_000 + "]" * 100_000 + "\n", encoding="utf-8")
    before = dump(db)
    result = measure("load", str(path), env={"TRYGG_DATABASE_URL": db})
    assert result.returncode == 2, result.stderr
    assert re.search(rf"{re.escape(str(path))}:1:\d+: title(\[0\])+: för djupt nästlad", result.stderr)
    assert "Traceback" not in result.stderr
    assert dump(db) == before
    record(
        "YAML nested 100,000 deep", "trygg load deep.yaml", result, "exit 2, located: nesting past 40", True
    )


@pytest.mark.parametrize(
    ("text", "line", "message"),
    [
        ("a: &x [1, *x]\n", 1, "pekar på värdet det självt står i"),
        ("a: 1\nb: *nowhere\n", 2, "undefined alias"),
    ],
)
def test_recursive_and_undefined_aliases_are_located_errors(tmp_path, text, line, message):
    path = tmp_path / "alias.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_yaml(path)
    (problem,) = refused.value.problems
    assert problem.line == line and message in problem.message


def test_a_control_character_outside_quotes_is_a_located_yaml_error(tmp_path):
    path = tmp_path / "ctrl.yaml"
    path.write_text("a: 1\nb: x\x07y\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_yaml(path)
    (problem,) = refused.value.problems
    assert (problem.line, problem.column) == (2, 5) and "U+0007" in problem.message


NAME = "    name: Anna Sjöberg\n"


@pytest.mark.parametrize(
    ("old", "new", "path"),
    [
        (NAME, '    name: "Anna\\nSjöberg"\n', "people[2].name"),
        (NAME, '    name: "Anna\\rBcc: x@example.org"\n', "people[2].name"),
        (NAME, '    name: "Anna\\0"\n', "people[2].name"),
        (NAME, '    name: "Anna\\LSjöberg"\n', "people[2].name"),
        (NAME, '    name: "Anna\\x7f"\n', "people[2].name"),
        (
            "title: Överenskommelse för ökad trygghet i Härnösands kommun 2012-2013",
            'title: "Överens\\nkommelse"',
            "title",
        ),
        ("  name: Rådet för trygghet och hälsa", '  name: "Rådet\\tför trygghet och hälsa"', "council.name"),
        ("  place: Härnösand\n", '  place: "Härnösand\\n"\n', "signed.place"),
        (
            "    location: Kommunhuset, Härnösand (exempel)",
            '    location: "Kommun\\rhuset"',
            "cycle.council_meetings.location",
        ),
        (
            "- id: polisen\n    name: Härnösands närpolisområde",
            '- id: polisen\n    name: "Polisen\\u0085"',
            "organisations[0].name",
        ),
    ],
    ids=[
        "newline",
        "header-injection",
        "nul",
        "line-separator",
        "del",
        "title",
        "council",
        "place",
        "location",
        "nel",
    ],
)
def test_control_characters_in_names_and_titles_are_refused_with_their_place(db, tmp_path, old, new, path):
    """A newline in a person's name passed check and load, then every mail to them failed."""
    text = HARNOSAND.read_text(encoding="utf-8")
    assert old in text, old
    file = tmp_path / "agreement.yaml"
    changed = text.replace(old, new, 1)
    file.write_text(changed, encoding="utf-8")
    line = changed[: changed.index(new)].count("\n") + 1 + new[: new.index('"')].count("\n")
    from workflow.agreement.validate import read_agreement

    with pytest.raises(InputError) as refused:
        read_agreement(file)
    places = [(p.line, p.path) for p in refused.value.problems]
    assert places == [(line, path)], refused.value.problems
    assert "styrtecken" in refused.value.problems[0].message


# --- withdrawals -----------------------------------------------------------------------------


def test_a_third_of_the_plan_may_leave_more_may_not():
    assert withdrawal_problem("plan.csv", ["a"] * 6, 19) is None
    problem = withdrawal_problem("plan.csv", [f"k{n}" for n in range(7)], 19)
    assert problem is not None
    assert "7 av planens 19" in problem.message and "--allow-withdraw" in problem.message
    assert withdrawal_problem("plan.csv", [], 0) is None


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_an_import_that_would_withdraw_most_of_the_plan_is_refused(db, tmp_path):
    """A cut file (4 of 19 rows) withdrew 15 activities, exit 0."""
    cut = tmp_path / "cut.csv"
    cut.write_text("\n".join(";".join(r) for r in plan_records()[:5]) + "\n", encoding="utf-8")
    before = dump(db)

    for extra in ((), ("--dry-run",)):
        refused = measure(
            "plan", "import", str(cut), "--year", "2012", "--json", *extra, env={"TRYGG_DATABASE_URL": db}
        )
        assert refused.returncode == 2, refused.stderr
        out = json.loads(refused.stdout)
        assert set(out) >= {"activities", "errors", "changes"}
        (error,) = out["errors"]
        assert "15 av planens 19" in error["message"] and "--allow-withdraw" in error["message"]
        withdrawn = [c["key"] for c in out["changes"] if (c["action"], c["entity"]) == ("retire", "activity")]
        assert len(withdrawn) == 15
        assert dump(db) == before
    record(
        "plan cut to 4 of 19 activities",
        "trygg plan import cut.csv",
        refused,
        "exit 2: would withdraw 15 of 19, names --allow-withdraw",
        True,
    )

    dry = measure(
        "plan",
        "import",
        str(cut),
        "--year",
        "2012",
        "--json",
        "--dry-run",
        "--allow-withdraw",
        env={"TRYGG_DATABASE_URL": db},
    )
    assert dry.returncode == 0, dry.stderr
    assert (
        len(
            [
                c
                for c in json.loads(dry.stdout)["changes"]
                if c["action"] == "retire" and c["entity"] == "activity"
            ]
        )
        == 15
    )
    assert dump(db) == before

    allowed = measure(
        "plan", "import", str(cut), "--year", "2012", "--allow-withdraw", env={"TRYGG_DATABASE_URL": db}
    )
    assert allowed.returncode == 0, allowed.stderr
    engine = make_engine(db)
    with session_factory(engine)() as session:
        states = [a.state for a in session.scalars(select(Activity))]
    engine.dispose()
    assert states.count(ActivityState.WITHDRAWN) == 15


def test_a_tagged_list_is_a_located_error_not_a_traceback(tmp_path):
    """Found by fuzzing: ruamel keeps no line for the items of a `!!python/…` tagged list."""
    from workflow.agreement.validate import read_agreement

    text = HARNOSAND.read_text(encoding="utf-8")
    old = "    roles: [coordinator, council_member, officer]"
    assert old in text
    changed = text.replace(old, "    roles: !!python/object/apply:os.system ['true']", 1)
    file = tmp_path / "tagged.yaml"
    file.write_text(changed, encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_agreement(file)
    line = changed[: changed.index("!!python")].count("\n") + 1
    assert [(p.line, p.path) for p in refused.value.problems] == [(line, "people[2].roles[0]")]


def test_the_refusals_speak_english_too(tmp_path):
    from workflow.i18n import render

    path = tmp_path / "bomb.yaml"
    path.write_text(ALIAS_BOMB + "\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_yaml(path)
    assert "the file has more than 100000 values" in render(refused.value.problems[0].message, "en")
    problem = withdrawal_problem("plan.csv", [f"k{n}" for n in range(7)], 19)
    assert "would withdraw 7 of the plan's 19" in render(problem.message, "en")


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_a_newline_in_a_name_or_an_activity_is_refused_by_the_commands(db, tmp_path):
    agreement = tmp_path / "agreement.yaml"
    text = HARNOSAND.read_text(encoding="utf-8").replace(NAME, '    name: "Anna\\nSjöberg"\n', 1)
    agreement.write_text(text, encoding="utf-8")
    plan = tmp_path / "plan.csv"
    plan.write_text(
        'Område;Mål;Aktivitet;När;Ansvarig\nTrafik;Mål;"Kontroller\nBcc: x@example.org";Under 2012;Polis\n',
        encoding="utf-8",
    )
    before = dump(db)
    loaded = measure("load", str(agreement), env={"TRYGG_DATABASE_URL": db})
    assert loaded.returncode == 2 and f"{agreement}:110:5: people[2].name:" in loaded.stderr, loaded.stderr
    imported = import_json(db, plan)
    assert imported.returncode == 2, imported.stderr
    (error,) = json.loads(imported.stdout)["errors"]
    assert (error["line"], error["column"], error["path"]) == (2, 3, "Aktivitet")
    assert dump(db) == before
    record(
        'LF in a person\'s name (`"Anna\\nSjöberg"`)',
        "trygg load agreement.yaml",
        loaded,
        "exit 2, `file:110:5: people[2].name: control character (U+000A, line feed)…`",
        True,
    )
    record(
        "LF + `Bcc:` in a CSV activity cell",
        "trygg plan import plan.csv --dry-run",
        imported,
        "exit 2, located: line 2, column 3, Aktivitet",
        True,
    )


def test_an_entity_expansion_bomb_in_a_sheet_is_refused_under_200_mb(db, tmp_path):
    """Billion laughs in the sheet's XML: expat's amplification limit stops it."""
    entities = '<!ENTITY a "lollollollollollollollollollol">' + "".join(
        f'<!ENTITY {chr(98 + i)} "{("&" + chr(97 + i) + ";") * 10}">' for i in range(8)
    )

    def bomb(xml: bytes) -> bytes:
        xml = xml.replace(b"<worksheet", f"<!DOCTYPE worksheet [{entities}]><worksheet".encode(), 1)
        return xml.replace(b"<t>Id</t>", b"<t>&i;</t>", 1)

    sheet = xlsx(tmp_path / "laughs.xlsx", plan_records())
    patch_member(sheet, "xl/worksheets/sheet1.xml", bomb)
    before = dump(db)
    result = import_json(db, sheet)
    assert result.returncode == 2, result.stderr
    assert "amplification" in json.loads(result.stdout)["errors"][0]["message"]
    assert result.peak_mb < MEMORY_BOUND_MB
    assert dump(db) == before
    record(
        "XLSX, entity expansion (billion laughs) in the sheet XML",
        "trygg plan import laughs.xlsx --dry-run",
        result,
        "exit 2: cannot be read as an Excel workbook (expat's amplification limit)",
        True,
    )


def test_a_tag_ruamel_cannot_construct_is_a_located_error(tmp_path):
    """Found by fuzzing: `!!float` over a folded block raised a bare ValueError in ruamel."""
    path = tmp_path / "float.yaml"
    path.write_text("a: 1\nbackground: !!float 1e400\n  more words\n", encoding="utf-8")
    with pytest.raises(InputError) as refused:
        read_yaml(path)
    (problem,) = refused.value.problems
    assert problem.line == 2 and "float" in str(problem.message)


# --- times and outputs (the same table: one module measures every hostile input of issue 13) ---

TIME_CASES = [
    ("`--now` in year 9999", ("sweep", "--now", "9999-12-31T23:59:59+01:00"), 2, "outside the years 1970–2200"),
    ("an empty `--now`", ("sweep", "--now", ""), 2, "refused: empty"),
    ("a report of year 9999", ("report", "--year", "9999"), 2, "outside the years 1970–2200"),
    ("a calendar from year 1", ("calendar", "--from", "0001-01-01", "--to", "2012-12-31"), 2, "refused"),
    ("an extension to year 9999", ("activity", "extend", "ung-kontaktuppgifter", "--to", "9999-12-31", "--reason", "x"), 2, "refused"),
    ("an event on 1 January of year 1", ("activity", "trigger", "tra-planer", "--on", "0001-01-01", "--note", "x"), 2, "refused"),
]  # fmt: skip


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
@pytest.mark.parametrize(("case", "args", "exit_code", "outcome"), TIME_CASES, ids=[c[0] for c in TIME_CASES])
def test_a_time_outside_the_window_is_refused_and_changes_nothing(
    db, tmp_path, case, args, exit_code, outcome
):
    before = dump(db)
    result = measure(*args, env={"TRYGG_DATABASE_URL": db, "TRYGG_MAIL_DIR": str(tmp_path / "mail")})
    assert result.returncode == exit_code, result.stderr
    assert "Traceback" not in result.stderr
    assert dump(db) == before
    assert not (tmp_path / "mail").exists() or not any((tmp_path / "mail").iterdir())
    record(case, "trygg " + " ".join(a or '""' for a in args), result, f"exit {exit_code}, {outcome}", True)


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_an_agreement_ending_after_2200_is_refused_with_its_place(db, tmp_path):
    path = tmp_path / "long.yaml"
    path.write_text(HARNOSAND.read_text(encoding="utf-8").replace("end: 2013-12-31", "end: 2201-01-01", 1))
    before = dump(db)
    result = measure("load", str(path), env={"TRYGG_DATABASE_URL": db})
    assert result.returncode == 2, result.stderr
    assert "period.end" in result.stderr and "Traceback" not in result.stderr
    assert dump(db) == before
    record("period ending 2201", "trygg load long.yaml", result, "exit 2, located at period.end", True)


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_an_output_that_cannot_be_written_is_a_clear_error(db, tmp_path):
    folder = tmp_path / "folder"
    folder.mkdir()
    before = dump(db)
    result = measure("report", "--year", "2012", "--out", str(folder), env={"TRYGG_DATABASE_URL": db})
    assert result.returncode == 2 and "Traceback" not in result.stderr, result.stderr
    assert dump(db) == before
    record(
        "`--out` a directory", "trygg report --year 2012 --out folder", result, "exit 2, names the path", True
    )
    full = measure("report", "--year", "2012", "--out", "/dev/full", env={"TRYGG_DATABASE_URL": db})
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    record(
        "a full disk",
        "trygg report --year 2012 --out /dev/full",
        full,
        "exit 1, no space left on device",
        True,
    )


@pytest.mark.slow  # a child process, measured (peak memory of that process alone)
def test_a_database_that_is_not_ready_exits_3(tmp_path):
    empty = f"sqlite:///{tmp_path / 'empty.db'}"
    result = measure("sweep", env={"TRYGG_DATABASE_URL": empty, "TRYGG_MAIL_DIR": str(tmp_path / "mail")})
    assert result.returncode == 3 and "Traceback" not in result.stderr, result.stderr
    record(
        "a database without its schema", "trygg sweep", result, "exit 3, says to run trygg db upgrade", True
    )
