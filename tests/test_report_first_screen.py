"""The yearly report tells the truth on its first screen (issue 16): the verdict, the story, the plan
it follows, what has started, escalations, attendance, one "held", provisional figures, charts.

Everything here comes from the real builders: the Härnösand agreement loaded, people acting through
`workflow.work` and the meetings' actions, the engine's own sweep and delivery for the escalations.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta
from html import unescape
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND
from workflow import work
from workflow.agreement.models import Person
from workflow.agreement.validate import read_agreement
from workflow.audit import LoadResult, UnitOfWork
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.links.tokens import LinkSigner, throwaway_secret
from workflow.links.urls import LinkSettings
from workflow.loading import load_agreement
from workflow.meetings import actions
from workflow.meetings.agenda import agenda
from workflow.meetings.models import Meeting, MeetingKind, MeetingStatus
from workflow.outbox.delivery import claim_lease, deliver
from workflow.outbox.transport import FileTransport
from workflow.plan.models import Activity
from workflow.plan.standing import progress_by_area
from workflow.report import charts
from workflow.report.attachment import evaluation_report
from workflow.report.render import render_report
from workflow.report.yearly import yearly_report
from workflow.status import resolve_agreement

TZ = ZoneInfo("Europe/Stockholm")


def _at(day: date, hour: int = 12) -> datetime:
    return datetime.combine(day, time(hour), tzinfo=TZ).astimezone(UTC)


@pytest.fixture
def loaded(sessions):
    with transaction(sessions) as session:
        clock = FixedClock(_at(date(2012, 1, 2), 7))
        load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    return sessions


def act(sessions, day: date, fn) -> None:
    """One person's act on `day`, through the workflow functions the web and the CLI call."""
    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        unit = UnitOfWork(session, FixedClock(_at(day)), "cli:anna", LoadResult(agreement.key, created=False))
        unit.agreement_id = agreement.id
        fn(session, agreement, unit)


def activity(session, key: str) -> Activity:
    return session.scalar(select(Activity).where(Activity.key == key))


def report(sessions, year: int, today: date):
    with sessions() as session:
        return yearly_report(session, resolve_agreement(session, None), year, today)


def first_screen(html: str) -> list[str]:
    """The blocks of the report's body before its first section: what a reader sees without scrolling."""
    body = html[html.index("<main>") : html.index("<h2")]
    return [
        m.group(2) or m.group(1)
        for m in re.finditer(r'<(h1|p|ul)(?: class="[^"]*")?(?: id="([^"]*)")?>', body)
    ]


def paragraph(html: str, id_: str) -> str:
    found = re.search(rf'<(p|ul) class="[^"]*" id="{id_}">(.*?)</\1>', html, re.S)
    assert found, f"no #{id_} in the report"
    return re.sub(r"\s+", " ", unescape(re.sub(r"<[^>]+>", " ", found.group(2)))).strip()


def test_the_first_line_is_the_verdict_in_measures_with_plural_agreement(loaded):
    act(
        loaded,
        date(2012, 3, 1),
        lambda s, a, u: work.mark_done(u, activity(s, "ung-kontaktuppgifter"), note="Klart"),
    )
    act(
        loaded,
        date(2012, 12, 10),
        lambda s, a, u: work.mark_done(u, activity(s, "cen-trygghetsvandring"), note="Klart"),
    )
    data = report(loaded, 2012, date(2013, 1, 15))
    totals = data["totals"]
    assert data["activities"] == 19 and sum(totals.values()) == 19
    assert (totals["done_on_time"], totals["done_late"], totals["late"]) == (1, 1, 10)
    assert (totals["not_started"], totals["in_progress"], totals["ongoing"]) == (1, 0, 6)
    sv, en = render_report(data, "sv"), render_report(data, "en")
    assert paragraph(sv, "verdict") == (
        "1 av 19 åtgärder klar i tid, 1 klar för sent, 10 försenade, 1 inte påbörjad, 6 löpande."
    )
    assert paragraph(en, "verdict") == (
        "1 of 19 measures done on time, 1 done too late, 10 late, 1 not started, 6 ongoing."
    )
    # The verdict comes before anything else of the report's body, and three lines tell the year.
    assert first_screen(sv) == ["h1", "p", "verdict", "story"]
    story = re.findall(r"<li>(.*?)</li>", re.search(r'id="story">(.*?)</ul>', sv, re.S).group(1), re.S)
    assert len(story) == 3
    assert story[0].startswith("Sista dagar: 12 sista dagar har passerat i år; i tid: 1 (8 %).")
    assert story[2].startswith("Möten: rådet höll 0 av 5 planerade möten")


