"""The desk's pages in Debian's Chromium: each renders under the CSP, axe finds nothing, screenshots at 1280 and 390 px."""

from __future__ import annotations

import shutil
import threading
from datetime import UTC, datetime
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.desk_world import HOME, DeskWorld, make
from tests.web_world import free_port
from workflow.clock import FixedClock
from workflow.engine.sweep import sweep

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
SHOTS = ROOT / "var" / "screenshots"
# A Monday of December 2012: activities due 2012-11-30 overdue, the ladder at the coordinator's step
# and management's ahead, mails made and more to come.
NOW = datetime(2012, 12, 10, 6, 30, tzinfo=UTC)
PAGES = {
    "home": "",
    "cycle": "/cycle",
    "activities": "/activities",
    "activities-overdue": "/activities?status=overdue",
    "requests": "/requests",
    "outgoing": "/outgoing",
    "outbox": "/outbox",
    "audit": "/audit",
}
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def _chromium() -> str:
    path = shutil.which("chromium")
    if path is None:
        pytest.skip("no Debian chromium on this machine")
    return path


@pytest.fixture
def served(tmp_path, sqlite_templates):
    desk: DeskWorld = make(tmp_path, sqlite_templates)
    sweep(desk.world.sessions, NOW, ran_at=NOW)
    app = desk.world.app(clock=FixedClock(NOW))
    app.config["TESTING"] = False
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cookie = app.session_interface.get_signing_serializer(app).dumps({"email": desk.coordinator.email})
    try:
        yield f"http://127.0.0.1:{port}", cookie
    finally:
        server.shutdown()
        thread.join(5)


def test_every_desk_page_passes_axe_in_chromium_at_both_widths(served):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    base, cookie = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    axe = Axe()
    problems = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=_chromium(), args=CHROMIUM_ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(viewport={"width": width, "height": 900}, locale="sv-SE")
                context.add_cookies([{"name": "trygg_session", "value": cookie, "url": base}])
                page = context.new_page()
                blocked: list[str] = []
                page.on("console", _collect_csp(blocked))
                for name, path in _pages(page, base).items():
                    answer = page.goto(base + HOME + path)
                    assert answer is not None and answer.status == 200, (name, answer and answer.status)
                    page.screenshot(path=str(SHOTS / f"desk-{name}-{width}.png"), full_page=True)
                    found = axe.run(page)
                    if found.violations_count:
                        problems.append(f"{name} at {width}px:\n{found.generate_report()}")
                assert not blocked, blocked
                context.close()
        finally:
            browser.close()
    assert not problems, "\n\n".join(problems)


def _collect_csp(into: list[str]):
    """A console listener that keeps what the Content-Security-Policy blocked."""

    def listen(message) -> None:
        if "Content Security Policy" in message.text:
            into.append(message.text)

    return listen


def _pages(page, base: str) -> dict[str, str]:
    """The desk's pages, and the first mail that goes out (its address read off the list)."""
    page.goto(base + HOME + "/outgoing")
    first = page.locator("main a[href*='/outgoing/']").first.get_attribute("href")
    return {**PAGES, "outgoing-mail": first.removeprefix(HOME)}
