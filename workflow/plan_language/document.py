"""Reading an action plan as a coordinator has it (Word text copy, CSV, XLSX) into located rows.

- text: the agreement copied out of Word. The plan starts at "Handlingsplan för …" (else at the
  first area or table); each numbered heading ("1. Trafik") opens an area with "Bakgrund"
  paragraphs, a tab-separated table under "Mål, Aktivitet, När, Ansvarig" and footnotes (¹ …).
- CSV (";", "," or tab) and XLSX: one row per activity under the columns Område, Mål,
  Aktivitet, När, Ansvarig and optionally Id, Bakgrund (or their English names).
An empty Mål continues the goal above, as a merged Word or Excel cell reads.

A hostile or broken file is refused with its place before it can exhaust the machine: size
(TRYGG_MAX_FILE_MB), rows with text (TRYGG_MAX_PLAN_ROWS), columns, a cell's length, control
characters in a cell; an XLSX is streamed with its declared <dimension> ignored (it may lie
either way) and may unpack to a bounded size.
"""

from __future__ import annotations

import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date, datetime, time
from itertools import islice
from pathlib import Path

from openpyxl import load_workbook

from workflow.i18n import LazyText, _l
from workflow.source import (
    MAX_CELL_CHARS,
    MAX_COLUMNS,
    InputError,
    Limits,
    Problem,
    control_character,
    read_bounded,
)

FIELDS = ("goal", "activity", "when", "responsible")
SWEDISH = {"area": "Område", "goal": "Mål", "activity": "Aktivitet", "when": "När", "responsible": "Ansvarig"}
HEADER_TEXT = "Mål, Aktivitet, När, Ansvarig"


@dataclass(frozen=True)
class PlanRow:
    """One activity of the plan, with the goal it serves and where it stands in the file."""

    goal: str
    activity: str
    when: str
    responsible: str
    line: int
    columns: dict[str, int]
    id: str | None = None


@dataclass(frozen=True)
class PlanArea:
    """A numbered priority area of the plan: its background, footnotes and table rows."""

    title: str
    number: int | None
    background: str | None
    footnotes: tuple[str, ...]
    rows: tuple[PlanRow, ...]
    line: int


@dataclass(frozen=True)
class PlanDocument:
    """A plan file read: its areas in the file's order, and a hash of its bytes."""

    file: str
    title: str | None
    areas: tuple[PlanArea, ...]
    sha256: str


@dataclass
class _Draft:
    """An area while it is being read; frozen into a PlanArea at the end."""

    heading: str
    line: int
    background: list[str] = field(default_factory=list)
    footnotes: list[str] = field(default_factory=list)
    rows: list[PlanRow] = field(default_factory=list)

    def freeze(self) -> PlanArea:
        number, title = _split_heading(self.heading)
        background = "\n\n".join(self.background) or None
        footnotes, rows = tuple(self.footnotes), tuple(self.rows)
        return PlanArea(title, number, background, footnotes, rows, self.line)


def read_plan(path: str | Path, limits: Limits | None = None) -> PlanDocument:
    """Read a plan file, choosing the format by suffix: .csv, .xlsx, anything else as text."""
    file = str(path)
    limits = limits or Limits.from_settings()
    raw = read_bounded(path, limits)
    if not raw:
        raise _fail(file, 1, 1, _l("the file is empty"))
    suffix = Path(path).suffix.lower()
    title = None
    if suffix == ".xlsx":
        areas = _areas_from_records(file, _bounded(file, _xlsx_records(file, raw, limits), limits))
    elif suffix == ".csv":
        areas = _areas_from_records(file, _bounded(file, _csv_records(file, _decode(file, raw)), limits))
    else:
        title, areas = _read_text(file, _decode(file, raw), limits)
    return PlanDocument(file, title, areas, hashlib.sha256(raw).hexdigest())


def _fail(file: str, line: int | None, column: int | None, message: str | LazyText) -> InputError:
    return InputError([Problem(file, line, column, "", message)])


def _decode(file: str, raw: bytes) -> str:
    """Bytes to text: UTF-8 (with or without BOM), else cp1252 as Windows Excel saves CSV."""
    if raw.startswith(b"PK\x03\x04"):
        raise _fail(
            file,
            1,
            1,
            _l(
                "the file is a Word or Excel file; save it as .txt or .csv, or use the suffix .xlsx for Excel"
            ),
        )
    if b"\x00" in raw:
        raise _fail(file, *_place(raw, raw.index(b"\x00")), _l("the file is not text (binary content)"))
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        try:
            text = raw.decode("cp1252")
        except UnicodeDecodeError:
            raise _fail(
                file,
                *_place(raw, exc.start),
                _l("the file is neither UTF-8 nor Windows-1252 (binary content?)"),
            ) from exc
    if not text.strip():
        raise _fail(file, 1, 1, _l("the file is empty"))
    return text


