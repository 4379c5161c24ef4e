"""Fuzzing the readers of agreement and plan files: whatever a file holds (control characters,
huge or odd Unicode strings, wrong types, deep nesting, aliases, tags, broken bytes), the answer
is a result or an InputError whose problems name the file, never another exception; what is
accepted also loads into the database. Examples are small and few, so the module runs in
seconds (TRYGG_FUZZ_EXAMPLES=1000 searches harder); the alias-bomb search is marked slow."""

from __future__ import annotations

import copy
import csv
import io
import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from tests.conftest import HARNOSAND, ROOT, load_file
from workflow import migrate
from workflow.agreement.validate import read_agreement
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory
from workflow.loading import import_plan, load_agreement
from workflow.plan.importing import read_plan_import
from workflow.source import MAX_YAML_NODES, InputError, read_yaml
from workflow.status import resolve_agreement

# Hypothesis searches for a while: make test runs it, make check stays under a minute.
pytestmark = pytest.mark.slow

# TRYGG_FUZZ_EXAMPLES=1000 searches harder (minutes); the default keeps the module in seconds.
FUZZ = settings(
    max_examples=int(os.environ.get("TRYGG_FUZZ_EXAMPLES", "40")),
    deadline=None,
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
AGREEMENT_TEXT = HARNOSAND.read_text(encoding="utf-8")
AGREEMENT_DATA = read_yaml(HARNOSAND).data
CSV_PLAN = ROOT / "tests" / "data" / "plan-harnosand.csv"
AGREEMENT_CLOCK = datetime(2012, 1, 2, 7, 0, tzinfo=UTC)

# --- strategies ------------------------------------------------------------------------------

ODD = "\x00\x01\x07\t\n\r\x0b\x0c\x1b\x7f\x85\xa0\u2028\u2029\u200b\u202e\ufeff\ud800\U0001f600"
hostile_text = st.one_of(
    st.text(max_size=30),
    st.text(alphabet=st.sampled_from(list(ODD) + list("aÅö ;,\"'&*[]{}:#-")), max_size=20),
    st.builds(
        lambda c, n: c * n, st.sampled_from(["x", "å", "😀", "\n", "\x00"]), st.integers(9_990, 10_010)
    ),
    st.sampled_from(["Under 2012", "Polis och skola", "Kommunen", "Kontinuerligt", "2012-02-30", "1.5"]),
)


def nested(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value


wrong_type = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(),
    st.lists(st.integers(), max_size=3),
    st.dictionaries(st.text(max_size=5), st.integers(), max_size=2),
    st.integers(min_value=1, max_value=120).map(nested),
)


def leaf_paths(node: Any, path: tuple = ()) -> list[tuple]:
    """Every path of the agreement's data, containers too (a container may get a scalar)."""
    out = [path] if path else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += leaf_paths(value, (*path, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            out += leaf_paths(value, (*path, index))
    return out


PATHS = leaf_paths(AGREEMENT_DATA)


def replaced(data: Any, path: tuple, value: Any) -> Any:
    out = copy.deepcopy(data)
    node = out
    for part in path[:-1]:
        node = node[part]
    node[path[-1]] = value
    return out


# Snippets of YAML that JSON cannot write: aliases, anchors, tags, merge keys, block scalars.
YAML_SNIPPETS = st.sampled_from(
    [
        "*nowhere",
        "&a [*a]",
        "&a {x: *a}",
        "!!python/object/apply:os.system ['true']",
        "!!binary aGVsbG8=",
        "!!set {a, b}",
        "!!omap [a: 1]",
        "!!float 1e400",
        "[" * 60 + "]" * 60,
        "{a: " * 45 + "1" + "}" * 45,
        '"\\0\\x01\\e\\L\\P\\N\\ud800"',
        "2012-02-30",
        "0x1F",
        ".nan",
        "~",
        "|\n    a\n    b",
        "&x [1, 2]",
        "{<<: *x}",
        "\x07",
    ]
)


# --- helpers ---------------------------------------------------------------------------------


def result_or_located(call: Callable[[], Any], path: Path, *, lines: bool) -> Any:
    """The call's result, or None when it raised an InputError about `path` with its problems."""
    try:
        return call()
    except InputError as exc:
        assert exc.problems
        for problem in exc.problems:
            assert problem.file == str(path), problem
            assert str(problem.message), problem
            assert not lines or problem.line is not None, problem
        return None


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    """Sessions of a SQLite file with the Härnösand agreement loaded; examples roll back."""
    path = tmp_path_factory.mktemp("fuzz") / "trygg.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    sessions = session_factory(engine)
    load_file(sessions, HARNOSAND)
    yield sessions
    engine.dispose()


@pytest.fixture(scope="module")
def workdir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("fuzz-files")


def check_agreement(file: Path, database) -> None:
    agreement = result_or_located(lambda: read_agreement(file), file, lines=True)
    if agreement is None:
        return
    with database() as session:  # what is accepted must also be storable
        load_agreement(session, agreement, clock=FixedClock(AGREEMENT_CLOCK), actor="cli:fuzz")
        session.rollback()


# --- agreement files -------------------------------------------------------------------------


@FUZZ
@given(
    changes=st.lists(
        st.tuples(st.sampled_from(PATHS), st.one_of(hostile_text, wrong_type)), min_size=1, max_size=3
    )
)
def test_an_agreement_with_hostile_values_is_read_or_refused_with_places(changes, workdir, database):
    data = AGREEMENT_DATA
    for path, value in changes:
        try:
            data = replaced(data, path, value)
        except (KeyError, IndexError, TypeError):  # an earlier change removed the parent
            continue
    file = workdir / "agreement.yaml"
    # JSON is YAML; ensure_ascii writes lone surrogates and controls as \u escapes.
    file.write_text(json.dumps(data, indent=1, ensure_ascii=True), encoding="utf-8")
    check_agreement(file, database)


VALUE_LINES = [
    i
    for i, line in enumerate(AGREEMENT_TEXT.splitlines())
    if ": " in line and not line.lstrip().startswith("#")
]


@FUZZ
@given(line=st.sampled_from(VALUE_LINES), snippet=YAML_SNIPPETS, header=st.booleans())
def test_an_agreement_with_yaml_tricks_is_read_or_refused_with_places(
    line, snippet, header, workdir, database
):
    lines = AGREEMENT_TEXT.splitlines()
    key, _ = lines[line].split(": ", 1)
    lines[line] = f"{key}: {snippet}"
    if header:  # an anchor for the merge key and aliases to find
        lines.insert(0, "x_anchor: &x {a: 1}")
    file = workdir / "tricks.yaml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    check_agreement(file, database)


@pytest.mark.slow
@settings(max_examples=10, deadline=None)
@given(width=st.integers(2, 12), levels=st.integers(2, 12), mapping=st.booleans())
def test_alias_bombs_of_any_shape_are_refused_or_small(width, levels, mapping, workdir):
    lines = ["a0: &a0 [lol]"]
    for level in range(1, levels):
        aliases = [f"*a{level - 1}"] * width
        body = (
            "{" + ", ".join(f"k{i}: {a}" for i, a in enumerate(aliases)) + "}"
            if mapping
            else f"[{', '.join(aliases)}]"
        )
        lines.append(f"a{level}: &a{level} {body}")
    file = workdir / "bomb.yaml"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    doc = result_or_located(lambda: read_yaml(file), file, lines=True)
    size = 2  # a0: a list and its "lol"
    total = size
    for _ in range(1, levels):
        size = 1 + width * (size + (1 if mapping else 0))  # a key per alias in a mapping
        total += size
    total += 1 + levels  # the document's mapping and its keys
    assert (doc is None) == (total > MAX_YAML_NODES), total


@FUZZ
@given(raw=st.binary(max_size=3000))
def test_any_bytes_as_an_agreement_are_refused_with_the_file_named(raw, workdir):
    file = workdir / "bytes.yaml"
    file.write_bytes(raw)
    result_or_located(lambda: read_agreement(file), file, lines=False)


# --- plan files ------------------------------------------------------------------------------

HEADER, *REAL_ROWS = list(csv.reader(CSV_PLAN.open(encoding="utf-8"), delimiter=";"))
cell = st.one_of(hostile_text, st.just(""))
row = st.one_of(
    st.lists(cell, min_size=0, max_size=8),
    st.tuples(st.sampled_from(REAL_ROWS), st.integers(0, 6), cell).map(
        lambda t: [*t[0][: t[1]], t[2], *t[0][t[1] + 1 :]]
    ),
)
plans = st.lists(row, min_size=0, max_size=8)


def write_csv(file: Path, rows: list[list[str]], delimiter: str) -> None:
    text = io.StringIO()
    csv.writer(text, delimiter=delimiter).writerows([HEADER, *rows])
    file.write_bytes(text.getvalue().encode("utf-8", errors="surrogatepass"))


def write_xlsx(file: Path, rows: list[list[str]]) -> None:
    book = Workbook()
    for values in [HEADER, *rows]:
        # Excel cannot hold these: a real file never has them (a forged one is fuzzed as bytes).
        book.active.append(
            [ILLEGAL_CHARACTERS_RE.sub("", v).encode("utf-8", "replace").decode() for v in values]
        )
    book.save(file)


def write_text(file: Path, rows: list[list[str]]) -> None:
    """The Word-copy format: a numbered heading whenever Område changes, then its table."""

    def one_line(value: str) -> str:
        return value.replace("\t", " ").replace("\n", " ").replace("\r", " ")

    lines, area = ["Handlingsplan för 2012"], None
    for values in rows:
        if area is None or (len(values) > 1 and values[1] and values[1] != area):
            area = values[1] if len(values) > 1 and values[1] else "Trafik"
            lines += [f"{len(lines)}. {one_line(area)}", "Mål\tAktivitet\tNär\tAnsvarig"]
        lines.append("\t".join(one_line(v) for v in values[2:6]))
    file.write_bytes("\n".join(lines).encode("utf-8", errors="surrogatepass"))


WRITERS = {
    "csv;": lambda f, r: write_csv(f, r, ";"),
    "csv,": lambda f, r: write_csv(f, r, ","),
    "xlsx": write_xlsx,
    "txt": write_text,
}


def check_plan(file: Path, database) -> None:
    with database() as session:
        agreement = resolve_agreement(session, None)
        checked = result_or_located(
            lambda: read_plan_import(session, agreement, file, 2012), file, lines=False
        )
        if checked is not None:
            result_or_located(
                lambda: import_plan(
                    session, checked, clock=FixedClock(AGREEMENT_CLOCK), actor="cli:fuzz", allow_withdraw=True
                ),
                file,
                lines=False,
            )
        session.rollback()


@FUZZ
@given(rows=plans, kind=st.sampled_from(sorted(WRITERS)))
def test_a_plan_with_hostile_cells_is_read_or_refused_with_places(rows, kind, workdir, database):
    file = workdir / f"plan.{kind[:4].rstrip(';,')}"
    WRITERS[kind](file, rows)
    check_plan(file, database)


@FUZZ
@given(
    suffix=st.sampled_from([".csv", ".xlsx", ".txt"]),
    base=st.sampled_from(["csv", "xlsx"]),
    flips=st.lists(st.tuples(st.integers(0, 10**6), st.integers(0, 255)), max_size=6),
    cut=st.integers(0, 10**6),
)
def test_a_damaged_plan_file_is_refused_with_the_file_named(suffix, base, flips, cut, workdir, database):
    source = workdir / f"base.{base}"
    WRITERS[base if base == "xlsx" else "csv;"](source, REAL_ROWS)
    raw = bytearray(source.read_bytes())
    for offset, value in flips:
        raw[offset % len(raw)] = value
    file = workdir / f"damaged{suffix}"
    file.write_bytes(bytes(raw[: max(1, cut % (len(raw) + 1))]) if cut % 3 == 0 else bytes(raw))
    check_plan(file, database)


def test_the_fuzz_helpers_accept_the_real_files(workdir, database):
    """The strategies' base cases are valid: the fuzzing starts from files that load."""
    file = workdir / "agreement.yaml"
    file.write_text(json.dumps(AGREEMENT_DATA, indent=1), encoding="utf-8")
    assert read_agreement(file).spec.id == "harnosand-2012-2013"
    for kind in WRITERS:
        plan = workdir / f"real.{kind[:4].rstrip(';,')}"
        WRITERS[kind](plan, REAL_ROWS)
        with database() as session:
            checked = read_plan_import(session, resolve_agreement(session, None), plan, 2012)
            assert len(checked.rows) == 19 and not checked.problems, (kind, checked.problems)
