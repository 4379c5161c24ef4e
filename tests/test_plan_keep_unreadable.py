"""`--keep-unreadable` (issue 19): a plan with a few odd När is not thrown away. Its readable rows
are imported; the odd ones become activities without timing (no reminders), listed as warnings
with their place, shown as needing a timing in `trygg status` and on the desk; without the flag
the import stays all-or-nothing."""

from __future__ import annotations

import io
import json

from sqlalchemy import select

from tests.conftest import SEED, trygg
from tests.test_desk_part2 import BASE, COORDINATOR, NOW, desk, signed_in  # noqa: F401 (the fixture)
from tests.web_world import csrf_of, dump
from workflow.agreement.models import Agreement
from workflow.desk.overview import leadership_overview
from workflow.outbox.models import Notice
from workflow.plan.models import Activity
from workflow.report.yearly import yearly_report

ODD = {
    "Under hösten 2012\tKommun och polis": "När snön smälter\tKommun och polis",
    "Uppföljning månadsvis": "Ibland kanske",
}


def odd_plan(tmp_path, replacements=ODD):
    path = tmp_path / "plan.txt"
    text = SEED.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text
        text = text.replace(old, new, 1)
    path.write_text(text, encoding="utf-8")
    return path


def line_of(path, phrase: str) -> int:
    return next(
        n for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if phrase in line
    )


def test_without_the_flag_the_import_is_refused_whole_and_writes_nothing(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded}
    plan = odd_plan(tmp_path)
    before = trygg("status", "--json", env=env).stdout
    result = trygg("plan", "import", str(plan), "--json", env=env)
    assert result.returncode == 2, result.stderr
    data = json.loads(result.stdout)
    assert {e["line"] for e in data["errors"]} == {
        line_of(plan, "När snön smälter"),
        line_of(plan, "Ibland kanske"),
    }
    assert data["warnings"] == []
    assert (
        json.loads(trygg("status", "--json", env=env).stdout)["agreements"]
        == json.loads(before)["agreements"]
    )


