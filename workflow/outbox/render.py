"""Mails as people read them: Jinja2 templates (plain text + autoescaped HTML), Swedish or English.

One template set, templates/emails/<kind>.{txt,html}.j2, whose words go through the catalogues of
workflow/i18n.py (Jinja2's i18n extension: `_()`, `ngettext()`, `pgettext()`) in the reader's
language, the template variable `lang`. The text template's `subject` block is the subject.
Dates are written the Swedish (or English) way by Babel.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import date, datetime
from email.headerregistry import Address
from email.message import EmailMessage
from email.mime.text import MIMEText
from email.policy import EmailPolicy
from email.utils import format_datetime, parseaddr, quote
from functools import lru_cache
from typing import Any
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.dates import format_datetime as babel_datetime
from jinja2 import Environment, FileSystemLoader, StrictUndefined, pass_context, select_autoescape
from jinja2.runtime import Context

from workflow import i18n
from workflow.outbox.kinds import KINDS
from workflow.resources import templates_dir

LANGUAGES = ("sv", "en")
_LOCALE = {"sv": "sv_SE", "en": "en_GB"}


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


@dataclass(frozen=True)
class CalendarPart:
    """An iCalendar object (METHOD:REQUEST or CANCEL) that calendar clients act on."""

    method: str
    ics: str
    filename: str = "invite.ics"


@dataclass(frozen=True)
class Attachment:
    """A file a mail carries: text (sent as it is) or bytes (a PDF; base64 in the MIME part)."""

    filename: str
    content_type: str  # "text/html", "application/pdf"
    content: str | bytes

    @classmethod
    def from_payload(cls, payload: dict[str, Any]) -> Attachment:
        """From a notice's JSON payload, where bytes are kept as `content_base64`."""
        if "content_base64" in payload:
            content: str | bytes = base64.b64decode(payload["content_base64"])
        else:
            content = payload["content"]
        return cls(payload["filename"], payload["content_type"], content)


@lru_cache(maxsize=1)
def environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(str(templates_dir() / "emails")),
        autoescape=select_autoescape(enabled_extensions=("html.j2",), default_for_string=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
        extensions=["jinja2.ext.i18n"],
        auto_reload=False,  # compiled once: no stat() of every template and macro file per mail
    )
    env.install_gettext_callables(  # type: ignore[attr-defined]
        gettext=_gettext, ngettext=_ngettext, pgettext=_pgettext, npgettext=_npgettext, newstyle=True
    )
    env.filters["day"] = _day
    env.filters["day_short"] = _day_short
    env.filters["moment"] = _moment
    env.filters["local_day"] = _local_day
    env.filters["span"] = _span
    env.filters["shorten"] = shorten
    return env


def shorten(text: str, limit: int = 90) -> str:
    """`text` cut to about `limit` characters in the middle, at spaces: its start and its end stay.

    Titles of one plan or one council differ at either end ("…handlingsplanen 2012" against
    "…handlingsplanen 2013"), so a cut at the end would make two subjects the same.
    """
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    words = text.split(" ")
    head: list[str] = []
    tail: list[str] = []
    used = 2  # the " …" between the halves
    front, back = 0, len(words) - 1
    while front <= back:
        take_front = sum(map(len, head)) <= sum(map(len, tail))
        word = words[front] if take_front else words[back]
        if used + len(word) + 1 > limit:
            break
        used += len(word) + 1
        if take_front:
            head.append(word)
            front += 1
        else:
            tail.insert(0, word)
            back -= 1
    if not head:
        return text[: limit - 1] + "…"
    return " ".join([*head, "…", *tail])


# The words of a template in the language of the one who reads it: the context's `lang`. A mail
# looks up some seventy words; each lookup is remembered (the catalogues do not change while
# the process runs).
_words: dict[tuple, str] = {}


@pass_context
def _gettext(context: Context, message: str) -> str:
    key = (context.get("lang"), message)
    if (word := _words.get(key)) is None:
        word = _words[key] = i18n.translations(i18n.known(key[0])).gettext(message)
    return word