def _place(raw: bytes, offset: int) -> tuple[int, int]:
    """1-based (line, byte column) of a byte offset."""
    return raw.count(b"\n", 0, offset) + 1, offset - (raw.rfind(b"\n", 0, offset) + 1) + 1


# --- the text format: a copy of the Word document -------------------------------------------

_TITLE = re.compile(r"handlingsplan\s+(?:för\s+\S.*|[0-9]{4}(?![0-9]).*)", re.IGNORECASE)
_TITLE_YEAR = re.compile(r"(?<![0-9])(19|20|21)[0-9]{2}(?![0-9])")


def title_year(title: str | None) -> int | None:
    """The plan's own year from its heading ("Handlingsplan 2026", "Handlingsplan för 2026–2027"
    gives the first), or None."""
    match = _TITLE_YEAR.search(title or "")
    return int(match.group()) if match else None


_HEADING = re.compile(r"([0-9]{1,2})[.)]\s*([^\d\s].*)")
_BACKGROUND = re.compile(r"bakgrund:?", re.IGNORECASE)
_FOOTNOTE = re.compile(r"[⁰¹²³⁴⁵⁶⁷⁸⁹]+\s*\S.*")
_HEADER = ["mål", "aktivitet", "när", "ansvarig"]


def _read_text(file: str, text: str, limits: Limits) -> tuple[str | None, tuple[PlanArea, ...]]:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    _count_table_rows(file, lines, limits)
    start, title = _plan_start(lines)
    headings = [i for i in range(start, len(lines)) if _is_heading(lines[i])]
    bounds = list(zip(headings, [*headings[1:], len(lines)], strict=False))
    with_table = [b for b in bounds if any(_is_header(lines[i]) for i in range(*b))]
    problems: list[Problem] = []
    _check_before_areas(file, lines, start, headings[0] if headings else len(lines), problems)
    drafts = []
    # Areas after the last one with a table are trailing material (contact details and such).
    for begin, end in bounds[: bounds.index(with_table[-1]) + 1] if with_table else []:
        drafts.append(_read_area(file, lines, begin, end, (begin, end) == with_table[-1], problems))
    if problems:
        raise InputError(problems)
    if not any(d.rows for d in drafts):
        raise _fail(
            file,
            start if title else 1,
            1,
            _l("no action plan found: no table with the header row %(header)s", header=HEADER_TEXT),
        )
    return title, tuple(d.freeze() for d in drafts)


def _count_table_rows(file: str, lines: list[str], limits: Limits) -> None:
    """Refuse a text with more table rows (lines with a tab) than TRYGG_MAX_PLAN_ROWS, early."""
    rows = 0
    for i, line in enumerate(lines):
        if "\t" in line and line.strip() and not _is_header(line):
            rows += 1
            if rows > limits.max_rows:
                raise _fail(file, i + 1, 1, _too_many_rows(limits))


def _too_many_rows(limits: Limits) -> LazyText:
    return _l("the plan has more than %(n)s rows (TRYGG_MAX_PLAN_ROWS)", n=limits.max_rows)


def _plan_start(lines: list[str]) -> tuple[int, str | None]:
    """Index where the plan begins, and its title; without a title, at the first area or table.

    The agreement before the plan has numbered lists of its own (the five steps, the priority
    areas), so without a title only a numbered line that opens a "Bakgrund" or table counts."""
    for i, line in enumerate(lines):
        text = line.strip()
        if "\t" not in line and len(text) <= 100 and _TITLE.fullmatch(text) and text[-1] != ".":
            return i + 1, text
    for i, line in enumerate(lines):
        if _is_header(line) or (_is_heading(line) and _opens_section(lines, i)):
            return i, None
    return len(lines), None


def _opens_section(lines: list[str], index: int) -> bool:
    following = next((line for line in islice(lines, index + 1, None) if line.strip()), "")
    return bool(_BACKGROUND.fullmatch(following.strip())) or _is_header(following)


def _is_heading(line: str) -> bool:
    return "\t" not in line and bool(_HEADING.fullmatch(line.strip()))


def _is_header(line: str) -> bool:
    cells = [c.strip().lower() for c in line.split("\t")]
    while cells and not cells[-1]:
        cells.pop()
    return cells == _HEADER


