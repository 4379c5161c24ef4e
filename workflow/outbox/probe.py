"""`trygg mail test`: one mail through the configured transport, to see what the server answers."""

from __future__ import annotations

from datetime import datetime
from email.utils import make_msgid

from workflow.addresses import parse_address
from workflow.i18n import _
from workflow.outbox.render import Rendered, build_message
from workflow.outbox.transport import Outcome, Transport


def send_test_mail(
    transport: Transport, *, to: str, sender: str, envelope_sender: str, now: datetime, lang: str
) -> Outcome:
    """Send one test mail to `to` (checked as delivery checks it) and return the transport's outcome."""
    address = parse_address(to)  # AddressError: the caller reports it as bad input
    subject = _("trygg: test mail", lang=lang)
    text = _(
        "This is a test mail from trygg (trygg mail test).\n"
        "If it arrived, delivery is set up correctly; do not reply to it.\n",
        lang=lang,
    )
    html = "".join(f"<p>{line}</p>" for line in text.splitlines())
    domain = envelope_sender.rpartition("@")[2] or "trygg.invalid"
    message = build_message(
        Rendered(subject, text, html),
        kind="test",
        sender=sender,
        to=("", address.wire),
        reply_to=None,
        message_id=make_msgid("trygg.test", domain=domain),
        date=now,
        language=lang,
    )
    try:
        return transport.send(
            message,
            sender=envelope_sender,
            recipient=address.wire,
            filename=f"{now:%Y-%m-%d_%H%M%S}_test.eml",
        )
    except Exception as exc:  # what delivery would retry: say it, do not crash
        return Outcome("retry", f"{type(exc).__name__}: {exc}")
    finally:
        transport.close()