@pass_context
def _ngettext(context: Context, singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.known(context.get("lang"))).ngettext(singular, plural, n)


@pass_context
def _pgettext(context: Context, msgctxt: str, message: str) -> str:
    key = (context.get("lang"), msgctxt, message)
    if (word := _words.get(key)) is None:
        word = _words[key] = i18n.translations(i18n.known(key[0])).pgettext(msgctxt, message)
    return word


@pass_context
def _npgettext(context: Context, msgctxt: str, singular: str, plural: str, n: int) -> str:
    return i18n.translations(i18n.known(context.get("lang"))).npgettext(msgctxt, singular, plural, n)


def _as_date(value: date | str) -> date:
    return date.fromisoformat(value) if isinstance(value, str) else value


# The date words are pure functions and the same days recur in every mail and page: remembered.
@lru_cache(maxsize=4096)
def _day(value: date | str, lang: str = "sv") -> str:
    """fredag 28 december 2012 / Friday 28 December 2012."""
    return format_date(_as_date(value), "EEEE d MMMM y", locale=_LOCALE[lang])


@lru_cache(maxsize=4096)
def _day_short(value: date | str, lang: str = "sv") -> str:
    """28 december 2012 / 28 December 2012."""
    return format_date(_as_date(value), "d MMMM y", locale=_LOCALE[lang])


