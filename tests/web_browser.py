"""What the browser tests stand on: Debian's Chromium under Playwright, a live `trygg web`, mails, axe.

Everything here is driven the way a person (or a script) would: the server is the real
`trygg web --demo` process on a free port against a throwaway SQLite database with the Härnösand
agreement loaded, mails are the `.eml` files the file transport writes, and a link is found by
its label in a mail's text part (`Klart: https://…`).

The agreement runs in 2012–2013 and a link is valid 30 days from its mail, so the server lives
in its scenario's time: its domain clock starts at an instant each test chooses and runs on from
there (tests/trygg_at.py says why that clock and not libfaketime). Sweeps run in this process
with `trygg sweep --now`, with the same secret and base URL, so their links are the server's.
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest

from tests.conftest import HARNOSAND, ROOT, _require, trygg
from tests.web_world import free_port, wait_for

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
WIDTHS = (1280, 390)  # a desktop and a phone
# WCAG 2.1 A and AA, what lag (2018:1937) asks of Swedish public bodies.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
# Long enough (≥ 32 characters) that the server starts without its refusal; the same for the
# sweeps here, so the links they write are the server's.
SECRET = "browser-tests-only-0123456789-abcdefghijklmnopqrstuvwxyz"


def need_browser() -> None:
    """Skip without Chromium or Playwright, with the reason; under CI=true fail."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _require("Playwright", f"Playwright for Python is not installed ({exc}): pip install -e '.[dev]'")
    if not os.access(CHROMIUM, os.X_OK):
        _require("Chromium", f"no {CHROMIUM} (Debian's chromium; .ci/run installs it)")


@pytest.fixture(scope="module")
def browser():
    """One headless Debian Chromium per test module; Playwright downloads nothing. Per module, not per
    run: Playwright's sync API allows one instance at a time in a thread, and the other browser
    modules start their own (tests/xdist_groups.py keeps every browser module on one worker, in turn)."""
    need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    """A fresh page in a fresh context (no cookies: nobody is signed in), Swedish, at 1280 px."""
    context = browser.new_context(locale="sv-SE", viewport={"width": WIDTHS[0], "height": 900})
    context.set_default_timeout(15_000)
    yield context.new_page()
    context.close()


# --- mails -------------------------------------------------------------------------------


def read_mail(path: Path) -> EmailMessage:
    return message_from_bytes(path.read_bytes(), policy=policy.default)


def text_of(mail: EmailMessage) -> str:
    return mail.get_body(("plain",)).get_content()


def recipient(mail: EmailMessage) -> str:
    return mail["To"].addresses[0].addr_spec


def links(mail: EmailMessage, label: str) -> list[str]:
    """Every address labelled `label` in the mail's text part (`Klart: https://…`), in order."""
    return links_in_text(text_of(mail), label)


def link(mail: EmailMessage, label: str, after: str | None = None) -> str:
    """The one link labelled `label`; in a digest the first one after the text `after`."""
    text = text_of(mail)
    if after is not None:
        start = text.find(after)
        assert start >= 0, f"{after!r} is not in the mail {mail['Subject']!r}"
        found = links_in_text(text[start:], label)
    else:
        found = links_in_text(text, label)
        assert len(found) <= 1, f"{len(found)} links {label!r} in {mail['Subject']!r}: say which (after=…)"
    assert found, f"no link {label!r} in the mail {mail['Subject']!r}:\n{text}"
    # Most people click in the HTML part: the same address must be there.
    assert f'href="{found[0]}"' in mail.get_body(("html",)).get_content(), f"{label!r} not in the HTML part"
    return found[0]


def links_in_text(text: str, label: str) -> list[str]:
    # A line of its own: the label, a colon, the address (indented under its item in a digest).
    pattern = re.compile(rf"^[ \t*•-]*{re.escape(label)}:[ \t]+(\S+)[ \t]*$", re.MULTILINE)
    return pattern.findall(text)


def of_kind(mails: list[EmailMessage], kind: str, to: str | None = None) -> list[EmailMessage]:
    """The mails of one `X-Trygg-Kind` (to one address, when given)."""
    return [m for m in mails if m["X-Trygg-Kind"] == kind and (to is None or recipient(m) == to)]


def one(mails: list[EmailMessage], kind: str, to: str | None = None) -> EmailMessage:
    found = of_kind(mails, kind, to)
    assert len(found) == 1, f"{len(found)} {kind} mails to {to or 'anyone'}: {summary(mails)}"
    return found[0]


def summary(mails: list[EmailMessage]) -> list[str]:
    return [f"{m['X-Trygg-Kind']} → {recipient(m)}: {m['Subject']}" for m in mails]


# --- the server ----------------------------------------------------------------------------


