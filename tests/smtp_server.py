"""A real SMTP server for tests (aiosmtpd in a thread on a free loopback port), with scripted replies."""

from __future__ import annotations

import asyncio
import socket
import threading
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from urllib.parse import quote

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Script:
    """How the server answers: refuse some recipients for good, fail the first DATA commands."""

    refuse: dict[str, str] = field(default_factory=dict)  # address -> "550 5.1.1 …"
    temporary_failures: int = 0  # DATA answered "451" this many times, then "250"
    # address -> how many times its RCPT is answered "421" and the connection then closed
    closing: dict[str, int] = field(default_factory=dict)
    # address -> how many times the connection drops (no reply at all) at its RCPT
    drops: dict[str, int] = field(default_factory=dict)


class Recorder:
    """An aiosmtpd handler that keeps what it accepted and counts connections."""

    def __init__(self, script: Script) -> None:
        self.script = script
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.peers: set[tuple] = set()
        self.lock = threading.Lock()

    async def handle_RCPT(self, server, session, envelope, address, rcpt_options):
        with self.lock:
            self.peers.add(session.peer)
            if self.script.drops.get(address, 0) > 0:
                self.script.drops[address] -= 1
                server.transport.close()
                return "421 4.3.0 (never read: the connection is gone)"
            if self.script.closing.get(address, 0) > 0:
                self.script.closing[address] -= 1
                asyncio.get_running_loop().call_later(0.05, server.transport.close)
                return "421 4.3.2 Service shutting down, closing transmission channel"
        if address in self.script.refuse:
            return self.script.refuse[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server, session, envelope):
        with self.lock:
            if self.script.temporary_failures > 0:
                self.script.temporary_failures -= 1
                return "451 4.3.0 Try again later"
            # Parsed as a mail client would: with the wire's CRLFs as plain line ends.
            self.messages.append(
                message_from_bytes(envelope.content.replace(b"\r\n", b"\n"), policy=policy.default)
            )
            self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
            return f"250 2.0.0 Ok: queued as T{len(self.messages)}"


class SmtpServer:
    """Started and stopped around a test; `url` is what TRYGG_SMTP_URL points at."""

    def __init__(
        self, script: Script | None = None, *, login: tuple[str, str] | None = None, smtputf8: bool = False
    ) -> None:
        self.recorder = Recorder(script or Script())
        self.port = free_port()
        kwargs: dict = {"enable_SMTPUTF8": smtputf8}
        if login is not None:

            def authenticate(server, session, envelope, mechanism, auth_data):
                ok = (auth_data.login.decode(), auth_data.password.decode()) == login
                return AuthResult(success=ok)

            kwargs |= {"authenticator": authenticate, "auth_require_tls": False, "auth_required": True}
        self.controller = Controller(self.recorder, hostname="127.0.0.1", port=self.port, **kwargs)
        self.login = login

    @property
    def url(self) -> str:
        # A login over loopback without TLS: said explicitly, as trygg demands (?tls=none).
        if self.login:
            return f"smtp://{quote(self.login[0], safe='')}:{self.login[1]}@127.0.0.1:{self.port}?tls=none"
        return f"smtp://127.0.0.1:{self.port}"

    @property
    def messages(self) -> list[EmailMessage]:
        with self.recorder.lock:
            return list(self.recorder.messages)

    def start(self) -> SmtpServer:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