@lru_cache(maxsize=4096)
def _moment(value: datetime | str, lang: str = "sv", tz: str = "Europe/Stockholm") -> str:
    """28 december 2012 kl. 08:00 / 28 December 2012 at 08:00, in the agreement's zone."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    pattern = "d MMMM y 'kl.' HH:mm" if lang == "sv" else "d MMMM y 'at' HH:mm"
    return babel_datetime(instant, pattern, tzinfo=tz, locale=_LOCALE[lang])


@lru_cache(maxsize=4096)
def _local_day(value: datetime | str, lang: str = "sv", tz: str = "Europe/Stockholm") -> str:
    """The local day of an instant, without its time: 3 maj 2012 / 3 May 2012."""
    instant = datetime.fromisoformat(value) if isinstance(value, str) else value
    return _day_short(instant.astimezone(ZoneInfo(tz)).date(), lang)


@lru_cache(maxsize=4096)
def _span(start: datetime | str, end: datetime | str, lang: str = "sv", tz: str = "Europe/Stockholm") -> str:
    """tisdag 14 februari 2012 kl. 13:00–15:00 / Tuesday 14 February 2012, 13:00–15:00."""
    first = datetime.fromisoformat(start) if isinstance(start, str) else start
    last = datetime.fromisoformat(end) if isinstance(end, str) else end
    pattern = "EEEE d MMMM y 'kl.' HH:mm" if lang == "sv" else "EEEE d MMMM y, HH:mm"
    same_day = first.astimezone(ZoneInfo(tz)).date() == last.astimezone(ZoneInfo(tz)).date()
    until = babel_datetime(last, "HH:mm" if same_day else pattern, tzinfo=tz, locale=_LOCALE[lang])
    return f"{babel_datetime(first, pattern, tzinfo=tz, locale=_LOCALE[lang])}–{until}"


# The same words for dates on the web's pages as in the mails.
format_day, format_day_short, format_moment, format_span = _day, _day_short, _moment, _span


def template_names(kind: str, lang: str) -> tuple[str, str]:
    """The text and HTML templates of `kind` (one set for every language)."""
    return f"{kind}.txt.j2", f"{kind}.html.j2"


def render(kind: str, lang: str, context: dict[str, Any]) -> Rendered:
    """Subject, plain text and HTML of a mail of `kind` in `lang` (sv when unknown)."""
    if kind not in KINDS:
        raise ValueError(f"unknown mail kind {kind!r}")
    lang = lang if lang in LANGUAGES else "sv"
    env = environment()
    text_name, html_name = template_names(kind, lang)
    values = {**context, "lang": lang, "kind": kind}
    text_template = env.get_template(text_name)
    subject = "".join(text_template.blocks["subject"](text_template.new_context(values))).strip()
    return Rendered(
        subject=" ".join(subject.split()),  # a header is one line
        text=text_template.render(values),
        html=env.get_template(html_name).render(values),
    )


def message_id(mail_id: int, agreement_key: str, sender: str) -> str:
    """A Message-ID that is the same for every attempt of one mail row."""
    domain = parseaddr(sender)[1].rpartition("@")[2] or "trygg.invalid"
    return f"<trygg.{agreement_key}.mail-{mail_id}@{domain}>"


def build_message(
    rendered: Rendered,
    *,
    kind: str,
    sender: str,
    to: tuple[str, str],
    reply_to: tuple[str, str] | None,
    message_id: str,
    date: datetime,
    language: str,
    calendar: CalendarPart | None = None,
    attachments: tuple[Attachment, ...] = (),
) -> EmailMessage:
    """A multipart/alternative message with the headers every trygg mail carries.

    A calendar part is written the way calendar services send invitations, which Outlook,
    Thunderbird, Apple Mail and Gmail all act on: a `text/calendar; method=…` alternative
    beside the text and HTML, and the same object attached as an `.ics` file — wrapped in
    multipart/mixed with any other attachments.
    """
    msg = EmailMessage(policy=POLICY)
    _set_subject(msg, rendered.subject)
    msg["From"] = sender
    msg["To"] = _mailbox(*to)
    if reply_to is not None:
        msg["Reply-To"] = _mailbox(*reply_to)
    msg["Date"] = format_datetime(date)
    msg["Message-ID"] = message_id
    msg["Auto-Submitted"] = "auto-generated"  # RFC 3834: no vacation replies, no loops
    msg["X-Auto-Response-Suppress"] = "All"
    msg["X-Trygg-Kind"] = kind
    msg.set_content(rendered.text)
    msg.add_alternative(rendered.html, subtype="html")
    if calendar is not None:
        msg.attach(_calendar_part(calendar))
    if calendar is not None or attachments:
        msg.make_mixed()
    if calendar is not None:
        msg.add_attachment(
            calendar.ics.encode("utf-8"), maintype="application", subtype="ics", filename=calendar.filename
        )
    for attachment in attachments:
        maintype, _, subtype = attachment.content_type.partition("/")
        if isinstance(attachment.content, bytes):
            msg.add_attachment(
                attachment.content, maintype=maintype, subtype=subtype, filename=attachment.filename
            )
        else:
            msg.add_attachment(attachment.content, subtype=subtype, filename=attachment.filename)
    msg["Content-Language"] = language  # after the parts: set_content drops Content-* headers
    return msg


class _ParseOnce(EmailPolicy):
    """The default policy (`email.policy.default`), writing the very same bytes, with less work.

    Parsing a header value into its header object, and folding that object into lines, are
    most of the cost of a message, and most values repeat from mail to mail (From, Reply-To,
    the fixed headers, a subject, the parts' Content-Type): each distinct value is parsed once
    and each header object folded once per way of writing it (line ends, UTF-8). Header objects
    never change once made, so sharing one between messages changes nothing in them.
    """

    _parsed: dict[tuple[str, str], Any] = {}
    _MAX = 4096  # distinct values remembered; the per-mail ones (To, Date, Message-ID) come and go
    _max_counts: dict[str, int | None] = {}

    def header_max_count(self, name):
        # Asked at every header set; the registry answers by making a new class each time.
        key = name.lower()
        if key not in self._max_counts:
            self._max_counts[key] = super().header_max_count(name)
        return self._max_counts[key]

    def header_store_parse(self, name, value):
        if type(value) is not str:
            return super().header_store_parse(name, value)
        key = (name, value)
        parsed = self._parsed.get(key)
        if parsed is None:
            name, parsed = super().header_store_parse(name, value)  # a line break still raises
            if len(self._parsed) >= self._MAX:
                self._parsed.clear()
            self._parsed[key] = parsed
        return name, parsed

    def _fold(self, name, value, refold_binary=False):
        if not hasattr(value, "name"):
            return super()._fold(name, value, refold_binary)
        text = str(value)
        if (
            text.isascii()
            and "=?" not in text  # the parsed text keeps an encoded word the value shows decoded
            and "\n" not in text
            and "\r" not in text
            and (not self.max_line_length or len(value.name) + 2 + len(text) <= self.max_line_length)
            and not value.defects
        ):
            # One short ASCII line: what folding its parse tree gives, without making the tree.
            return f"{value.name}: {text}{self.linesep}"
        folds = value.__dict__.setdefault("_trygg_folds", {})
        key = (name, self.linesep, self.utf8, self.max_line_length, self.cte_type, refold_binary)
        if (folded := folds.get(key)) is None:
            folded = folds[key] = super()._fold(name, value, refold_binary)
        return folded


POLICY = _ParseOnce()


def _set_subject(msg: EmailMessage, subject: str) -> None:
    """The Subject, written so that it parses back to exactly `subject`.

    The default policy's folding drops the space where it breaks a line between two encoded
    words ("trygghet ochhälsa"), and moves a long plain-ASCII subject whole to a second line,
    which parses back with a leading space. So the folded value is written here and stored as
    it is (its lines are short, so the policy leaves them alone): plain ASCII folded before its
    own spaces, anything else as base64 encoded words that carry every space inside them.
    """
    if subject.isascii() and len(subject) <= 60:
        msg["Subject"] = subject
    elif subject.isascii() and "=?" not in subject:  # "=?" would read back as an encoded word
        msg.set_raw("Subject", _folded(subject))
    else:
        msg.set_raw("Subject", _encoded_words(subject))


_LINE = 78 - len("Subject: ")  # the first line's room; a continuation line has one more
_WORD_BYTES = 42  # UTF-8 bytes per encoded word: 56 base64 characters, 68 with =?utf-8?b?…?=


def _folded(subject: str) -> str:
    """ASCII text folded at its spaces: each line break is put before a space, so unfolding (which
    removes only the line break) gives the text back."""
    lines, line = [], ""
    for word in subject.split(" "):
        if line and len(line) + 1 + len(word) > _LINE:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    lines.append(line)
    return "\n ".join(lines)


def _encoded_words(subject: str) -> str:
    """RFC 2047 base64 encoded words of at most `_WORD_BYTES` bytes each, never splitting a
    character, one to a line; whitespace between encoded words is dropped by every reader."""
    words, chunk = [], b""
    for char in subject:
        encoded = char.encode("utf-8")
        if len(chunk) + len(encoded) > _WORD_BYTES:
            words.append(chunk)
            chunk = b""
        chunk += encoded
    words.append(chunk)
    return "\n ".join(f"=?utf-8?b?{base64.b64encode(word).decode('ascii')}?=" for word in words)


def _mailbox(name: str, addr_spec: str) -> Address | str:
    """A To/Reply-To value. A local part outside ASCII (RFC 6531) is one `Address` refuses: it is
    given as text instead, kept as written, and goes out as UTF-8 only where SMTPUTF8 is offered."""
    if addr_spec.rpartition("@")[0].isascii():
        return Address(display_name=name, addr_spec=addr_spec)
    return f'"{quote(name)}" <{addr_spec}>' if name else addr_spec


def _calendar_part(calendar: CalendarPart) -> MIMEText:
    """`text/calendar; method=REQUEST; charset=UTF-8`, base64 so that its CRLF line ends survive.

    A compat32 part, because its headers are written as given: the modern policy would quote
    the method (`method="REQUEST"`), which some calendar clients do not recognise.
    """
    part = MIMEText(calendar.ics, "calendar", "utf-8")
    del part["Content-Type"]
    part["Content-Type"] = f"text/calendar; method={calendar.method}; charset=UTF-8"
    return part
