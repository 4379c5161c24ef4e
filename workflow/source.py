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

Loc = Sequence[str | int]


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, with its place: file, line, column, field path."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str

    def __str__(self) -> str:
        place = self.file
        if self.line is not None:
            place += f":{self.line}"
            if self.column is not None:
                place += f":{self.column}"
        return f"{place}: {self.path}: {self.message}" if self.path else f"{place}: {self.message}"

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "path": self.path,
            "message": self.message,
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

    def problem(self, loc: Loc, message: str) -> Problem:
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
        raise InputError([Problem(name, None, None, "", f"kan inte läsas: {exc.strerror}")]) from exc
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise InputError([Problem(name, None, None, "", "filen är inte UTF-8")]) from exc
    yaml = YAML(typ="rt")
    yaml.Constructor = _DatesAsText
    try:
        tree = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark else None
        col = mark.column + 1 if mark else None
        what = exc.problem or "ogiltig YAML"
        if exc.context and "duplicate" not in (exc.problem or ""):
            what = f"{exc.context}: {what}"
        raise InputError([Problem(name, line, col, "", f"YAML-fel: {what}")]) from exc
    except YAMLError as exc:
        raise InputError([Problem(name, None, None, "", f"YAML-fel: {exc}")]) from exc
    if not isinstance(tree, CommentedMap):
        raise InputError([Problem(name, 1, 1, "", "filen ska innehålla en YAML-mappning")])
    return YamlDocument(name, tree, to_plain(tree), hashlib.sha256(raw).hexdigest())


# Pydantic speaks English; a coordinator reads Swedish. The common cases get Swedish words,
# the rest keep pydantic's own message.
_SV = {
    "missing": "fältet saknas",
    "extra_forbidden": "okänt fält",
    "string_type": "ska vara text",
    "int_type": "ska vara ett heltal",
    "int_parsing": "ska vara ett heltal",
    "bool_type": "ska vara true eller false",
    "list_type": "ska vara en lista",
    "dict_type": "ska vara en mappning",
    "model_type": "ska vara en mappning",
    "date_from_datetime_parsing": "ogiltigt datum (skriv ÅÅÅÅ-MM-DD)",
    "date_parsing": "ogiltigt datum (skriv ÅÅÅÅ-MM-DD)",
    "date_type": "ogiltigt datum (skriv ÅÅÅÅ-MM-DD)",
    "string_too_short": "får inte vara tomt",
    "too_short": "får inte vara tom",
    "literal_error": "ogiltigt värde",
    "enum": "ogiltigt värde",
}


def translate_pydantic(error: dict[str, Any]) -> str:
    kind = error.get("type", "")
    msg = str(error.get("msg", ""))
    if kind == "value_error":
        return msg.removeprefix("Value error, ")
    if kind in ("literal_error", "enum"):
        expected = error.get("ctx", {}).get("expected", "")
        return f"ogiltigt värde {error.get('input')!r}; tillåtna: {expected}"
    if kind.startswith("date") or kind == "value_error.date":
        return f"ogiltigt datum {error.get('input')!r} (skriv ÅÅÅÅ-MM-DD): {msg}"
    sv = _SV.get(kind)
    return f"{sv} ({msg})" if sv else msg
