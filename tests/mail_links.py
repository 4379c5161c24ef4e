"""The link settings tests deliver with: a fixed base URL and key, so that links are the same every run."""

from __future__ import annotations

import re
from email.message import EmailMessage

from workflow.links.tokens import LinkSigner
from workflow.links.urls import LinkSettings

BASE_URL = "https://trygg.example.org"
SECRET = "test-secret-of-at-least-thirty-two-characters"
LINKS = LinkSettings(BASE_URL, LinkSigner(SECRET))


def linked(message: EmailMessage) -> set[tuple[str, str, int]]:
    """(action, subject type, subject id) of every link in a mail's text part, read with the test key.

    Mails no longer name an item's key; what a mail is about is what its links act on.
    """
    text = message.get_body(("plain",)).get_content()
    sent = message["Date"].datetime
    grants = [LINKS.signer.verify(token, sent) for token in re.findall(rf"{BASE_URL}/l/(\S+)", text)]
    return {(str(g.action), g.subject_type, g.subject_id) for g in grants}


def linked_ids(message: EmailMessage, subject_type: str) -> set[int]:
    """The ids of the items of `subject_type` a mail links to."""
    return {subject_id for _, kind, subject_id in linked(message) if kind == subject_type}
