"""`trygg simulate`: the real engine over two years of the Härnösand agreement, deterministically."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from tests.conftest import HARNOSAND, trygg
from workflow.outbox.kinds import KINDS

# Simulated years take a while: out of `make check`.


@pytest.fixture(scope="module")
def two_years(tmp_path_factory):
    out = tmp_path_factory.mktemp("sim")
    result = trygg(
        "simulate",
        str(HARNOSAND),
        "--from",
        "2012-01-01",
        "--to",
        "2013-12-31",
        "--out",
        str(out),
        "--seed",
        "3",
        env={"COLUMNS": "200"},
    )
    assert result.returncode == 0, result.stderr[-3000:]
    timeline = [
        json.loads(line) for line in (out / "timeline.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    return out, timeline, result.stdout


@pytest.mark.slow
def test_every_line_of_the_timeline_has_its_fields_and_its_mail(two_years):
    out, timeline, _ = two_years
    assert timeline
    kinds = set(KINDS)
    for entry in timeline:
        assert set(entry) == {"at", "kind", "to", "subject", "refs", "step"}
        assert entry["kind"] in kinds
        assert entry["at"][19:] in ("+01:00", "+02:00")  # ISO 8601 with the Stockholm offset
        assert all(" <" in to and to.endswith(">") for to in entry["to"])
        assert entry["subject"] and entry["step"] in (1, 2, 3, 4, 5)
    assert len(list((out / "mail").glob("*.eml"))) == len(timeline)


@pytest.mark.slow
def test_reminders_and_escalations_reach_the_leaderships(two_years):
    _, timeline, _ = two_years
    kinds = Counter(e["kind"] for e in timeline)
    assert kinds["reminder"] + kinds["digest"] > 0
    escalated_to = {to for e in timeline if e["kind"] == "escalation" for to in e["to"]}
    assert "Thomas Nyberg <thomas.nyberg@example.org>" in escalated_to
    assert "Fred Nilsson <fred.nilsson@example.org>" in escalated_to


@pytest.mark.slow
def test_the_meetings_of_both_years_are_convened_and_minuted(two_years):
    _, timeline, _ = two_years
    kinds = Counter(e["kind"] for e in timeline)
    assert kinds["invitation"] and kinds["minutes_request"] and kinds["agenda_call"]
    for year in ("2012", "2013"):
        check_ins = {
            r
            for e in timeline
            if e["kind"] == "checkin_invitation" and e["at"].startswith(year)
            for r in e["refs"]
        }
        assert check_ins == {f"check_in-{year}-1", f"check_in-{year}-2"}  # two distinct meetings
        evaluations = [e for e in timeline if e["kind"] == "evaluation" and e["at"].startswith(year)]
        assert {to for e in evaluations for to in e["to"]} == {
            "Thomas Nyberg <thomas.nyberg@example.org>",
            "Fred Nilsson <fred.nilsson@example.org>",
        }


@pytest.mark.slow
def test_no_two_mails_share_kind_refs_recipients_and_day(two_years):
    _, timeline, _ = two_years
    keys = [(e["kind"], tuple(e["refs"]), tuple(e["to"]), e["at"][:10]) for e in timeline]
    assert len(keys) == len(set(keys))


@pytest.mark.slow
def test_a_report_for_each_year(two_years):
    out, _, stdout = two_years
    for year in (2012, 2013):
        report = out / f"rapport-harnosand-2012-2013-{year}.html"
        assert f"Årsuppföljning {year}" in report.read_text(encoding="utf-8")
        english = out / f"annual-report-harnosand-2012-2013-{year}.html"
        assert f"Yearly follow-up {year}" in english.read_text(encoding="utf-8")
    assert "Mejl per månad och slag" in stdout


@pytest.mark.slow
def test_the_simulated_reports_tell_the_truth_on_their_first_screen(two_years):
    """Issue 16 on the two simulated years: the verdict first, 2013 without its own plan says so,
    escalations listed, members' attendance never above the members invited."""
    import re

    out, _, _ = two_years
    key = "harnosand-2012-2013"
    for year in (2012, 2013):
        sv = (out / f"rapport-{key}-{year}.html").read_text(encoding="utf-8")
        en = (out / f"annual-report-{key}-{year}.html").read_text(encoding="utf-8")
        body = sv[sv.index("<main>") : sv.index("<h2")]
        assert re.search(r'id="verdict">\d+ av \d+ åtgärder? klara? i tid', body), body
        assert 'id="story"' in body and 'id="story"' in en
        for present, invited in re.findall(r'<td class="n">(\d+)/(\d+)', sv):
            assert int(present) <= int(invited)
        for row in re.findall(r"<tr>(?:(?!</tr>).)*badge in_progress(?:(?!</tr>).)*</tr>", sv, re.S):
            assert "Lägesrapport" in row, row  # "pågår" only beside the progress report that says so
    sv_2013 = (out / f"rapport-{key}-2013.html").read_text(encoding="utf-8")
    assert "Ingen handlingsplan för 2013 har lästs in" in sv_2013 and 'id="carried"' in sv_2013
    assert "Ingen handlingsplan" not in (out / f"rapport-{key}-2012.html").read_text(encoding="utf-8")
    assert 'id="escalations"' in (out / f"rapport-{key}-2012.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_same_seed_gives_the_same_timeline_byte_for_byte(tmp_path):
    def run(seed, name):
        out = tmp_path / name
        result = trygg(
            "simulate",
            str(HARNOSAND),
            "--from",
            "2012-06-01",
            "--to",
            "2012-12-31",
            "--out",
            str(out),
            "--seed",
            str(seed),
            "--quiet",
        )
        assert result.returncode == 0, result.stderr[-2000:]
        return (out / "timeline.jsonl").read_bytes()

    first, again, other = run(11, "a"), run(11, "b"), run(12, "c")
    assert first == again
    assert first != other


def test_bad_dates_and_rates_are_refused(tmp_path):
    bad = trygg(
        "simulate", str(HARNOSAND), "--from", "2012-13-01", "--to", "2012-12-31", "--out", str(tmp_path)
    )
    assert bad.returncode == 2 and "2012-13-01" in bad.stderr
    rates = trygg(
        "simulate",
        str(HARNOSAND),
        "--from",
        "2012-01-01",
        "--to",
        "2012-12-31",
        "--out",
        str(tmp_path),
        "--on-time-rate",
        "0.8",
        "--late-rate",
        "0.5",
    )
    assert rates.returncode == 2 and "late_rate" in rates.stderr
