"""Every link in every kind of mail, opened as a mail scanner would (GET and HEAD): the page answers
and the database does not change.

The mails are real: the email snapshots' scenario (the Härnösand agreement through `trygg`), then
the mails only the web makes — a sign-in link, and the extension request a reminder's *Begär ny
slutdag* sends the coordinator — written by the file transport and read back from the `.eml` files.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from urllib.parse import quote

import pytest

from tests.conftest import trygg
from tests.mail_links import BASE_URL, SECRET
from tests.test_email_snapshots import run_scenario
from tests.web_world import csrf_of, dump
from web.app import create_app
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory
from workflow.links.tokens import LinkSigner
from workflow.settings import Settings

LINK = re.compile(rf"{re.escape(BASE_URL)}(/[^\s\"'<>]*)")
# Every kind whose mails carry actions (the table).
ACTING_KINDS = {
    "reminder",
    "overdue",
    "escalation",
    "agenda_call",
    "invitation",
    "checkin_invitation",
    "meeting_update",
    "minutes_request",
    "extension_request",
    "sign_in",
}


def _paths(mail: EmailMessage) -> set[str]:
    """The paths of every link under the base URL, in the text part and in the HTML part."""
    found: set[str] = set()
    for kind in ("plain", "html"):
        part = mail.get_body((kind,))
        if part is not None:
            found |= {path.replace("&amp;", "&") for path in LINK.findall(part.get_content())}
    return found


def _app(url: str, at: datetime):
    return create_app(
        Settings(database_url=url, secret_key=SECRET, base_url=BASE_URL),
        sessions=session_factory(make_engine(url)),
        clock=FixedClock(at),
    )


def _action(path: str) -> str:
    return LinkSigner(SECRET).verify(path.removeprefix("/l/"), datetime(2000, 1, 1, tzinfo=UTC)).action


def _read(paths: list[Path]) -> list[EmailMessage]:
    return [message_from_bytes(p.read_bytes(), policy=policy.default) for p in paths]


@pytest.fixture(scope="module")
def scenario(tmp_path_factory) -> tuple[str, list[EmailMessage]]:
    folder = tmp_path_factory.mktemp("web-mails")
    mails = run_scenario(folder, "sv")
    url = f"sqlite:///{folder / 'trygg.db'}"
    reminder, extend = next(
        (m, p) for m in mails for p in sorted(_paths(m)) if p.startswith("/l/") and _action(p) == "extend"
    )
    at = reminder["Date"].datetime
    client = _app(url, at).test_client()
    form = {"csrf_token": csrf_of(client.get(extend).text), "new_deadline": "2013-06-28", "reason": "sjukdom"}
    assert client.post(extend, data=form).status_code == 303
    address = reminder["To"].addresses[0].addr_spec
    form = {"csrf_token": csrf_of(client.get("/sign-in").text), "email": address}
    assert client.post("/sign-in", data=form).status_code == 200
    seen = {p.name for p in (folder / "mail").glob("*.eml")}
    env = {
        "TRYGG_DATABASE_URL": url,
        "TRYGG_MAIL_DIR": str(folder / "mail"),
        "TRYGG_SECRET_KEY": SECRET,
        "TRYGG_BASE_URL": BASE_URL,
    }
    done = trygg("sweep", "--now", (at + timedelta(minutes=5)).isoformat(), env=env)
    assert done.returncode == 0, done.stderr
    mails += _read(sorted(p for p in (folder / "mail").glob("*.eml") if p.name not in seen))
    return url, mails


@pytest.mark.slow
def test_a_get_and_a_head_of_every_link_in_every_mail_change_nothing(scenario):
    url, mails = scenario
    opened: set[str] = set()
    before = dump(url)
    for mail in mails:
        paths = _paths(mail)
        assert "/me" in paths, mail["X-Trygg-Kind"]
        client = _app(url, mail["Date"].datetime).test_client()
        for path in paths:
            for method in (client.get, client.head):
                answer = method(path)
                # /me: to the sign-in page; the desk's pages (the weekly summary's links): refused
                # to a visitor without a session (a mail scanner), deny by default.
                expected = 302 if path == "/me" else 403 if path.startswith("/agreements/") else 200
                assert answer.status_code == expected, (mail["X-Trygg-Kind"], path[:12], answer.status_code)
                if expected == 403 and method is client.get:  # the coordinator, signed out: what to do
                    page = answer.get_data(as_text=True)
                    assert "Logga in för att se sidan" in page
                    assert f'href="/sign-in?next={quote(path, safe="")}"' in page
            if path.startswith("/l/"):
                opened.add(mail["X-Trygg-Kind"])
    assert dump(url) == before
    assert opened >= ACTING_KINDS
