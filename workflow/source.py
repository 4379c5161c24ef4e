"""Reading input files with their places: YAML with line numbers, located problems, and the limits
that keep a hostile file from exhausting the machine (size, nodes, nesting, control characters)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.composer import Composer
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import AliasEvent
from ruamel.yaml.reader import ReaderError

from workflow.i18n import LazyText, _l, _pl, render
from workflow.settings import Settings, get_settings

Loc = Sequence[str | int]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with its place: file, line, column, field path."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str | LazyText  # said in the reader's language

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        message = render(self.message)
        return f"{place}: {self.path}: {message}" if self.path else f"{place}: {message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": render(self.message),
        }


class InputError(Exception):
    """A file was refused; nothing was written. Carries every problem found, each located."""

    def __init__(self, problems: Iterable[Problem]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(p) for p in self.problems))


def format_path(loc: Loc) -> str:
    """('plan', 'areas', 0, 'title') -> 'plan.areas[0].title'."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


# --- limits -----------------------------------------------------------------------------------

# Fixed limits, far above any real agreement or plan (Härnösand's agreement has about 1,500
# YAML nodes, 8 levels deep; a plan cell rarely holds more than a few hundred characters).
MAX_YAML_NODES = 100_000  # nodes as aliases would expand them: an alias bomb is refused here
MAX_YAML_DEPTH = 40
MAX_COLUMNS = 50
MAX_CELL_CHARS = 10_000
XLSX_UNPACKED_FACTOR = 4  # an XLSX may unpack to this many times TRYGG_MAX_FILE_MB


@dataclass(frozen=True)
class Limits:
    """How much of an input file trygg reads before it refuses it (TRYGG_MAX_FILE_MB, _PLAN_ROWS)."""

    max_bytes: int
    max_rows: int

    @classmethod
    def from_settings(cls, settings: Settings | None = None) -> Limits:
        settings = settings or get_settings()
        return cls(int(settings.max_file_mb * 1024 * 1024), settings.max_plan_rows)

    @property
    def max_unpacked(self) -> int:
        return self.max_bytes * XLSX_UNPACKED_FACTOR


def _megabytes(size: int) -> str:
    return f"{size / (1024 * 1024):.1f}".rstrip("0").rstrip(".")


def read_bounded(path: str | Path, limits: Limits) -> bytes:
    """A file's bytes, refused (located, before it is read) when larger than TRYGG_MAX_FILE_MB."""
    name = str(path)
    try:
        with Path(path).open("rb") as f:
            raw = f.read(limits.max_bytes + 1)  # not stat(): a pipe or /proc file has no size
    except OSError as exc:
        raise InputError(
            [Problem(name, None, None, "", _l("cannot be read: %(reason)s", reason=exc.strerror))]
        ) from exc
    if len(raw) > limits.max_bytes:
        raise InputError(
            [
                Problem(
                    name,
                    None,
                    None,
                    "",
                    _l(
                        "the file is too large (over %(mb)s MB, TRYGG_MAX_FILE_MB)",
                        mb=_megabytes(limits.max_bytes),
                    ),
                )
            ]
        )
    return raw


# Characters that break a mail header or a one-line name: C0 controls (CR, LF, NUL, TAB …),
# DEL, NEL and the Unicode line and paragraph separators (Python's email splits lines on them),
# and lone surrogates (not encodable: the database and the mail would fail on them later).
_NOT_IN_LINE = re.compile("[\x00-\x1f\x7f\x85\u2028\u2029\ud800-\udfff]")
# Prose (backgrounds, preambles) may have line breaks and tabs, nothing else of the above.
_NOT_IN_PROSE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")
_CONTROL_NAMES = {"\n": _l("line feed"), "\r": _l("carriage return"), "\t": _l("tab"), "\x00": "NUL"}


def control_character(text: str, *, multiline: bool = False) -> LazyText | None:
    """Why `text` cannot be a one-line name or title (or, `multiline`, prose); None when it can."""
    found = (_NOT_IN_PROSE if multiline else _NOT_IN_LINE).search(text)
    if found is None:
        return None
    char = found.group()
    code = f"U+{ord(char):04X}"
    name = _l("%(code)s, %(name)s", code=code, name=_CONTROL_NAMES[char]) if char in _CONTROL_NAMES else code
    if multiline:
        return _l(
            "control character (%(name)s) at character %(position)s: the text must not contain control characters",
            name=name,
            position=found.start() + 1,
        )
    return _l(
        "control character (%(name)s) at character %(position)s: names and titles are one line, "
        "without control characters",
        name=name,
        position=found.start() + 1,
    )


