"""The plan language's Ansvarig column: 'X i samverkan med Y, Z och W' -> lead and partners."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from workflow.i18n import LazyText, _l

# "X i samverkan med Y": X leads, Y takes part. The other phrasings mean the same.
_PARTNERSHIP = re.compile(
    r"\s+(?:i\s+samverkan\s+med|i\s+samarbete\s+med|tillsammans\s+med|med\s+stöd\s+av)\s+",
    re.IGNORECASE,
)
# "&" with a space beside it lists ("Polis & skola"); unspaced it is part of a name ("Barn&utbildning").
_LIST_SEPARATOR = re.compile(r"\s*(?:,|\s+och\s+|\s+samt\s+|\s+&\s*|&\s+|\s*/\s*)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class Responsibility:
    leads: tuple[str, ...]  # organisation keys, in the order written
    partners: tuple[str, ...] = field(default=())


class ResponsibilityError(ValueError):
    """A word of the Ansvarig text that names no organisation of the agreement."""

    def __init__(self, text: str, word: str, known: list[str], message: LazyText | None = None) -> None:
        self.text = text
        self.word = word
        hint = ", ".join(sorted(known)[:12])
        super().__init__(
            message
            or _l(
                "%(word)r in Ansvarig %(text)r names no organisation of the agreement "
                "(add it as an alias of an organisation; known: %(known)s, …)",
                word=word,
                text=text,
                known=hint,
            )
        )


def split_names(part: str) -> list[str]:
    return [name for name in _LIST_SEPARATOR.split(part.strip()) if name]


def parse_responsible(text: str, aliases: Mapping[str, str]) -> Responsibility:
    """Leads and partners of an Ansvarig text; `aliases` maps casefolded words to org keys."""
    cleaned = " ".join(text.split()).strip(" .")
    lead_part, *rest = _PARTNERSHIP.split(cleaned, maxsplit=1)
    leads = _resolve(text, split_names(lead_part), aliases)
    partners = _resolve(text, split_names(rest[0]), aliases) if rest else []
    if not leads or (rest and not partners):
        raise ResponsibilityError(
            text, text, list(aliases), _l("Ansvarig %(text)r names no responsible organisation", text=text)
        )
    return Responsibility(tuple(leads), tuple(p for p in partners if p not in leads))


def _resolve(text: str, names: list[str], aliases: Mapping[str, str]) -> list[str]:
    keys: list[str] = []
    for name in names:
        key = aliases.get(name.casefold())
        if key is None:
            raise ResponsibilityError(text, name, list(aliases))
        if key not in keys:
            keys.append(key)
    return keys