def _split_heading(heading: str) -> tuple[int | None, str]:
    match = _HEADING.fullmatch(heading.strip())
    return (int(match[1]), match[2].strip()) if match else (None, heading.strip())


def _check_before_areas(file: str, lines: list[str], start: int, end: int, out: list[Problem]) -> None:
    """A table or row between the plan's start and its first area heading has no area."""
    for i in range(start, end):
        if _is_header(lines[i]):
            out.append(
                Problem(
                    file,
                    i + 1,
                    1,
                    "",
                    _l('the table has no area heading above it (e.g. "1. Förebyggande arbete ungdomar")'),
                )
            )
            return
        if "\t" in lines[i] and lines[i].strip():
            out.append(Problem(file, i + 1, 1, "", _before_header_message(lines[i])))
            return


def _before_header_message(line: str) -> LazyText:
    if line.split("\t")[0].strip().lower() == "mål":
        return _l("the header row must be %(header)s (four columns, tab-separated)", header=HEADER_TEXT)
    return _l("a table row before the table's header row (%(header)s)", header=HEADER_TEXT)


def _read_area(file: str, lines: list[str], begin: int, end: int, last: bool, out: list[Problem]) -> _Draft:
    """One area: heading, background paragraphs, then the table and its footnotes."""
    draft = _Draft(lines[begin].strip(), begin + 1)
    if why := control_character(draft.heading):
        out.append(Problem(file, begin + 1, 1, "Område", why))
    paragraph: list[str] = []
    in_table, ended_at = False, None  # ended_at: index of the text line that ended the table
    for i in range(begin + 1, end):
        line, text = lines[i], lines[i].strip()
        if not text or _is_header(line):
            _flush(paragraph, draft.background)
            if text:
                in_table, ended_at = True, None
        elif "\t" in line:
            if not in_table:
                out.append(Problem(file, i + 1, 1, "", _before_header_message(line)))
            elif ended_at is None:
                previous = draft.rows[-1].goal if draft.rows else None
                row = _text_row(file, i + 1, line, previous, out)
                draft.rows += [row] if row else []
            elif last and i > ended_at + 1:
                break  # what follows the last table is not the plan
            else:
                # A row right after a stray line is usually a cell with a line break in it.
                out.append(
                    Problem(
                        file,
                        i + 1,
                        1,
                        "",
                        _l(
                            "a table row after the table was broken off by the text on line %(line)s "
                            "(has a cell a line break? every table row must stand on one line)",
                            line=ended_at + 1,
                        ),
                    )
                )
        elif _FOOTNOTE.fullmatch(text):
            draft.footnotes.append(text)
        elif in_table:
            ended_at = i if ended_at is None else ended_at
        elif not _BACKGROUND.fullmatch(text):
            paragraph.append(text)
    _flush(paragraph, draft.background)
    if not in_table:
        out.append(
            Problem(
                file,
                begin + 1,
                1,
                "",
                _l('the area "%(area)s" has no table (%(header)s)', area=draft.heading, header=HEADER_TEXT),
            )
        )
    return draft


def _flush(paragraph: list[str], into: list[str]) -> None:
    if paragraph:
        into.append("\n".join(paragraph))
        paragraph.clear()


def _text_row(
    file: str, line_no: int, line: str, previous_goal: str | None, out: list[Problem]
) -> PlanRow | None:
    cells, starts, column = [], [], 1
    for part in line.split("\t"):
        cells.append(part.strip())
        starts.append(column)
        column += len(part) + 1
    while len(cells) > 4 and not cells[-1]:  # trailing tabs after the last cell
        cells.pop()
    if len(cells) != 4:
        where = starts[4] if len(cells) > 4 else len(line) + 1
        out.append(
            Problem(
                file,
                line_no,
                where,
                "",
                _l("the row has %(n)s columns, expected 4 (%(header)s)", n=len(cells), header=HEADER_TEXT),
            )
        )
        return None
    return _make_row(
        file,
        line_no,
        dict(zip(FIELDS, cells, strict=True)),
        dict(zip(FIELDS, starts, strict=False)),
        None,
        previous_goal,
        out,
    )


# The activity's title reaches mail subjects: one line. A goal, När or Ansvarig may break lines
# as a merged Excel cell does; no other control characters anywhere.
_ONE_LINE = ("activity", "id")


