"""The overview and the yearly report in Debian's Chromium: axe finds nothing, screenshots at 1280 and 390 px."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from werkzeug.serving import make_server

from tests.conftest import IN_CI, ROOT
from tests.overview_world import ADMIN, build, management
from web import overview as web_overview
from workflow.db import session_factory

pytestmark = pytest.mark.slow
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync"]  # fmt: skip
SHOTS = ROOT / "var" / "screenshots"


@pytest.fixture
def served(db_url, engine, tmp_path):
    world = build(session_factory(engine), db_url, tmp_path / "deployment")
    server = make_server("127.0.0.1", 0, world.app(), threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield world, f"http://127.0.0.1:{server.server_port}"
    server.shutdown()


def _browser(playwright):
    if not Path(CHROMIUM).exists() and not shutil.which("chromium"):
        if IN_CI:
            pytest.fail("CI=true needs Debian's chromium")
        pytest.skip("no Debian chromium on this machine")
    return playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS)


def _signed_in(browser, world, base: str, email: str, width: int):
    client = world.client(email)  # the session cookie the app itself signs
    cookie = client.get_cookie("trygg_session")
    context = browser.new_context(viewport={"width": width, "height": 900})
    context.add_cookies([{"name": "trygg_session", "value": cookie.value, "url": base}])
    return context.new_page()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_overview_and_the_report_pass_axe_at_desktop_and_phone_width(served, monkeypatch):
    from axe_playwright_python.sync_playwright import Axe
    from playwright.sync_api import sync_playwright

    world, base = served
    SHOTS.mkdir(parents=True, exist_ok=True)
    monkeypatch.setattr(web_overview, "PER_PAGE", 1)  # the search and the pages, as 300 agreements have them
    pages = {
        "overview-admin": (ADMIN, "/overview?page=2"),
        "overview-admin-search": (ADMIN, "/overview?q=inget+s%C3%A5dant"),
        "overview-management": (management(1), "/overview"),
        "overview-report": (management(1), f"/agreements/{world.keys[0]}/report/2012"),
    }
    with sync_playwright() as p:
        browser = _browser(p)
        for name, (email, path) in pages.items():
            for width in (1280, 390):
                page = _signed_in(browser, world, base, email, width)
                answer = page.goto(base + path)
                assert answer.status == 200, path
                page.screenshot(path=str(SHOTS / f"{name}-{width}.png"), full_page=True)
                result = Axe().run(
                    page, options={"runOnly": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"]}
                )
                assert result.violations_count == 0, result.generate_report()
                page.context.close()
        browser.close()


@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_overview_of_two_agreements_shows_each_ones_on_time_rate(served):
    from playwright.sync_api import sync_playwright

    from tests.overview_world import NOW
    from workflow.desk.overview import leadership_overview

    world, base = served
    with world.sessions() as session:
        rates = {r.title: r.verdict(2012).percent for r in leadership_overview(session, None, NOW)}
    with sync_playwright() as p:
        browser = _browser(p)
        page = _signed_in(browser, world, base, ADMIN, 1280)
        page.goto(base + "/overview")
        for title, percent in rates.items():
            row = page.locator("table.overview tbody tr", has_text=title)
            assert row.locator("td").first.inner_text().strip() == f"{percent} %"
        browser.close()