class _DatesAsText(RoundTripConstructor):
    """Leave YAML timestamps as text so that pydantic parses them with a located error
    (ruamel would raise a bare ValueError on 2012-02-30, with no line); any other value that
    ruamel cannot construct (`!!float` over a block of text) is an error at its node."""

    def construct_object(self, node: Any, deep: bool = False) -> Any:
        try:
            return super().construct_object(node, deep=deep)
        except YAMLError:
            raise
        except Exception as exc:  # ruamel's constructors raise bare ValueError, TypeError, …
            raise ConstructorError(problem=f"{node.tag}: {exc}", problem_mark=node.start_mark) from exc


_DatesAsText.add_constructor("tag:yaml.org,2002:timestamp", lambda self, node: self.construct_scalar(node))


@dataclass
class YamlDocument:
    """A parsed YAML file: plain Python data plus the ruamel tree that knows every line."""

    file: str
    tree: Any
    data: Any
    sha256: str

    def locate(self, loc: Loc) -> tuple[int | None, int | None]:
        """1-based (line, column) of the deepest node of `loc` that exists in the file."""
        node = self.tree
        line, col = (1, 1)
        for part in loc:
            # A tagged node (`!!python/…`, `!!set`) may have no line of its items: keep the last.
            mapped = isinstance(node, CommentedMap) and isinstance(part, str) and part in node
            if mapped or (isinstance(node, CommentedSeq) and isinstance(part, int) and 0 <= part < len(node)):
                if place := (node.lc.data or {}).get(part):
                    line, col = place[0] + 1, place[1] + 1
                node = node[part]
            elif isinstance(part, int | str) and part in ("", None):
                continue
            else:
                # Pydantic adds steps of its own (union tags, "function-after"): skip them.
                continue
        return line, col

    def problem(self, loc: Loc, message: str | LazyText) -> Problem:
        line, col = self.locate(loc)
        return Problem(self.file, line, col, format_path(loc), message)

    def problems_from_validation(self, error: ValidationError) -> list[Problem]:
        return [self.problem(tuple(e["loc"]), translate_pydantic(e)) for e in error.errors(include_url=False)]


def to_plain(node: Any) -> Any:
    """ruamel's commented containers and scalar subclasses to plain dict/list/str/int."""
    if isinstance(node, dict):
        return {str(k): to_plain(v) for k, v in node.items()}
    if isinstance(node, list):
        return [to_plain(v) for v in node]
    if isinstance(node, bool) or node is None:
        return node
    if isinstance(node, str):
        return str(node)
    if isinstance(node, int):
        return int(node)
    if isinstance(node, float):
        return float(node)
    return node


class _Refused(MarkedYAMLError):
    """A limit of _BoundedComposer, with the place and field where it was passed."""

    def __init__(self, message: LazyText, mark: Any, path: str) -> None:
        super().__init__(problem=message.msgid, problem_mark=mark)
        self.message, self.path = message, path


class _BoundedComposer(Composer):
    """Builds the node tree while counting its nodes as aliases would expand them into copies
    (a 500-byte alias bomb is a billion nodes) and its depth (the composer recurses)."""

    def __init__(self, loader: Any = None) -> None:
        super().__init__(loader)
        self.expanded = 0
        self.sizes: dict[int, int] = {}  # id(node) -> its expanded size, once composed
        self.path: list[str | int] = []

    def compose_node(self, parent: Any, index: Any) -> Any:
        event = self.parser.peek_event()
        self.path.append(index.value if hasattr(index, "value") else index if index is not None else "")
        try:
            if isinstance(event, AliasEvent):
                node = super().compose_node(parent, index)
                if id(node) not in self.sizes:
                    self._refuse(
                        _l("the alias *%(anchor)s points at the value it stands in", anchor=event.anchor),
                        event,
                    )
                self._count(self.sizes[id(node)], event)
                return node
            if len(self.path) > MAX_YAML_DEPTH:
                self._refuse(_l("nested too deep (more than %(n)s levels)", n=MAX_YAML_DEPTH), event)
            before = self.expanded
            node = super().compose_node(parent, index)
            self._count(1, event)
            self.sizes[id(node)] = self.expanded - before
            return node
        finally:
            self.path.pop()

    def _count(self, nodes: int, event: Any) -> None:
        self.expanded += nodes
        if self.expanded > MAX_YAML_NODES:
            self._refuse(
                _l(
                    "the file has more than %(n)s values (an alias *… counts as a copy of its anchor)",
                    n=MAX_YAML_NODES,
                ),
                event,
            )

    def _refuse(self, message: LazyText, event: Any) -> None:
        raise _Refused(message, event.start_mark, format_path([p for p in self.path if p != ""]))


