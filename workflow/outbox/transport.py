"""How a rendered mail leaves: SMTP (one connection per batch) or `.eml` files (the embedded default).

Every send ends in an Outcome: sent (with the server's reply), retry (4xx, refused or broken
connection, timeouts) or failed (5xx, an invalid address). Deciding what to do with it is
the delivery's job.
"""

from __future__ import annotations

import email.generator
import os
import random
import smtplib
import ssl
import sys
from dataclasses import dataclass
from email.generator import BytesGenerator
from email.message import EmailMessage
from io import BytesIO
from pathlib import Path
from typing import Literal, Protocol

from workflow.addresses import AddressError, parse_address
from workflow.settings import Settings, SmtpConfig

__all__ = ["FileTransport", "Outcome", "SmtpConfig", "SmtpTransport", "Transport", "valid_address"]

CLOSING = 421  # "service not available, closing transmission channel"


@dataclass(frozen=True)
class Outcome:
    status: Literal["sent", "retry", "failed"]
    reply: str  # the server's answer, the file written, or the error


class Transport(Protocol):
    def send(self, message: EmailMessage, *, sender: str, recipient: str, filename: str) -> Outcome: ...

    def close(self) -> None: ...


def valid_address(address: str) -> bool:
    try:
        parse_address(address)
    except AddressError:
        return False
    return True


def needs_smtputf8(message: EmailMessage, *addresses: str) -> bool:
    """Whether an address of the envelope or the headers has a local part outside ASCII."""
    in_headers = (
        a.username
        for name in ("From", "To", "Reply-To")
        for header in message.get_all(name, ())
        for a in getattr(header, "addresses", ())
    )
    return not all(part.isascii() for part in (*addresses, *in_headers))


def wire_bytes(message: EmailMessage, *, utf8: bool, linesep: str = "\n") -> bytes:
    """The message as it travels: RFC 6532 UTF-8 headers only when an address needs them.
    (What `message.as_bytes` writes, through a generator that makes boundaries with less work.)"""
    out = BytesIO()
    _Generator(out, mangle_from_=False, policy=message.policy.clone(utf8=utf8, linesep=linesep)).flatten(
        message, unixfrom=False
    )
    return out.getvalue()


class _Generator(BytesGenerator):
    """The standard generator, but a part boundary is checked against the parts' text only when
    that text could hold one: the standard check compiles a new regular expression for every
    message (each boundary is random), a fifth of the cost of writing a mail."""

    @classmethod
    def _make_boundary(cls, text: str | bytes | None = None) -> str:
        if text is not None and (b"=" * 15 if isinstance(text, bytes) else "=" * 15) in text:
            return super()._make_boundary(text)
        return "=" * 15 + (email.generator._fmt % random.randrange(sys.maxsize)) + "=="


