"""Transports against a real SMTP server (aiosmtpd) and the file system: outcomes, reuse, file names."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

import pytest

from tests.smtp_server import Script, free_port
from workflow.outbox.render import Rendered, build_message
from workflow.outbox.transport import (
    FileTransport,
    SmtpConfig,
    SmtpTransport,
    transport_from_settings,
    valid_address,
)
from workflow.settings import Settings

SENDER = "trygg@example.org"


def message(to: str = "maria.lund@example.org", kind: str = "reminder"):
    return build_message(
        Rendered("Påminnelse: åk 6", "Hej Maria!\n.\nEn rad som börjar med punkt.\n", "<p>Hej Maria!</p>"),
        kind=kind,
        sender=f"trygg <{SENDER}>",
        to=("Maria Lund", to),
        reply_to=None,
        message_id="<trygg.t.mail-1@example.org>",
        date=datetime(2012, 12, 17, 7, tzinfo=UTC),
        language="sv",
    )


def smtp(server, timeout: float = 5.0) -> SmtpTransport:
    return SmtpTransport(SmtpConfig.from_url(server.url, timeout))


def test_a_mail_is_accepted_with_the_servers_reply_and_arrives_whole(smtp_server):
    server = smtp_server()
    transport = smtp(server)
    outcome = transport.send(message(), sender=SENDER, recipient="maria.lund@example.org", filename="x.eml")
    transport.close()
    assert outcome.status == "sent" and outcome.reply.startswith("250 2.0.0 Ok: queued as T1")
    (received,) = server.messages
    assert received["Subject"] == "Påminnelse: åk 6" and received["X-Trygg-Kind"] == "reminder"
    assert received.get_body(("plain",)).get_content() == "Hej Maria!\n.\nEn rad som börjar med punkt.\n"


def test_one_connection_serves_a_whole_batch(smtp_server):
    server = smtp_server()
    transport = smtp(server)
    for i in range(3):
        assert (
            transport.send(message(), sender=SENDER, recipient=f"p{i}@example.org", filename="x").status
            == "sent"
        )
    transport.close()
    assert len(server.messages) == 3 and len(server.recorder.peers) == 1


def test_a_4xx_is_a_retry_and_the_next_attempt_goes_through(smtp_server):
    server = smtp_server(Script(temporary_failures=1))
    transport = smtp(server)
    first = transport.send(message(), sender=SENDER, recipient="maria.lund@example.org", filename="x")
    second = transport.send(message(), sender=SENDER, recipient="maria.lund@example.org", filename="x")
    transport.close()
    assert first.status == "retry" and first.reply.startswith("451")
    assert second.status == "sent" and len(server.messages) == 1


def test_a_5xx_recipient_is_a_permanent_failure(smtp_server):
    server = smtp_server(Script(refuse={"nobody@example.org": "550 5.1.1 No such user"}))
    transport = smtp(server)
    refused = transport.send(
        message("nobody@example.org"), sender=SENDER, recipient="nobody@example.org", filename="x"
    )
    fine = transport.send(message(), sender=SENDER, recipient="maria.lund@example.org", filename="x")
    transport.close()
    assert refused.status == "failed" and refused.reply == "550 5.1.1 No such user"
    assert fine.status == "sent"


def test_a_refused_connection_is_a_retry():
    transport = SmtpTransport(SmtpConfig.from_url(f"smtp://127.0.0.1:{free_port()}", 2.0))
    outcome = transport.send(message(), sender=SENDER, recipient="maria.lund@example.org", filename="x")
    assert outcome.status == "retry" and "Connection" in outcome.reply


@pytest.mark.filterwarnings("ignore:Requiring AUTH while not requiring TLS")
def test_login_is_used_when_the_url_has_a_user(smtp_server):
    server = smtp_server(login=("trygg", "hemligt"))
    assert (
        smtp(server).send(message(), sender=SENDER, recipient="a@example.org", filename="x").status == "sent"
    )
    assert len(server.messages) == 1


def test_an_invalid_address_is_a_permanent_failure_without_a_connection(tmp_path):
    transport = SmtpTransport(SmtpConfig.from_url(f"smtp://127.0.0.1:{free_port()}", 2.0))
    assert (
        transport.send(message(), sender=SENDER, recipient="inte en adress", filename="x").status == "failed"
    )
    assert not valid_address("a@b") and valid_address("anna.sjoberg@example.org")
    assert (
        FileTransport(tmp_path).send(message(), sender=SENDER, recipient="x@@", filename="x.eml").status
        == "failed"
    )


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.org", ("mail.example.org", 25, "none", None, None)),
        ("smtp://u:p%40ss@mail.example.org:587", ("mail.example.org", 587, "starttls", "u", "p@ss")),
        ("smtp://mail.example.org:2525?tls=starttls", ("mail.example.org", 2525, "starttls", None, None)),
        ("smtps://u:p@mail.example.org", ("mail.example.org", 465, "ssl", "u", "p")),
    ],
)
def test_smtp_urls(url, expected):
    c = SmtpConfig.from_url(url, 12.0)
    assert (c.host, c.port, c.security, c.username, c.password) == expected and c.timeout == 12.0


def test_a_bad_smtp_url_is_refused():
    with pytest.raises(ValueError):
        SmtpConfig.from_url("http://mail.example.org")
    with pytest.raises(ValueError):
        SmtpConfig.from_url("smtp://mail.example.org?tls=maybe")


def test_the_file_transport_is_the_default_and_writes_whole_named_files(tmp_path):
    transport = transport_from_settings(Settings(mail_dir=tmp_path / "mail", smtp_url=None))
    assert isinstance(transport, FileTransport)
    outcome = transport.send(
        message(),
        sender=SENDER,
        recipient="maria.lund@example.org",
        filename="2012-12-17_reminder_maria-lund_1.eml",
    )
    path = tmp_path / "mail" / "2012-12-17_reminder_maria-lund_1.eml"
    assert outcome.status == "sent" and outcome.reply == f"file {path}"
    written = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert written["Message-ID"] == "<trygg.t.mail-1@example.org>"
    assert written.get_body(("plain",)).get_content() == message().get_body(("plain",)).get_content()
    assert [p.name for p in (tmp_path / "mail").iterdir()] == [path.name]  # no temporary left