def _make_row(
    file: str,
    line: int,
    values: dict[str, str],
    columns: dict[str, int],
    row_id: str | None,
    previous_goal: str | None,
    out: list[Problem],
) -> PlanRow | None:
    """A row from its cells; an empty Mål continues the goal above."""
    bad = [
        (name, why)
        for name in (*FIELDS, "id")
        if (why := control_character(values.get(name) or "", multiline=name not in _ONE_LINE))
    ]
    for name, why in bad:
        out.append(Problem(file, line, columns.get(name), SWEDISH.get(name, "Id"), why))
    if bad:
        return None
    if not values["activity"]:
        out.append(Problem(file, line, columns["activity"], "Aktivitet", _l("Aktivitet is missing")))
        return None
    goal = values["goal"] or previous_goal
    if not goal:
        out.append(
            Problem(
                file,
                line,
                columns["goal"],
                "Mål",
                _l("Mål is missing and there is no goal above to continue"),
            )
        )
        return None
    return PlanRow(
        goal, values["activity"], values["when"], values["responsible"], line, columns, row_id or None
    )


# --- tables: CSV and XLSX with one row per activity -----------------------------------------

_ALIASES = {
    "område": "area",
    "omrade": "area",
    "area": "area",
    "mål": "goal",
    "mal": "goal",
    "goal": "goal",
    "aktivitet": "activity",
    "activity": "activity",
    "när": "when",
    "nar": "when",
    "when": "when",
    "ansvarig": "responsible",
    "responsible": "responsible",
    "id": "id",
    "bakgrund": "background",
    "background": "background",
}
_REQUIRED = ("area", *FIELDS)

Record = tuple[int, list[str]]  # (line or row number, stripped cell texts)


def _areas_from_records(file: str, records: Iterable[Record]) -> tuple[PlanArea, ...]:
    """Areas from a table whose first non-empty row names the columns."""
    rows = iter(records)
    header = next(((line, cells) for line, cells in rows if any(cells)), None)
    if header is None:
        raise _fail(file, 1, 1, _l("the file is empty"))
    header_line, names = header
    where: dict[str, int] = {}
    for index, name in enumerate(names):
        if key := _ALIASES.get(name.strip().lower()):
            where.setdefault(key, index)  # other columns (comments, status) are not ours
    missing = [f for f in _REQUIRED if f not in where]
    if missing:
        found = ", ".join(n for n in names if n) or _l("none")
        raise InputError(
            Problem(
                file,
                header_line,
                None,
                SWEDISH[f],
                _l(
                    'the column "%(column)s" is missing in the header row (found: %(found)s)',
                    column=SWEDISH[f],
                    found=found,
                ),
            )
            for f in missing
        )
    problems: list[Problem] = []
    drafts: dict[str, _Draft] = {}
    current: str | None = None
    for line, cells in rows:
        if any(cells):
            value = {f: cells[i] if i < len(cells) else "" for f, i in where.items()}
            if _bad_area_cells(file, line, value, where, problems):
                continue
            current = value["area"] or current  # an empty Område continues, like a merged cell
            if current is None:
                problems.append(
                    Problem(
                        file,
                        line,
                        where["area"] + 1,
                        "Område",
                        _l("Område is missing and there is no area above to continue"),
                    )
                )
                continue
            _add_record(file, line, value, where, drafts.setdefault(current, _Draft(current, line)), problems)
    if problems:
        raise InputError(problems)
    if not any(d.rows for d in drafts.values()):
        raise _fail(file, header_line, 1, _l("no activities under the header row"))
    return tuple(d.freeze() for d in drafts.values())


def _bad_area_cells(
    file: str, line: int, value: dict[str, str], where: dict[str, int], out: list[Problem]
) -> bool:
    """Control characters in Område (a title) or Bakgrund (prose, which may break lines)."""
    found = False
    for name, label, multiline in (("area", "Område", False), ("background", "Bakgrund", True)):
        if why := control_character(value.get(name) or "", multiline=multiline):
            out.append(Problem(file, line, where[name] + 1, label, why))
            found = True
    return found


def _add_record(
    file: str, line: int, value: dict[str, str], where: dict[str, int], draft: _Draft, out: list[Problem]
) -> None:
    if value.get("background") and not draft.background:
        draft.background.append(value["background"])
    previous = draft.rows[-1].goal if draft.rows else None
    columns = {f: where[f] + 1 for f in FIELDS}
    row = _make_row(file, line, value, columns, value.get("id"), previous, out)
    draft.rows += [row] if row else []


