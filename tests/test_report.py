"""The yearly follow-up report: its content, and that it renders with its charts in a real browser."""

from __future__ import annotations

import base64
import shutil
import subprocess
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, IN_CI, trygg
from workflow.agreement.models import Person
from workflow.agreement.validate import read_agreement
from workflow.audit import LoadResult, UnitOfWork
from workflow.db import transaction
from workflow.loading import load_agreement
from workflow.meetings import actions
from workflow.plan.models import Activity, ActivityState, ActivityStatusChange
from workflow.report.attachment import evaluation_report
from workflow.report.render import render_report
from workflow.report.yearly import yearly_report
from workflow.status import resolve_agreement


@pytest.fixture
def year_2012(sessions, clock):
    """The Härnösand agreement with some of 2012 done: two activities, two meetings."""
    with transaction(sessions) as session:
        load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    with transaction(sessions) as session:
        agr = resolve_agreement(session, None)
        unit = UnitOfWork(session, clock, "cli:anna", LoadResult(agr.key, created=False))
        unit.agreement_id = agr.id

        def finish(key, day):
            act = session.scalar(select(Activity).where(Activity.key == key))
            act.history.append(
                ActivityStatusChange(
                    at=datetime(day.year, day.month, day.day, 12, tzinfo=UTC),
                    actor="cli:anna",
                    from_state=act.state,
                    to_state=ActivityState.DONE,
                    note="Genomfört",
                )
            )
            act.state = ActivityState.DONE

        finish("ung-kontaktuppgifter", date(2012, 3, 1))
        finish("cen-trygghetsvandring", date(2012, 12, 10))  # deadline 30 November: late
        people = {p.key: p for p in session.scalars(select(Person))}
        council = actions.find_meeting(session, agr, "council-2012-1")
        actions.coopt(session, unit, council, people["eva-strom"])
        actions.record_minutes(
            session,
            unit,
            council,
            "Lägesbilden",
            [people["fred-nilsson"], people["eva-strom"]],
            council.ends_at + timedelta(days=2),
        )
        check_in = actions.find_meeting(session, agr, "check_in-2012-1")
        actions.record_minutes(
            session,
            unit,
            check_in,
            "Avstämning",
            [people["johan-berg"]],
            check_in.ends_at + timedelta(days=20),
        )
    return sessions


def report_of(sessions, year=2012, today=date(2013, 1, 15)):
    with sessions() as session:
        return yearly_report(session, resolve_agreement(session, None), year, today)


def test_the_report_counts_per_area_and_activity(year_2012):
    data = report_of(year_2012)
    assert [a["title"] for a in data["areas"]][0] == "Förebyggande arbete ungdomar"
    assert sum(len(a["activities"]) for a in data["areas"]) == 19
    assert data["totals"]["done_on_time"] == 1 and data["totals"]["done_late"] == 1
    assert data["totals"]["late"] == 10  # every other 2012 deadline has passed undone
    assert data["totals"]["not_started"] == 1  # "Under projektiden": due at the end of 2013, no report yet
    assert data["totals"]["ongoing"] == 6  # continuous and recurring work has no deadline
    december = data["timeliness"][11]
    assert december["late"] >= 1


def test_the_report_shows_how_the_council_worked(year_2012):
    data = report_of(year_2012)
    council = data["council"]
    assert council["planned"] == 5 and council["held"] == 1  # four council meetings and the review
    assert council["guests"][0]["name"] == "Eva Ström"
    fred = next(a for a in council["attendance"] if a["name"] == "Fred Nilsson")
    assert fred == {"name": "Fred Nilsson", "attended": 1, "of": 1}
    assert council["minutes"]["on_time"] == 1 and council["minutes"]["missing"] >= 3
    check_ins = data["check_ins"]
    assert len(check_ins) == 2 and check_ins[0]["held"] and check_ins[0]["minutes"] == "late"
    monthly = next(f for f in data["follow_ups"] if f["id"] == "liv-arbetsgrupp")
    assert monthly["due"] == 12


def test_the_html_is_swedish_or_english_and_self_contained(year_2012):
    data = report_of(year_2012)
    sv, en = render_report(data, "sv"), render_report(data, "en")
    assert "Årsuppföljning 2012" in sv and "Hur rådet har fungerat" in sv and "klar för sent" in sv
    assert "Yearly follow-up 2012" in en and "How the council worked" in en
    for html in (sv, en):
        assert html.count('<svg class="chart"') == 2
        assert "http://" not in html.replace('xmlns="http://www.w3.org/2000/svg"', "")
        assert "https://" not in html


def _browser() -> str | None:
    return (
        shutil.which("chromium-headless-shell")
        or shutil.which("chromium")
        or shutil.which("chromium-browser")
    )


# The test's own probe, added to a copy of the page: the report itself carries no script (it
# travels as a mail attachment), so the test measures the laid-out charts from outside.
PROBE = """<script>
  window.addEventListener("load", function () {
    var drawn = Array.prototype.filter.call(document.querySelectorAll("svg.chart"), function (svg) {
      var box = svg.getBoundingClientRect(); return box.width > 0 && box.height > 0;
    });
    document.body.setAttribute("data-charts-drawn", String(drawn.length));
  });
</script>
"""


def test_the_evaluation_mail_carries_the_report_as_a_pdf_in_the_readers_language(year_2012):
    with year_2012() as session:
        agreement = resolve_agreement(session, None)
        for lang, name in (("sv", "arsrapport"), ("en", "annual-report")):
            attached = evaluation_report(session, agreement, 2012, date(2013, 1, 15), lang)["attachment"]
            assert attached["content_type"] == "application/pdf"
            assert attached["filename"] == f"{name}-{agreement.key}-2012.pdf"
            assert base64.b64decode(attached["content_base64"]).startswith(b"%PDF")


def test_the_reports_html_carries_no_script(year_2012):
    html = render_report(report_of(year_2012), "sv")
    assert "<script" not in html.lower() and "javascript:" not in html.lower()
    assert " onload=" not in html.lower() and html.count('<svg class="chart"') == 2


@pytest.mark.slow
def test_the_report_renders_with_its_charts_in_a_headless_browser(year_2012, tmp_path):
    browser = _browser()
    if browser is None:
        if IN_CI:
            pytest.fail("CI=true needs Debian's chromium (or chromium-headless-shell): .ci/run installs it")
        pytest.skip("no headless Chromium on this machine (apt-get install chromium-headless-shell)")
    html = render_report(report_of(year_2012), "sv")
    assert "<script" not in html  # laid out by the browser from the inline SVG alone
    page = tmp_path / "report.html"
    page.write_text(html.replace("</body>", PROBE + "</body>"), encoding="utf-8")
    flags = [
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        f"--user-data-dir={tmp_path / 'profile'}",
    ]
    dom = subprocess.run(
        [browser, *flags, "--virtual-time-budget=3000", "--dump-dom", page.as_uri()],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert 'data-charts-drawn="2"' in dom.stdout, dom.stderr[-2000:]
    shot = tmp_path / "report.png"
    subprocess.run(
        [browser, *flags, f"--screenshot={shot}", "--window-size=1200,1600", page.as_uri()],
        capture_output=True,
        timeout=120,
    )
    assert shot.exists() and shot.stat().st_size > 10_000


def test_cli_writes_the_report(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded}
    out = tmp_path / "rapport.html"
    result = trygg("report", "--year", "2012", "--out", str(out), env=env)
    assert result.returncode == 0, result.stderr
    assert "Årsuppföljning 2012" in out.read_text(encoding="utf-8")