def read_yaml(path: str | Path, limits: Limits | None = None) -> YamlDocument:
    """Parse a YAML file; a syntax error, duplicate key or passed limit becomes a located InputError."""
    name = str(path)
    raw = read_bounded(path, limits or Limits.from_settings())
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        raise InputError([Problem(name, line, column, "", _l("the file is not UTF-8"))]) from exc
    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsText
    yaml.Composer = _BoundedComposer
    try:
        tree = yaml.load(text)
    except _Refused as exc:
        mark = exc.problem_mark
        raise InputError([Problem(name, mark.line + 1, mark.column + 1, exc.path, exc.message)]) from None
    except MarkedYAMLError as exc:
        raise InputError([_marked_problem(name, exc)]) from exc
    except ReaderError as exc:  # a control character outside a quoted escape
        line, col = _text_place(text, exc.position)
        what = (
            _l("character U+%(code)s is not allowed", code=f"{exc.character:04X}")
            if isinstance(exc.character, int)
            else str(exc)
        )
        raise InputError([Problem(name, line, col, "", _l("YAML error: %(what)s", what=what))]) from exc
    except (YAMLError, ValueError, TypeError, ArithmeticError) as exc:  # a node built in a second pass
        raise InputError([Problem(name, None, None, "", _l("YAML error: %(what)s", what=str(exc)))]) from exc
    if not isinstance(tree, CommentedMap):
        raise InputError([Problem(name, 1, 1, "", _l("the file must hold a YAML mapping"))])
    return YamlDocument(name, tree, to_plain(tree), hashlib.sha256(raw).hexdigest())


def _marked_problem(name: str, exc: MarkedYAMLError) -> Problem:
    mark = exc.problem_mark or exc.context_mark
    line = mark.line + 1 if mark else None
    col = mark.column + 1 if mark else None
    what = exc.problem or _l("invalid YAML")
    if exc.context and "duplicate" not in (exc.problem or ""):
        what = f"{exc.context}: {what}"
    return Problem(name, line, col, "", _l("YAML error: %(what)s", what=what))


def _text_place(text: str, offset: int) -> tuple[int, int]:
    """1-based (line, column) of a character offset."""
    return text.count("\n", 0, offset) + 1, offset - (text.rfind("\n", 0, offset) + 1) + 1


# Pydantic speaks English only; a coordinator reads Swedish. The common cases get words of the
# catalogues, the rest keep pydantic's own message.
_SV = {
    "missing": _l("the field is missing"),
    "extra_forbidden": _l("unknown field"),
    "string_type": _l("must be text"),
    "int_type": _l("must be a whole number"),
    "int_parsing": _l("must be a whole number"),
    "bool_type": _l("must be true or false"),
    "list_type": _l("must be a list"),
    "dict_type": _l("must be a mapping"),
    "model_type": _l("must be a mapping"),
    "date_from_datetime_parsing": _l("invalid date (write YYYY-MM-DD)"),
    "date_parsing": _l("invalid date (write YYYY-MM-DD)"),
    "date_type": _l("invalid date (write YYYY-MM-DD)"),
    "string_too_short": _pl("text", "must not be empty"),
    "too_short": _pl("list", "must not be empty"),
    "literal_error": _l("invalid value"),
    "enum": _l("invalid value"),
}


def translate_pydantic(error: dict[str, Any]) -> str | LazyText:
    kind = error.get("type", "")
    msg = str(error.get("msg", ""))
    if kind == "value_error":
        cause = error.get("ctx", {}).get("error")
        if isinstance(cause, ValueError) and cause.args and isinstance(cause.args[0], LazyText):
            return cause.args[0]  # said when shown, in the reader's language
        return msg.removeprefix("Value error, ")
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return _l(
            "invalid value %(value)r; allowed: %(expected)s", value=error.get("input"), expected=expected
        )
    if kind.startswith("date") or kind == "value_error.date":
        return _l(
            "invalid date %(value)r (write YYYY-MM-DD): %(reason)s", value=error.get("input"), reason=msg
        )
    sv = _SV.get(kind)
    return _l("%(problem)s (%(reason)s)", problem=sv, reason=msg) if sv else msg