class FileTransport:
    """Writes each mail as an `.eml` file, named so that people and tests find it."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage, *, sender: str, recipient: str, filename: str) -> Outcome:
        try:
            parse_address(recipient)
        except AddressError as exc:
            return Outcome("failed", f"invalid address {recipient!r}: {exc}")
        path = self.directory / filename
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        try:
            self.directory.mkdir(parents=True, exist_ok=True)
            tmp.write_bytes(wire_bytes(message, utf8=needs_smtputf8(message, sender, recipient)))
            os.replace(tmp, path)  # a reader never sees half a mail
        except OSError as exc:
            # TRYGG_MAIL_DIR a file, a full disk, no permission: the setting's fault, not this
            # mail's. It waits in its row and is failed (and the coordinator told) after the retries.
            _remove_quietly(tmp)
            return Outcome("retry", f"{type(exc).__name__}: cannot write {path}: {exc.strerror or exc}")
        return Outcome("sent", f"file {path}")

    def close(self) -> None:
        pass


class SmtpTransport:
    """One SMTP connection, opened on the first send and reused for the rest of the batch."""

    def __init__(self, config: SmtpConfig) -> None:
        self.config = config
        self._conn: smtplib.SMTP | None = None

    def _connect(self) -> smtplib.SMTP:
        if self._conn is not None:
            return self._conn
        c = self.config
        if c.security == "ssl":
            conn: smtplib.SMTP = smtplib.SMTP_SSL(
                c.host, c.port, timeout=c.timeout, context=ssl.create_default_context()
            )
        else:
            conn = smtplib.SMTP(c.host, c.port, timeout=c.timeout)
        try:
            conn.ehlo()
            if c.security == "starttls":
                conn.starttls(context=ssl.create_default_context())
                conn.ehlo()
            if c.username:
                conn.login(c.username, c.password or "")
        except BaseException:
            _quietly_close(conn)
            raise
        self._conn = conn
        return conn

    def send(self, message: EmailMessage, *, sender: str, recipient: str, filename: str) -> Outcome:
        try:
            address = parse_address(recipient)
        except AddressError as exc:
            return Outcome("failed", f"invalid address {recipient!r}: {exc}")
        utf8 = needs_smtputf8(message, sender, address.wire)
        for fresh in (self._conn is None, True):
            try:
                # Refused connections, TLS trouble and failed logins are the server's or the
                # settings' problem, not this mail's: retry later, never fail the mail for good.
                conn = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                return Outcome("retry", f"{type(exc).__name__}: {exc}")
            if utf8 and not conn.has_extn("smtputf8"):
                return Outcome(
                    "failed",
                    f"the address {recipient!r} (or the sender's) needs SMTPUTF8, "
                    "which the server does not offer",
                )
            try:
                outcome = self._transaction(conn, message, sender, address.wire, utf8)
            except smtplib.SMTPServerDisconnected as exc:
                self.close()
                if fresh:
                    return Outcome("retry", f"{type(exc).__name__}: {exc}")
                # A reused connection the server closed while idle: once more on a new one.
            except smtplib.SMTPResponseException as exc:
                self.close()
                return _by_code(exc.smtp_code, exc.smtp_error)
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                return Outcome("retry", f"{type(exc).__name__}: {exc}")
            else:
                if not outcome.reply.startswith(f"{CLOSING} "):
                    return outcome
                # The server closes this connection (RFC 5321 4.2.2, e.g. too many mails on one):
                # the mail was not taken, so once more on a new connection, unless it was new.
                self.close()
                if fresh:
                    return outcome
        raise AssertionError("unreachable")

    def _transaction(
        self, conn: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str, utf8: bool
    ) -> Outcome:
        # mail/rcpt/data by hand (not sendmail) to keep the server's final reply.
        code, reply = conn.mail(sender, ["SMTPUTF8"] if utf8 else [])
        try:
            if code != 250:
                if code != CLOSING:
                    conn.rset()
                return _by_code(code, reply)
            code, reply = conn.rcpt(recipient)
            if code not in (250, 251):
                # A refused recipient ends this mail's transaction, not the connection: RSET,
                # and the batch's next mail goes over the same one.
                if code != CLOSING:
                    conn.rset()
                return _by_code(code, reply)
            # SMTP wants CRLF line ends: smtplib sends bytes as given, and servers refuse bare LFs.
            code, reply = conn.data(wire_bytes(message, utf8=utf8, linesep="\r\n"))
        finally:
            conn.command_encoding = "ascii"  # `mail(…, ["SMTPUTF8"])` switched it for this mail only
        if code != 250:
            return _by_code(code, reply)
        return Outcome("sent", f"{code} {_text(reply)}")

    def close(self) -> None:
        if self._conn is not None:
            _quietly_close(self._conn)
            self._conn = None


def _by_code(code: int, reply: bytes | str) -> Outcome:
    text = f"{code} {_text(reply)}"
    return Outcome("failed" if 500 <= code < 600 else "retry", text)


def _text(reply: bytes | str) -> str:
    return reply.decode("utf-8", "replace") if isinstance(reply, bytes) else str(reply)


def _quietly_close(conn: smtplib.SMTP) -> None:
    try:
        conn.quit()
    except (smtplib.SMTPException, OSError):
        conn.close()


def _remove_quietly(path: Path) -> None:
    try:
        path.unlink(missing_ok=True)
    except OSError:
        pass


def transport_from_settings(settings: Settings) -> Transport:
    """SMTP when TRYGG_SMTP_URL is set, else `.eml` files in TRYGG_MAIL_DIR."""
    config = settings.smtp_config()
    return SmtpTransport(config) if config is not None else FileTransport(settings.mail_dir)