def _csv_records(file: str, text: str) -> Iterator[Record]:
    """CSV records with the physical line each starts on (a quoted cell may span lines)."""
    first = next(line for line in text.splitlines() if line.strip())
    delimiter = max(";,\t", key=first.count)  # Swedish Excel writes ";", others "," or tab
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for cells in reader:
            yield start, [c.strip() for c in cells]
            start = reader.line_num + 1
    except csv.Error as exc:
        raise _fail(file, reader.line_num, None, _l("faulty CSV: %(reason)s", reason=str(exc))) from exc


def _bounded(file: str, records: Iterable[Record], limits: Limits) -> Iterator[Record]:
    """Records as they stream in, refused at the first that passes a limit: rows with text
    (TRYGG_MAX_PLAN_ROWS, after the header row), columns, a cell's length."""
    rows = 0
    for line, cells in records:
        used = [i for i, cell in enumerate(cells) if cell]
        if not used:
            yield line, cells
            continue
        rows += 1
        if rows > limits.max_rows + 1:
            raise _fail(file, line, None, _too_many_rows(limits))
        if used[-1] >= MAX_COLUMNS:
            raise _fail(
                file,
                line,
                used[-1] + 1,
                _l(
                    "the row has text in column %(column)s; at most %(n)s", column=used[-1] + 1, n=MAX_COLUMNS
                ),
            )
        for i in used:
            if len(cells[i]) > MAX_CELL_CHARS:
                raise _fail(
                    file,
                    line,
                    i + 1,
                    _l(
                        "the cell has %(length)s characters; at most %(n)s",
                        length=len(cells[i]),
                        n=MAX_CELL_CHARS,
                    ),
                )
        yield line, cells[: used[-1] + 1]


EXCEL_MAX_ROWS = 1_048_576


def _xlsx_records(file: str, raw: bytes, limits: Limits) -> Iterator[Record]:
    """Rows of the sheet "Handlingsplan", else of the first sheet, numbered as Excel shows them,
    streamed. The sheet's declared <dimension> is ignored: openpyxl would pad every row to it
    (A1:XFD1048576 is 17 billion cells) or stop at it (A1:F5 loses the rows below)."""
    _check_unpacked(file, raw, limits)
    book = None
    # A damaged file fails as a zip, XML, key or index error, when opened or only while the
    # sheet is read; either way the coordinator needs one clear sentence, not a traceback.
    try:
        book = load_workbook(io.BytesIO(raw), read_only=True, data_only=True)
        named = [s for s in book.worksheets if s.title.strip().lower() == "handlingsplan"]
        sheet = (named or book.worksheets)[0]
        sheet.reset_dimensions()
        # One column more than read, so that text there is refused; further right is not read.
        rows = sheet.iter_rows(min_row=1, min_col=1, max_col=MAX_COLUMNS + 1, values_only=True)
        for n, row in enumerate(rows, start=1):
            if n > EXCEL_MAX_ROWS:  # a row number from the file; empty rows up to it are yielded
                raise _fail(file, n, None, _l("the workbook has rows after row %(n)s", n=EXCEL_MAX_ROWS))
            yield n, [] if row.count(None) == len(row) else [_cell_text(v) for v in row]
    except InputError:
        raise
    except Exception as exc:
        raise _fail(
            file, None, None, _l("cannot be read as an Excel workbook (.xlsx): %(reason)s", reason=str(exc))
        ) from exc
    finally:
        if book is not None:
            book.close()


def _check_unpacked(file: str, raw: bytes, limits: Limits) -> None:
    """Refuse an XLSX that unpacks to more than 4 × TRYGG_MAX_FILE_MB before openpyxl reads it
    (a 1 MB file can hold a 1 GB string). zipfile never reads past a member's declared size,
    so the declared sizes are the bound."""
    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as archive:
            unpacked = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, ValueError, OSError) as exc:  # OSError: a truncated directory
        raise _fail(
            file, None, None, _l("cannot be read as an Excel workbook (.xlsx): %(reason)s", reason=str(exc))
        ) from exc
    if unpacked > limits.max_unpacked:
        mb = limits.max_unpacked // (1024 * 1024)
        raise _fail(
            file,
            None,
            None,
            _l(
                "the workbook unpacks to %(size)s MB; at most %(mb)s MB (4 × TRYGG_MAX_FILE_MB)",
                size=unpacked // (1024 * 1024),
                mb=mb,
            ),
        )


def _cell_text(value: object) -> str:
    """A cell as the coordinator sees it: 3 not 3.0, a date without a midnight time."""
    if value is None:
        return ""
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    if isinstance(value, datetime):
        return value.date().isoformat() if value.time() == time(0) else value.isoformat(sep=" ")
    if isinstance(value, date | time):
        return value.isoformat()
    return str(value).strip()
