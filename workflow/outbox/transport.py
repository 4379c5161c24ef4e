"""How a rendered mail leaves: SMTP (one connection per batch) or `.eml` files (the embedded default).

Every send ends in an Outcome: sent (with the server's reply), retry (4xx, refused or broken
connection, timeouts) or failed (5xx, an invalid address). Deciding what to do with it is
the delivery's job.
"""

from __future__ import annotations

import os
import smtplib
import ssl
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import parseaddr
from pathlib import Path
from typing import Literal, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

from workflow.settings import Settings


@dataclass(frozen=True)
class Outcome:
    status: Literal["sent", "retry", "failed"]
    reply: str  # the server's answer, the file written, or the error


class Transport(Protocol):
    def send(self, message: EmailMessage, *, sender: str, recipient: str, filename: str) -> Outcome: ...

    def close(self) -> None: ...


def valid_address(address: str) -> bool:
    _, addr = parseaddr(address)
    local, _, domain = addr.rpartition("@")
    return bool(local) and "." in domain and not any(c.isspace() for c in addr) and addr == address.strip()


class FileTransport:
    """Writes each mail as an `.eml` file, named so that people and tests find it."""

    def __init__(self, directory: Path) -> None:
        self.directory = Path(directory)

    def send(self, message: EmailMessage, *, sender: str, recipient: str, filename: str) -> Outcome:
        if not valid_address(recipient):
            return Outcome("failed", f"invalid address {recipient!r}")
        self.directory.mkdir(parents=True, exist_ok=True)
        path = self.directory / filename
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_bytes(message.as_bytes())
        os.replace(tmp, path)  # a reader never sees half a mail
        return Outcome("sent", f"file {path}")

    def close(self) -> None:
        pass


@dataclass(frozen=True)
class SmtpConfig:
    host: str
    port: int
    security: Literal["none", "starttls", "ssl"]
    username: str | None
    password: str | None
    timeout: float

    @classmethod
    def from_url(cls, url: str, timeout: float = 30.0) -> SmtpConfig:
        """smtp://[user:pass@]host[:port][?tls=starttls|none] or smtps://… (TLS from the start).

        smtp:// uses STARTTLS on port 587 and plain SMTP otherwise, unless `tls=` says so.
        """
        parts = urlsplit(url)
        if parts.scheme not in ("smtp", "smtps") or not parts.hostname:
            raise ValueError("TRYGG_SMTP_URL must look like smtp://user:password@host:587")
        query = parse_qs(parts.query)
        if parts.scheme == "smtps":
            security, port = "ssl", parts.port or 465
        else:
            port = parts.port or 25
            security = query.get("tls", ["starttls" if port == 587 else "none"])[0]
            if security not in ("none", "starttls"):
                raise ValueError(f"tls={security!r}: use tls=starttls or tls=none (or smtps://)")
        return cls(
            host=parts.hostname,
            port=port,
            security=security,  # type: ignore[arg-type]
            username=unquote(parts.username) if parts.username else None,
            password=unquote(parts.password) if parts.password else None,
            timeout=float(query.get("timeout", [timeout])[0]),
        )


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
        if not valid_address(recipient):
            return Outcome("failed", f"invalid address {recipient!r}")
        for fresh in (self._conn is None, True):
            try:
                # Refused connections, TLS trouble and failed logins are the server's or the
                # settings' problem, not this mail's: retry later, never fail the mail for good.
                conn = self._connect()
            except (smtplib.SMTPException, OSError) as exc:
                self.close()
                return Outcome("retry", f"{type(exc).__name__}: {exc}")
            try:
                return self._transaction(conn, message, sender, recipient)
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
        raise AssertionError("unreachable")

    def _transaction(self, conn: smtplib.SMTP, message: EmailMessage, sender: str, recipient: str) -> Outcome:
        # mail/rcpt/data by hand (not sendmail) to keep the server's final reply.
        code, reply = conn.mail(sender)
        if code != 250:
            conn.rset()
            return _by_code(code, reply)
        code, reply = conn.rcpt(recipient)
        if code not in (250, 251):
            conn.rset()
            return _by_code(code, reply)
        # SMTP wants CRLF line ends: smtplib sends bytes as given, and servers refuse bare LFs.
        code, reply = conn.data(message.as_bytes(policy=message.policy.clone(linesep="\r\n")))
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


def transport_from_settings(settings: Settings) -> Transport:
    """SMTP when TRYGG_SMTP_URL is set, else `.eml` files in TRYGG_MAIL_DIR."""
    if settings.smtp_url is not None:
        return SmtpTransport(SmtpConfig.from_url(settings.smtp_url.get_secret_value(), settings.smtp_timeout))
    return FileTransport(settings.mail_dir)
