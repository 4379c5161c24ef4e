"""The `trygg` command line, run as a user runs it (in-process, Typer's runner) on a real database."""

from __future__ import annotations

import json

import pytest

from tests.conftest import HARNOSAND, trygg


@pytest.fixture
def env(db_url) -> dict[str, str]:
    return {"TRYGG_DATABASE_URL": db_url, "TRYGG_LANGUAGE": "sv", "COLUMNS": "200"}


def test_quick_start_creates_loads_and_shows_five_areas_and_19_activities(env):
    assert trygg("db", "upgrade", env=env).returncode == 0
    loaded = trygg("load", str(HARNOSAND), env=env)
    assert loaded.returncode == 0, loaded.stderr
    assert "Inläst: harnosand-2012-2013" in loaded.stdout

    shown = trygg("status", env=env)
    assert shown.returncode == 0, shown.stderr
    assert "5 prioriterade områden, 19 aktiviteter" in shown.stdout
    for title in ("Förebyggande arbete ungdomar", "Livsstilskriminella", "Trafik"):
        assert title in shown.stdout

    data = json.loads(trygg("status", "--json", env=env).stdout)
    (agreement,) = data["agreements"]
    assert {"id", "title", "areas"} <= agreement.keys()
    assert len(agreement["areas"]) == 5
    activities = [a for area in agreement["areas"] for a in area["activities"]]
    assert len(activities) == len({a["id"] for a in activities}) == 19
    for act in activities:
        assert {"id", "title", "owners", "deadline", "state"} <= act.keys()
        assert act["owners"], act["id"]


def test_load_twice_reports_unchanged(env):
    trygg("db", "upgrade", env=env)
    trygg("load", str(HARNOSAND), env=env)
    again = trygg("load", str(HARNOSAND), "--json", env=env)
    assert json.loads(again.stdout)["changes"] == []
    human = trygg("load", str(HARNOSAND), env=env)
    assert "Oförändrad" in human.stdout


def test_english_output_on_request(env):
    trygg("db", "upgrade", env=env)
    loaded = trygg("load", str(HARNOSAND), env={**env, "TRYGG_LANGUAGE": "en"})
    assert "Loaded: harnosand-2012-2013" in loaded.stdout


def test_commands_refuse_a_database_without_schema(env):
    result = trygg("status", env=env)
    assert result.returncode == 3
    assert "trygg db upgrade" in result.stderr and "Traceback" not in result.stderr


def test_check_writes_nothing_and_prints_a_summary(env):
    result = trygg("check", str(HARNOSAND), "--json", env=env)
    assert result.returncode == 0
    summary = json.loads(result.stdout)
    assert summary["ok"] and summary["areas"] == 5 and summary["activities"] == 19


def test_a_shipped_example_loads_by_name(env, tmp_path):
    trygg("db", "upgrade", env=env)
    listed = trygg("examples", env=env)
    assert "harnosand-2012-2013" in listed.stdout
    result = trygg("load", "harnosand-2012-2013", env=env, cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_status_with_an_unknown_agreement_is_a_clear_error(env):
    trygg("db", "upgrade", env=env)
    trygg("load", str(HARNOSAND), env=env)
    result = trygg("status", "--agreement", "umea-2030", env=env)
    assert result.returncode == 3
    assert "umea-2030" in result.stderr
    ok = trygg("status", "--agreement", "harnosand-2012-2013", "--json", env=env)
    assert len(json.loads(ok.stdout)["agreements"]) == 1
