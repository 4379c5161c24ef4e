"""The desk's pages of part 2 in Debian's Chromium: they open for the coordinator, axe finds nothing, screenshots at 1280 and 390 px."""

from __future__ import annotations

import os
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import HARNOSAND, ROOT, _require, load_file
from tests.web_world import KEY, free_port
from web.app import create_app
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory
from workflow.settings import Settings

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
SCREENSHOTS = ROOT / "var" / "screenshots"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
BASE = "/agreements/harnosand-2012-2013"
PAGES = {
    "schedules": f"{BASE}/schedules",
    "meetings": f"{BASE}/meetings?year=2012",
    "meeting": f"{BASE}/meetings/council-2012-2",
    "plan": f"{BASE}/plan",
    "plan-version": f"{BASE}/plan/2012/1",
    "people": f"{BASE}/people",
}


@pytest.fixture(scope="module")
def served(tmp_path_factory, sqlite_templates):
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError as exc:
        _require("Playwright", str(exc))
    if not os.access(CHROMIUM, os.X_OK):
        _require("Chromium", f"no {CHROMIUM}")
    folder = tmp_path_factory.mktemp("desk-browser")
    url = f"sqlite:///{folder / 'desk.db'}"
    sqlite_templates.copy("harnosand", lambda u: load_file(session_factory(make_engine(u)), HARNOSAND), url)
    from datetime import UTC, datetime

    app = create_app(
        Settings(database_url=url, secret_key=KEY, upload_dir=folder / "uploads", mail_dir=folder / "mail"),
        clock=FixedClock(datetime(2012, 3, 1, 9, tzinfo=UTC)),
    )
    port = free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    cookie = app.session_interface.get_signing_serializer(app).dumps({"email": "anna.sjoberg@example.org"})
    yield f"http://127.0.0.1:{port}", cookie
    server.shutdown()


@pytest.mark.parametrize("name", sorted(PAGES))
def test_the_page_opens_for_the_coordinator_and_axe_finds_nothing(served, name):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    base, cookie = served
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            for width in (1280, 390):
                context = browser.new_context(locale="sv-SE", viewport={"width": width, "height": 900})
                context.add_cookies([{"name": "trygg_session", "value": cookie, "url": base}])
                page = context.new_page()
                answer = page.goto(base + PAGES[name])
                assert answer is not None and answer.status == 200, name
                results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
                assert results.violations_count == 0, results.generate_report()
                page.screenshot(path=str(SCREENSHOTS / f"desk-{name}-{width}.png"), full_page=True)
                context.close()
        finally:
            browser.close()


def test_the_plan_diff_and_the_schedules_preview_pass_axe_in_the_browser(served, tmp_path):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    from tests.test_desk_part2 import _seed_revised

    base, cookie = served
    revised = _seed_revised(tmp_path)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=ARGS)
        try:
            context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 900})
            context.add_cookies([{"name": "trygg_session", "value": cookie, "url": base}])
            page = context.new_page()
            page.goto(base + PAGES["plan"])
            page.set_input_files("#plan-file", str(revised))
            page.get_by_role("button", name="Visa vad den ändrar").click()
            page.wait_for_selector("#diff-title")
            assert "Under hösten 2012" in page.content()
            for width in (1280, 390):
                page.set_viewport_size({"width": width, "height": 900})
                results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
                assert results.violations_count == 0, results.generate_report()
                page.screenshot(path=str(SCREENSHOTS / f"desk-plan-diff-{width}.png"), full_page=True)
            page.goto(base + PAGES["schedules"])
            page.fill("#reminders-send_at", "07:30")
            page.get_by_role("button", name="Visa vad som går ut").click()
            page.wait_for_selector("#preview-title")
            page.set_viewport_size({"width": 1280, "height": 900})
            results = Axe().run(page, options={"runOnly": {"type": "tag", "values": AXE_TAGS}})
            assert results.violations_count == 0, results.generate_report()
            page.screenshot(path=str(SCREENSHOTS / "desk-schedules-preview-1280.png"), full_page=True)
            context.close()
        finally:
            browser.close()