def test_a_year_without_its_own_plan_says_so_and_leaves_the_year_befores_activities_out(loaded):
    data = report(loaded, 2013, date(2013, 12, 31))
    assert data["plan"] == {"own": False, "year": 2012, "title": data["plan"]["title"]}
    # 2013's own: the six ongoing duties and the one due at the end of the project period.
    assert data["activities"] == 7
    assert data["totals"]["ongoing"] == 6 and data["totals"]["late"] == 1
    assert all(s.deadline is None or s.deadline.year >= 2013 for a in data["areas"] for s in a["activities"])
    assert len(data["carried"]) == 12 and all(s.deadline.year == 2012 for s in data["carried"])
    assert data["verdict"].due == 1  # only 2013's one deadline, not 2012's twelve
    sv, en = render_report(data, "sv"), render_report(data, "en")
    note = paragraph(sv, "plan-note")
    assert note.startswith("Ingen handlingsplan för 2013 har lästs in. Rapporten följer handlingsplanen 2012")
    assert "12 åtgärder med sista dag tidigare" in note
    assert paragraph(en, "plan-note").startswith("No action plan for 2013 has been loaded.")
    assert 'id="carried"' in sv
    own = report(loaded, 2012, date(2012, 12, 31))
    assert own["plan"]["own"] and own["carried"] == [] and 'id="plan-note"' not in render_report(own, "sv")


def test_in_progress_only_with_a_progress_report_otherwise_not_started(loaded):
    # Both are due at the end of the project period (2013); one of them gets a progress report.
    with loaded() as session:
        a = resolve_agreement(session, None)
        later = [
            s.key
            for _, standings in progress_by_area(session, a, date(2012, 6, 1))
            for s in standings
            if s.deadline and s.deadline > date(2012, 6, 1)
        ]
    assert len(later) >= 2
    reported, silent = later[0], later[1]
    act(
        loaded,
        date(2012, 5, 2),
        lambda s, a, u: work.report_progress(u, activity(s, reported), note="Planering klar"),
    )
    data = report(loaded, 2012, date(2012, 6, 1))
    by_key = {s.key: s for area in data["areas"] for s in area["activities"]}
    assert by_key[reported].standing == "in_progress"
    assert by_key[silent].standing == "not_started"
    # As of a day before the report, it had not started either.
    assert {s.key: s for a in report(loaded, 2012, date(2012, 5, 1))["areas"] for s in a["activities"]}[
        reported
    ].standing == "not_started"
    sv = render_report(data, "sv")
    row = re.search(rf"<tr>\s*<td>{re.escape(by_key[silent].title)}</td>.*?</tr>", sv, re.S).group(0)
    assert "inte påbörjad" in row and "pågår" not in row
    row = re.search(rf"<tr>\s*<td>{re.escape(by_key[reported].title)}</td>.*?</tr>", sv, re.S).group(0)
    assert "pågår, i tid" in row


def test_attendance_counts_members_against_members_and_guests_apart(loaded):
    def minutes(session, agreement, unit):
        people = {p.key: p for p in session.scalars(select(Person))}
        council = actions.find_meeting(session, agreement, "council-2012-1")
        actions.coopt(session, unit, council, people["eva-strom"])
        actions.record_minutes(
            session,
            unit,
            council,
            "Lägesbilden",
            [people["fred-nilsson"], people["eva-strom"]],
            unit.clock.now(),
        )

    act(loaded, date(2012, 2, 20), minutes)
    data = report(loaded, 2012, date(2012, 12, 31))
    meeting = next(m for m in data["council"]["meetings"] if m["id"] == "council-2012-1")
    assert meeting["attended"] == 1 and meeting["guests_attended"] == 1
    assert meeting["attended"] <= meeting["invited"]
    sv, en = render_report(data, "sv"), render_report(data, "en")
    assert f"1/{meeting['invited']} + 1 gäst" in sv and f"1/{meeting['invited']} + 1 guest" in en
    assert "Eva Ström" not in [a["name"] for a in data["council"]["attendance"]]


