"""The leadership's overview and the yearly report on the web: who sees what, and the same figures as the report."""

from __future__ import annotations

import shutil
import subprocess
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import IN_CI, ROOT
from tests.overview_world import ADMIN, NOW, Deployment, build, management, officer
from web import overview as web_overview
from workflow.agreement.models import Agreement
from workflow.db import session_factory
from workflow.desk.overview import leadership_overview
from workflow.report.yearly import yearly_report

SHOTS = ROOT / "var" / "screenshots"


@pytest.fixture
def world(db_url, engine, tmp_path) -> Deployment:
    return build(session_factory(engine), db_url, tmp_path / "deployment")


def test_the_overview_and_the_yearly_report_give_the_same_on_time_rate(world):
    with world.sessions() as session:
        rows = {r.key: r for r in leadership_overview(session, None, NOW)}
        for agreement in session.scalars(select(Agreement)):
            today = NOW.astimezone(ZoneInfo(agreement.timezone)).date()
            report = yearly_report(session, agreement, 2012, today)
            assert rows[agreement.key].verdict(2012) == report["verdict"]
            assert report["verdict"].due > 0
    first, second = (rows[k].verdict(2012) for k in world.keys)
    assert first.percent != second.percent  # every 2nd left late in one, every 3rd in the other


def test_overdue_items_are_counted_by_the_ladder_stage_they_reached(world):
    with world.sessions() as session:
        rows = leadership_overview(session, None, NOW)
    for row in rows:
        assert sum(row.overdue.values()) == row.verdict(2012).late
        assert row.overdue["management"] > 0  # items weeks late have reached the last step


def test_management_sees_the_overview_of_its_own_agreement_only(world):
    page = world.client(management(1)).get("/overview")
    assert page.status_code == 200
    assert "Syntetisk överenskommelse 001" in page.text and "Syntetisk överenskommelse 002" not in page.text
    assert "Andel i tid" in page.text or "I tid" in page.text


def test_an_administrator_sees_every_agreement(world):
    page = world.client(ADMIN).get("/overview")
    assert page.status_code == 200
    assert "Syntetisk överenskommelse 001" in page.text and "Syntetisk överenskommelse 002" in page.text


def test_many_agreements_are_shown_a_page_at_a_time_and_found_by_name(world, monkeypatch):
    monkeypatch.setattr(web_overview, "PER_PAGE", 1)  # two agreements: two pages
    admin = world.client(ADMIN)
    first, second = admin.get("/overview"), admin.get("/overview?page=2")
    assert "Överenskommelse 1–1 av 2" in first.text and "Sida 1 av 2" in first.text
    assert "Syntetisk överenskommelse 001" in first.text and "Syntetisk överenskommelse 002" not in first.text
    assert (
        "Syntetisk överenskommelse 002" in second.text and "Syntetisk överenskommelse 001" not in second.text
    )
    assert 'href="/overview?page=2"' in first.text and 'href="/overview?page=1"' in second.text
    assert "Syntetisk överenskommelse 002" in admin.get("/overview?page=99").text  # past the end: the last
    found = admin.get("/overview?q=%C3%96VERENSKOMMELSE+002")  # any case
    assert "Syntetisk överenskommelse 002" in found.text and "Syntetisk överenskommelse 001" not in found.text
    assert "Visa alla" in found.text
    none = admin.get("/overview?q=50%25")  # a % is a character searched for, not a wildcard
    assert "Ingen överenskommelse matchar ”50%”." in none.text
    # Management of one agreement searches within its own: the other's name finds nothing.
    mine = world.client(management(1)).get("/overview?q=002")
    assert "Syntetisk överenskommelse 002" not in mine.text


def test_nobody_and_an_officer_are_refused_the_overview(world):
    assert world.client(None).get("/overview").status_code == 403
    assert world.client(officer(1)).get("/overview").status_code == 403


def test_the_report_page_is_for_the_agreements_leadership(world):
    mine, theirs = world.keys
    client = world.client(management(1))
    page = client.get(f"/agreements/{mine}/report/2012")
    assert page.status_code == 200 and "åtgärder klar" in page.text and "<style" not in page.text
    assert client.get(f"/agreements/{theirs}/report/2012").status_code == 404
    assert client.get(f"/agreements/{theirs}/report/2012.pdf").status_code == 404
    assert world.client(officer(1)).get(f"/agreements/{mine}/report/2012").status_code == 403
    assert world.client(None).get(f"/agreements/{mine}/report/2012.pdf").status_code == 403
    assert client.get(f"/agreements/{mine}/report/1999").status_code == 404


def test_the_report_as_pdf_is_a_pdf_named_for_the_agreement_and_year(world):
    mine = world.keys[0]
    answer = world.client(management(1)).get(f"/agreements/{mine}/report/2012.pdf")
    assert answer.status_code == 200 and answer.mimetype == "application/pdf"
    assert (
        answer.data.startswith(b"%PDF")
        and f"arsrapport-{mine}-2012.pdf" in answer.headers["Content-Disposition"]
    )


@pytest.mark.slow
@pytest.mark.parametrize("db_url", ["sqlite"], indirect=True)
def test_the_pdfs_first_page_renders_with_the_years_verdict_on_it(world, tmp_path):
    """pdftoppm draws page 1 (kept in var/screenshots to be looked at); pdftotext reads the verdict off it."""
    mine = world.keys[0]
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(world.client(management(1)).get(f"/agreements/{mine}/report/2012.pdf").data)
    if shutil.which("pdftoppm") is None:
        if IN_CI:
            pytest.fail("CI=true needs poppler-utils: .ci/run installs it")
        pytest.skip("no pdftoppm (poppler-utils)")
    SHOTS.mkdir(parents=True, exist_ok=True)
    png = SHOTS / "overview-report-pdf-page1"
    subprocess.run(
        ["pdftoppm", "-f", "1", "-l", "1", "-r", "80", "-png", "-singlefile", str(pdf), str(png)], check=True
    )
    assert png.with_suffix(".png").stat().st_size > 10_000  # a drawn page, not a blank one
    text = subprocess.run(
        ["pdftotext", "-f", "1", "-l", "1", str(pdf), "-"], capture_output=True, text=True, check=True
    ).stdout
    with world.sessions() as session:
        agreement = session.scalar(select(Agreement).where(Agreement.key == mine))
        report = yearly_report(session, agreement, 2012, NOW.date())
    verdict, flat = report["verdict"], " ".join(text.split())
    assert f"{report['totals']['done_on_time']} av {report['activities']} åtgärd" in flat  # the first line
    assert f"{verdict.due} sista dag" in flat and f"i tid: {verdict.on_time} ({verdict.percent} %)" in flat
    fonts = subprocess.run(["pdffonts", str(pdf)], capture_output=True, text=True, check=True).stdout
    assert all(line.split()[-5] == "yes" for line in fonts.splitlines()[2:])  # every font embedded


def test_the_overview_counts_each_overdue_item_at_the_stage_the_desk_shows_for_it(world):
    from collections import Counter

    from workflow.desk.standing import STAGES, activity_standing

    with world.sessions() as session:
        rows = {r.key: r for r in leadership_overview(session, None, NOW)}
        for agreement in session.scalars(select(Agreement)):
            standings = activity_standing(session, agreement, NOW)
            shown = Counter(s.overdue_stage for s in standings if s.status == "overdue")
            assert all(s.overdue_stage is None for s in standings if s.status != "overdue")
            assert rows[agreement.key].overdue == {stage: shown[stage] for stage in STAGES}
            assert set(shown) - {"none"}, shown  # the sweep's notices put items up the ladder