def test_with_the_flag_the_odd_rows_become_activities_without_timing_listed_as_warnings(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_LANGUAGE": "sv", "TRYGG_MAIL_DIR": str(tmp_path / "mail")}
    plan = odd_plan(tmp_path)
    result = trygg("plan", "import", str(plan), "--keep-unreadable", "--json", env=env)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["errors"] == [] and len(data["activities"]) == 19
    untimed = {a["id"]: a for a in data["activities"] if a["timing"] is None}
    assert len(untimed) == 2 and all(a["deadline"] is None for a in untimed.values())
    assert {a["when"] for a in untimed.values()} == {"När snön smälter", "Ibland kanske"}
    places = {(w["file"], w["line"], w["field"], w["id"]) for w in data["warnings"]}
    assert places == {
        (
            str(plan),
            line_of(plan, "När snön smälter"),
            "När",
            next(k for k, a in untimed.items() if a["when"] == "När snön smälter"),
        ),
        (
            str(plan),
            line_of(plan, "Ibland kanske"),
            "När",
            next(k for k, a in untimed.items() if a["when"] == "Ibland kanske"),
        ),
    }
    assert all(w["column"] and w["message"] for w in data["warnings"])

    human = trygg("plan", "import", str(plan), "--keep-unreadable", "--dry-run", env=env)
    assert human.returncode == 0, human.stderr
    assert human.stderr.count("behålls utan tidpunkt") == 2 and f"{plan}:" in human.stderr
    assert "saknar tidpunkt" in human.stdout

    status = json.loads(trygg("status", "--json", env=env).stdout)
    shown = {
        act["id"]: act
        for agr in status["agreements"]
        for area in agr["areas"]
        for act in area["activities"]
        if act["id"] in untimed
    }
    assert {a["status"] for a in shown.values()} == {"untimed"}
    assert all(a["next_action_at"] is None and a["stage"] is None for a in shown.values())
    text = trygg("status", env=env).stdout
    assert text.count("saknar tidpunkt") == 2, text


def test_the_engine_the_report_and_the_overview_pass_over_activities_without_timing(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_MAIL_DIR": str(tmp_path / "mail")}
    plan = odd_plan(tmp_path)
    data = json.loads(trygg("plan", "import", str(plan), "--keep-unreadable", "--json", env=env).stdout)
    untimed = {a["id"] for a in data["activities"] if a["timing"] is None}
    # The engine tolerates them: a sweep through the year sends nothing about them, never crashes.
    for now in ("2012-06-01T08:00:00+02:00", "2012-12-17T08:00:00+01:00"):
        swept = trygg("sweep", "--now", now, "--json", env=env)
        assert swept.returncode == 0, swept.stderr
        assert json.loads(swept.stdout)["sweep"]["errors"] == []
    from sqlalchemy import create_engine
    from sqlalchemy.orm import Session

    with Session(create_engine(cli_loaded)) as session:
        ids = session.scalars(select(Activity.id).where(Activity.key.in_(list(untimed)))).all()
        assert len(ids) == 2
        assert (
            session.scalars(
                select(Notice).where(Notice.subject_type == "activity", Notice.subject_id.in_(ids))
            ).all()
            == []
        )
        assert session.scalars(select(Notice)).first() is not None  # the other rows were reminded
        agreement = session.scalar(select(Agreement))
        assert leadership_overview(session, None, NOW.replace(year=2012, month=12, day=20))
        verdict = yearly_report(session, agreement, 2012, NOW.date().replace(month=12, day=20))["verdict"]
        assert verdict.due + verdict.pending > 0


def test_an_odd_responsible_still_refuses_the_import_with_the_flag(cli_loaded, tmp_path):
    env = {"TRYGG_DATABASE_URL": cli_loaded}
    plan = odd_plan(
        tmp_path, {"Uppföljning månadsvis": "Ibland kanske", "Polis och skola": "Polis och Tullverket"}
    )
    result = trygg("plan", "import", str(plan), "--keep-unreadable", "--json", env=env)
    assert result.returncode == 2, result.stdout
    data = json.loads(result.stdout)
    assert [e["path"] for e in data["errors"]] == ["Ansvarig"]


def test_the_desk_keeps_odd_rows_when_asked_and_lists_them_as_needing_a_timing(desk, tmp_path):  # noqa: F811
    app, sessions, url = desk
    client = signed_in(app, COORDINATOR)
    plan = odd_plan(tmp_path)
    page = f"{BASE}/plan"
    shown = client.post(
        page,
        data={
            "csrf_token": csrf_of(client.get(page).text),
            "year": "2012",
            "file": (io.BytesIO(plan.read_bytes()), "plan.txt"),
        },
        content_type="multipart/form-data",
    )
    assert shown.status_code == 200 and "När snön smälter" in shown.text
    before = dump(url)
    refused = client.post(f"{BASE}/plan/confirm", data={"csrf_token": csrf_of(client.get(page).text)})
    assert refused.status_code == 200 and dump(url) == before  # all or nothing without the choice
    kept = client.post(
        f"{BASE}/plan/preview", data={"csrf_token": csrf_of(client.get(page).text), "keep_unreadable": "1"}
    )
    assert kept.status_code == 200 and "importeras utan tidpunkt" in kept.text
    assert dump(url) == before
    done = client.post(
        f"{BASE}/plan/confirm", data={"csrf_token": csrf_of(client.get(page).text), "keep_unreadable": "1"}
    )
    assert done.status_code == 303
    with sessions() as s:
        assert sum(a.timing is None for a in s.scalars(select(Activity))) == 2
    listed = client.get(f"{BASE}/activities?status=untimed")
    assert listed.status_code == 200 and listed.text.count("saknar tidpunkt") >= 2
    assert "När snön smälter" in listed.text or "Trygghetsvandring" in listed.text
    home = client.get(BASE)
    assert "2 aktiviteter saknar tidpunkt" in home.text