def test_the_mail_and_the_report_count_held_meetings_the_same_way(loaded):
    def hold(session, agreement, unit):
        people = {p.key: p for p in session.scalars(select(Person))}
        for key in ("council-2012-1", "council-2012-3"):
            meeting = actions.find_meeting(session, agreement, key)
            actions.record_minutes(
                session, unit, meeting, "Anteckningar", [people["fred-nilsson"]], unit.clock.now()
            )
        review = session.scalar(
            select(Meeting).where(Meeting.kind == MeetingKind.YEARLY_REVIEW, Meeting.year == 2012)
        )
        review.status = MeetingStatus.HELD  # held; its minutes not yet in

    act(loaded, date(2012, 11, 30), hold)
    data = report(loaded, 2012, date(2012, 12, 3))
    with loaded() as session:
        agreement = resolve_agreement(session, None)
        evaluation = session.scalar(
            select(Meeting).where(Meeting.kind == MeetingKind.EVALUATION, Meeting.year == 2012)
        )
        lines = agenda(session, agreement, evaluation)
    said = next(line for line in lines if "möten hållna" in line)
    assert f"{data['council']['held']} av {data['council']['planned']} planerade möten hållna" in said
    assert data["council"]["held"] == 3  # two council meetings and the review, in both


def test_figures_before_the_years_last_deadlines_are_marked_provisional(loaded):
    early = report(loaded, 2012, date(2012, 12, 5))
    assert early["provisional"] is not None and early["provisional"].pending >= 1
    last = max(
        s.deadline for a in early["areas"] for s in a["activities"] if s.deadline and s.deadline.year == 2012
    )
    assert early["provisional"].last == last and last > date(2012, 12, 5)
    sv, en = render_report(early, "sv"), render_report(early, "en")
    assert paragraph(sv, "verdict").startswith("Preliminärt:")
    assert paragraph(sv, "provisional").startswith(
        f"Ännu återstår {early['provisional'].pending} av årets sista dagar"
    )
    assert paragraph(en, "verdict").startswith("Provisional:")
    assert paragraph(en, "provisional").startswith(
        f"Still ahead: {early['provisional'].pending} of the year's"
    )
    assert report(loaded, 2012, date(2013, 1, 15))["provisional"] is None
    with loaded() as session:
        mail_part = evaluation_report(
            session, resolve_agreement(session, None), 2012, date(2012, 12, 5), "sv"
        )
    assert mail_part["provisional"] == {"pending": early["provisional"].pending, "last": last.isoformat()}
    assert mail_part["activities"] == 19


@pytest.mark.slow  # a month of sweeps and deliveries
def test_escalation_episodes_are_listed_per_activity(loaded, tmp_path):
    """The engine's own sweep and delivery, day by day past a deadline nobody met."""
    day = date(2012, 12, 27)
    transport = FileTransport(tmp_path / "mail")
    links = LinkSettings("http://localhost:8000", LinkSigner(throwaway_secret()))
    while day <= date(2013, 1, 25):
        clock = FixedClock(_at(day, 8))
        sweep(loaded, clock.now())
        deliver(
            loaded,
            clock,
            transport,
            sender="trygg <t@example.org>",
            lease=claim_lease(30.0),
            links=links,
            limit=10**5,
        )
        day += timedelta(days=1)
    data = report(loaded, 2012, date(2012, 12, 31))
    later = report(loaded, 2013, date(2013, 1, 25))
    episodes = later["escalations"]
    assert episodes, "overdue notices went out in January 2013"
    for e in episodes:
        assert e["reached"] == [s["to"] for s in e["steps"]]
        assert e["reached"][0] == "owner"
        assert [s["on"] for s in e["steps"]] == sorted(s["on"] for s in e["steps"])
    assert any("coordinator" in e["reached"] for e in episodes)
    assert later["escalated"]["activities"] == len({e["id"] for e in episodes})
    sv = render_report(later, "sv")
    assert 'id="escalations"' in sv and "ansvariga" in sv and "samordnaren" in sv
    assert data["escalations"] == [] or all(e["steps"][0]["on"].year == 2012 for e in data["escalations"])


def test_charts_have_a_zero_line_gridlines_and_readable_type(loaded):
    data = report(loaded, 2012, date(2013, 1, 15))
    html = render_report(data, "sv")
    svgs = re.findall(r'<svg class="chart".*?</svg>', html, re.S)
    assert len(svgs) == 2
    for svg in svgs:
        grid = re.findall(r'<line class="grid"[^>]*stroke="(#[0-9a-f]+)"', svg)
        assert len(grid) >= 3 and grid[0] == charts.AXIS and set(grid[1:]) == {charts.GRID}
        assert ">0</text>" in svg
        sizes = [int(s) for s in re.findall(r'font-size="(\d+)"', svg)]
        assert min(sizes) >= 12
    assert (
        charts.ticks(0) == [0, 1]
        and charts.ticks(7) == [0, 2, 4, 6, 8]
        and charts.ticks(19) == [0, 5, 10, 15, 20]
    )
