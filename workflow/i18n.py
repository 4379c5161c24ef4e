"""Every word a person reads, in Swedish or English: the gettext catalogues and the language in force.

Conventions (for code, templates and translators):
- **msgids are the English text**, written where the words are used: `_("Loaded: %(key)s", key=k)`.
  Both catalogues are filled: `sv` with the Swedish text, `en` with the English (usually the msgid
  itself; a better English wording goes in `en`'s msgstr without touching the code). A test fails on
  an entry missing, empty or fuzzy in either catalogue, and on a msgid the sources use but the
  catalogues lack.
- **Placeholders are named**, `%(name)s`, as Jinja2's `{% trans %}` writes them, and the values are
  given as keywords: the translation may put them in another order. `%` alone is written `%%`
  only where values are given (as in Jinja2's newstyle gettext).
- **The language**: mails and reports go in the reader's language (`lang="en"` given explicitly, or
  a block `with language("en"):`); everything else (the CLI, domain errors printed there) in the
  process's `TRYGG_LANGUAGE`, Swedish by default.
- Text defined at import time (Typer help, module constants) is a `LazyText` (`_l`, `_nl`, `_pl`),
  turned into words only when shown, in the language in force then. A domain error is raised with a
  `LazyText` as its argument: it carries what to say, and `str(exc)` says it in the caller's
  language (`render(exc.args[0], "en")` in a given one).
- The same English words that need two translations get a context: `_p("outcome", "sent")`.
- The CLI's rich markup (`[red]…[/]`) is part of the msgid where the message has it; keep it.

The catalogues are `workflow/locale/<lang>/LC_MESSAGES/messages.po`, read and compiled in memory at
first use (no build step). `make messages` extracts `messages.pot` from the sources (babel.cfg) and
updates both catalogues; translate the new entries, then run the tests.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Iterator
from contextlib import contextmanager
from functools import lru_cache
from io import BytesIO
from pathlib import Path
from typing import Any

from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.support import Translations
from pydantic import ValidationError

from workflow.settings import Settings

LANGUAGES = ("sv", "en")
DEFAULT_LANGUAGE = "sv"
LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "messages"

_in_force: contextvars.ContextVar[str | None] = contextvars.ContextVar("trygg_language", default=None)


def catalogue_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


@lru_cache(maxsize=len(LANGUAGES))
def translations(lang: str) -> Translations:
    """The compiled catalogue of `lang` (read from its .po once per process)."""
    with catalogue_path(lang).open("rb") as po:
        catalog = read_po(po, locale=lang, domain=DOMAIN)
    mo = BytesIO()
    write_mo(mo, catalog, use_fuzzy=False)
    mo.seek(0)
    return Translations(mo, domain=DOMAIN)


def known(lang: str | None) -> str:
    """`lang` if trygg speaks it, else Swedish."""
    return lang if lang in LANGUAGES else DEFAULT_LANGUAGE


def current_language() -> str:
    """The language of a `with language(…)` block, else the process's TRYGG_LANGUAGE."""
    return known(_in_force.get() or _configured(os.environ.get("TRYGG_LANGUAGE")))


@lru_cache(maxsize=4)
def _configured(variable: str | None) -> str:
    # Settings of its own, not get_settings(): click renders help while it builds the commands, which
    # a test runner does before it sets its environment; that must not fix the process's settings.
    try:
        return Settings().language
    except ValidationError:  # another setting is broken: the CLI says which, in this language
        return known(variable)


@contextmanager
def language(lang: str | None) -> Iterator[str]:
    """Words written inside the block go in `lang` (a reader's language)."""
    token = _in_force.set(known(lang))
    try:
        yield known(lang)
    finally:
        _in_force.reset(token)


def gettext(message: str, lang: str | None = None, **values: Any) -> str:
    """`message` (its English msgid) in `lang`, or the language in force; `values` fill `%(name)s`."""
    text = translations(known(lang) if lang else current_language()).gettext(message)
    return text % values if values else text


def pgettext(context: str, message: str, lang: str | None = None, **values: Any) -> str:
    """`message` where the same English words need different translations (`context` tells which)."""
    text = translations(known(lang) if lang else current_language()).pgettext(context, message)
    return text % values if values else text


def ngettext(singular: str, plural: str, n: int, lang: str | None = None, **values: Any) -> str:
    """The form for `n` in `lang` (or the language in force); `%(n)s` is `n`, `values` fill the rest."""
    text = translations(known(lang) if lang else current_language()).ngettext(singular, plural, n)
    return text % {"n": n, **values}


class LazyText:
    """Words that are looked up when shown, in the language in force then (`str()`), or in a
    given one (`.render("en")`). Behaves as a str for what click, Typer and rich do with help."""

    __slots__ = ("_message", "_plural", "_n", "_context", "_values")

    def __init__(
        self,
        message: str,
        plural: str | None = None,
        n: int | None = None,
        context: str | None = None,
        /,
        **values: Any,  # any names, `n` and `context` too: the parameters above are positional only
    ):
        self._message, self._plural, self._n, self._context = message, plural, n, context
        self._values = values

    @property
    def msgid(self) -> str:
        return self._message

    def render(self, lang: str | None = None) -> str:
        values = {k: v.render(lang) if isinstance(v, LazyText) else v for k, v in self._values.items()}
        if self._plural is not None:
            return ngettext(self._message, self._plural, self._n or 0, lang, **values)
        if self._context is not None:
            return pgettext(self._context, self._message, lang, **values)
        return gettext(self._message, lang, **values)

    def __str__(self) -> str:
        return self.render()

    def __repr__(self) -> str:
        return f"LazyText({self._message!r})"

    def __getattr__(self, name: str) -> Any:  # split, strip, expandtabs, … of the words
        if name.startswith("__"):
            raise AttributeError(name)
        return getattr(str(self), name)

    def __len__(self) -> int:
        return len(str(self))

    def __contains__(self, item: str) -> bool:
        return item in str(self)

    def __iter__(self) -> Iterator[str]:
        return iter(str(self))

    def __getitem__(self, key: Any) -> str:
        return str(self)[key]

    def __add__(self, other: Any) -> str:
        return str(self) + str(other)

    def __radd__(self, other: Any) -> str:
        return str(other) + str(self)

    def __mod__(self, other: Any) -> str:
        return str(self) % other

    def __format__(self, spec: str) -> str:
        return format(str(self), spec)

    def __eq__(self, other: object) -> bool:
        return str(self) == str(other) if isinstance(other, str | LazyText) else NotImplemented

    def __hash__(self) -> int:
        return hash(self._message)

    def __bool__(self) -> bool:
        return bool(self._message)


def lazy_gettext(message: str, /, **values: Any) -> LazyText:
    return LazyText(message, **values)


def lazy_ngettext(singular: str, plural: str, n: int, /, **values: Any) -> LazyText:
    return LazyText(singular, plural, n, None, **values)


def lazy_pgettext(context: str, message: str, /, **values: Any) -> LazyText:
    return LazyText(message, None, None, context, **values)


def render(text: str | LazyText, lang: str | None = None) -> str:
    """A text that may be lazy, in `lang` (or the language in force)."""
    return text.render(lang) if isinstance(text, LazyText) else text


_ = gettext
_n = ngettext
_p = pgettext
_l = lazy_gettext
_nl = lazy_ngettext
_pl = lazy_pgettext
