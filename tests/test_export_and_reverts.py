"""`trygg export` writes the database as an agreement file that `trygg check` accepts and `trygg load`
loads to no change (the Härnösand file and a synthetic one); `trygg load` of a file that would revert
edits made on the web since the last load names them and needs --force."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, trygg
from workflow.agreement.models import Person
from workflow.audit import UnitOfWork, person_actor
from workflow.clock import FixedClock
from workflow.db import make_engine, session_factory, transaction


@pytest.fixture
def env(cli_loaded) -> dict[str, str]:
    return {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_LANGUAGE": "en"}


def ok(*args: str, env: dict[str, str]):
    result = trygg(*args, env=env)
    assert result.returncode == 0, (args, result.stderr)
    return result


def round_trip(env, key: str, tmp_path) -> dict:
    exported = tmp_path / f"{key}.yaml"
    ok("export", key, "--out", str(exported), env=env)
    assert json.loads(ok("check", str(exported), "--json", env=env).stdout)["ok"]
    return json.loads(ok("load", str(exported), "--json", env=env).stdout)


def test_the_harnosand_agreement_exports_to_a_file_that_loads_to_no_change(env, tmp_path):
    loaded = round_trip(env, "harnosand-2012-2013", tmp_path)
    assert loaded["changes"] == [] and not loaded["created"]
    # … and the export of the export is the same file (standard output this time).
    again = ok("export", "harnosand-2012-2013", env=env).stdout
    assert again.split("\n", 3)[3] == (tmp_path / "harnosand-2012-2013.yaml").read_text().split("\n", 3)[3]


def test_a_synthetic_agreement_round_trips(db_url, tmp_path):
    env = {"TRYGG_DATABASE_URL": db_url, "TRYGG_LANGUAGE": "en"}
    source = tmp_path / "synthetic.yaml"
    ok("synthetic", str(source), "--around", "2025-06-01", "--activities", "40", "--people", "12", env=env)
    ok("db", "upgrade", env=env)
    ok("load", str(source), env=env)
    key = json.loads(ok("check", str(source), "--json", env=env).stdout)["agreement"]
    assert round_trip(env, key, tmp_path)["changes"] == []


def web_edit(env, person_key: str, title: str) -> None:
    """What a coordinator's change of a person on the web leaves: the row changed, audited as the web."""
    sessions = session_factory(make_engine(env["TRYGG_DATABASE_URL"]))
    with transaction(sessions) as session:
        person = session.scalar(select(Person).where(Person.key == person_key))
        coordinator = session.scalar(select(Person).where(Person.key == "anna-sjoberg"))
        clock = FixedClock(datetime.now(UTC))
        unit = UnitOfWork(session, clock, person_actor(coordinator.id), channel="web")
        unit.agreement_id = person.agreement_id
        unit.audit("update", "person", person.key, before={"title": person.title}, after={"title": title})
        person.title = title


def test_a_load_that_would_revert_a_web_edit_names_it_and_needs_force(env, tmp_path):
    web_edit(env, "johan-berg", "Rektor, Härnösands gymnasium")
    refused = trygg("load", str(HARNOSAND), env=env)
    assert refused.returncode == 2
    assert "johan-berg" in refused.stderr and "title" in refused.stderr and "--force" in refused.stderr
    named = json.loads(trygg("load", str(HARNOSAND), "--json", env=env).stdout)
    assert [(e["entity"], e["key"], e["fields"]) for e in named["reverts_web_edits"]] == [
        ("person", "johan-berg", ["title"])
    ]
    # The export carries the web's edit: loading it changes nothing and reverts nothing.
    assert round_trip(env, "harnosand-2012-2013", tmp_path)["changes"] == []
    forced = json.loads(ok("load", str(HARNOSAND), "--force", "--json", env=env).stdout)
    assert ("update", "person", "johan-berg") in {
        (c["action"], c["entity"], c["key"]) for c in forced["changes"]
    }
    assert ok("load", str(HARNOSAND), env=env).returncode == 0  # the edit was overwritten: nothing to revert


def test_the_export_edited_by_hand_loads_without_force_after_web_edits(env, agreement_copy):
    web_edit(env, "johan-berg", "Rektor")
    ok("export", "harnosand-2012-2013", "--out", str(agreement_copy), env=env)
    edited = agreement_copy.read_text(encoding="utf-8").replace("grace_days: 30", "grace_days: 45")
    agreement_copy.write_text(edited, encoding="utf-8")
    changes = json.loads(ok("load", str(agreement_copy), "--json", env=env).stdout)["changes"]
    assert changes == [{"action": "update", "entity": "agreement", "key": "harnosand-2012-2013"}]