@dataclass
class LiveServer:
    """`trygg web --demo` as a real process whose clock lives from `started_at` on, and its mail folder."""

    folder: Path
    started_at: datetime
    port: int = field(default_factory=free_port)
    process: subprocess.Popen | None = None
    seen: set[str] = field(default_factory=set)

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def db_url(self) -> str:
        return f"sqlite:///{self.folder / 'trygg.db'}"

    @property
    def mail_dir(self) -> Path:
        return self.folder / "mail"

    @property
    def log(self) -> Path:
        return self.folder / "web.log"

    def env(self) -> dict[str, str]:
        """The settings the server and the sweeps share."""
        return {
            "TRYGG_DATABASE_URL": self.db_url,
            "TRYGG_BASE_URL": self.base_url,
            "TRYGG_MAIL_DIR": str(self.mail_dir),
            "TRYGG_SECRET_KEY": SECRET,
            "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
        }

    def start(self) -> LiveServer:
        at = self.started_at.isoformat()
        command = [sys.executable, "-m", "tests.trygg_at", at, "web", "--demo", "--port", str(self.port)]
        with open(self.log, "ab") as log:  # a restart appends
            self.process = subprocess.Popen(
                command,
                env={**os.environ, **self.env()},
                cwd=ROOT,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # gunicorn's arbiter and its workers: one group to stop
            )
        self._wait_healthy()
        return self

    def _wait_healthy(self, within: float = 60) -> None:
        try:
            wait_for(f"{self.base_url}/healthz", self.process, within)
        except AssertionError as exc:
            raise AssertionError(f"{exc}:\n{self.server_log()}") from None

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGTERM)
        try:
            self.process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)

    def move_to(self, at: str | datetime) -> LiveServer:
        """The same server (database, port, so the mailed links still point at it) started again
        living from `at`: a scenario that spans weeks."""
        self.stop()
        self.started_at = datetime.fromisoformat(at) if isinstance(at, str) else at
        return self.start()

    def cli(self, *args: str) -> str:
        """`trygg …` in this process against the server's database, with its settings; its output."""
        result = trygg(*args, env=self.env())
        assert result.returncode == 0, f"trygg {' '.join(args)}: {result.stderr}"
        return result.stdout

    def sweep(self, at: str | datetime) -> list[EmailMessage]:
        """`trygg sweep --now <at>`, then the mails it wrote (parsed as a mail reader would)."""
        instant = at if isinstance(at, str) else at.isoformat(timespec="seconds")
        self.cli("sweep", "--now", instant)
        return self.new_mails()

    def mails_sent_at_once(self, kind: str, to: str | None = None, within: float = 30) -> list[EmailMessage]:
        """The mails the server sent by itself after an answer, once one of `kind` (to `to`) is
        among them: a sign-in link, an extension request or decision goes at once, not at the
        next sweep (the web kicks a sweep and delivery of its own)."""
        got: list[EmailMessage] = []
        deadline = time.monotonic() + within
        while not of_kind(got, kind, to):
            assert time.monotonic() < deadline, (
                f"no {kind} mail to {to or 'anyone'} within {within} s of the answer: {summary(got)}\n"
                f"{self.server_log()[-3000:]}"
            )
            time.sleep(0.2)
            got += self.new_mails()
        return got

    def new_mails(self) -> list[EmailMessage]:
        """The `.eml` files written since the last look, oldest name first."""
        if not self.mail_dir.exists():
            return []
        names = sorted(p.name for p in self.mail_dir.glob("*.eml") if p.name not in self.seen)
        self.seen.update(names)
        return [read_mail(self.mail_dir / name) for name in names]

    def server_log(self) -> str:
        return self.log.read_text(encoding="utf-8", errors="replace")


@pytest.fixture
def live_server(tmp_path, sqlite_templates) -> Iterator:
    """`live_server(at)`: a started `trygg web` living from the instant `at` (ISO or aware datetime)
    on its own copy of a database where `trygg load` loaded the Härnösand agreement."""
    need_browser()
    started: list[LiveServer] = []

    def build(url: str) -> None:  # the same template as tests/conftest.py's cli_loaded
        for args in (("db", "upgrade"), ("load", str(HARNOSAND))):
            result = trygg(*args, env={"TRYGG_DATABASE_URL": url})
            assert result.returncode == 0, result.stderr

    def start(at: str | datetime) -> LiveServer:
        folder = tmp_path / f"server-{len(started)}"
        folder.mkdir()
        instant = datetime.fromisoformat(at) if isinstance(at, str) else at
        server = LiveServer(folder, instant)
        sqlite_templates.copy("cli-loaded", build, server.db_url)
        started.append(server)
        return server.start()

    yield start
    for server in started:
        server.stop()


# --- pages ---------------------------------------------------------------------------------


def axe_clean(page) -> None:
    """No WCAG 2.1 A/AA violation that axe-core (bundled with axe-playwright-python) finds."""
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
    assert results.violations_count == 0, f"axe on {page.url}:\n{results.generate_report()}"


def shoot(page, name: str) -> None:
    """`var/screenshots/<name>-1280.png` and `-390.png` (whole page); at 390 px nothing may
    scroll sideways. The page is left at 1280 px."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(SCREENSHOTS / f"{name}-{width}.png"), full_page=True)
        if width <= 390:
            wide = page.evaluate("document.documentElement.scrollWidth")
            assert wide <= width, f"{name} ({page.url}) scrolls sideways at {width} px: {wide} px wide"
    page.set_viewport_size({"width": WIDTHS[0], "height": 900})


def looked_at(page, name: str) -> None:
    """Every page a flow visits: axe finds nothing at either width, and both screenshots are taken."""
    page.wait_for_load_state("load")
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        axe_clean(page)
    shoot(page, name)
