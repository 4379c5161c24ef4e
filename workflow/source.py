"""Reading input files with their places: YAML with line numbers, and located problems."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.constructor import RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from workflow.i18n import LazyText, _l, _pl, render

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


class _DatesAsText(RoundTripConstructor):
    """Leave YAML timestamps as text so that pydantic parses them with a located error
    (ruamel would raise a bare ValueError on 2012-02-30, with no line)."""


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
            if isinstance(node, CommentedMap) and isinstance(part, str) and part in node:
                kl, kc, *_ = node.lc.data[part]
                line, col = kl + 1, kc + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                il, ic = node.lc.item(part)
                line, col = il + 1, ic + 1
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


def read_yaml(path: str | Path) -> YamlDocument:
    """Parse a YAML file; a syntax error or duplicate key becomes an InputError with its line."""
    name = str(path)
    try:
        raw = Path(path).read_bytes()
    except OSError as exc:
        raise InputError(
            [Problem(name, None, None, "", _l("cannot be read: %(reason)s", reason=exc.strerror))]
        ) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, None, None, "", _l("the file is not UTF-8"))]) from exc
    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsText
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or _l("invalid YAML")
        if exc.context and "duplicate" not in (exc.problem or ""):
            what = f"{exc.context}: {what}"
        raise InputError([Problem(name, line, col, "", _l("YAML error: %(what)s", what=what))]) from exc
    except YAMLError as exc:
        raise InputError([Problem(name, None, None, "", _l("YAML error: %(what)s", what=str(exc)))]) from exc
    if not isinstance(tree, CommentedMap):
        raise InputError([Problem(name, 1, 1, "", _l("the file must hold a YAML mapping"))])
    return YamlDocument(name, tree, to_plain(tree), hashlib.sha256(raw).hexdigest())


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
