"""`trygg plan import` of a file without area backgrounds or footnotes keeps those the store has; a file
with them changes them (before, a CSV or a sheet silently emptied every background and footnote)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, ROOT
from workflow.agreement.validate import read_agreement
from workflow.db import transaction
from workflow.loading import import_plan, load_agreement
from workflow.plan.importing import read_plan_import
from workflow.plan.models import PlanVersion, PriorityArea
from workflow.status import resolve_agreement

CSV = ROOT / "tests" / "data" / "plan-harnosand.csv"


@pytest.fixture
def loaded(sessions, clock):
    with transaction(sessions) as session:
        load_agreement(session, read_agreement(HARNOSAND), clock=clock, actor="cli:test")
    return sessions


def texts(sessions) -> dict[str, tuple]:
    with sessions() as session:
        return {a.key: (a.background, tuple(a.footnotes)) for a in session.scalars(select(PriorityArea))}


def run_import(sessions, clock, path):
    with transaction(sessions) as session:
        agreement = resolve_agreement(session, None)
        return import_plan(
            session, read_plan_import(session, agreement, path, 2012), clock=clock, actor="cli:c"
        )


def without_texts(tmp_path):
    """The seed's CSV without its Bakgrund column: no backgrounds, no footnotes."""
    lines = CSV.read_text(encoding="utf-8").splitlines()
    bare = tmp_path / "plan.csv"
    bare.write_text("\n".join(";".join(line.split(";")[:6]) for line in lines) + "\n", encoding="utf-8")
    return bare


def test_a_plan_without_backgrounds_and_footnotes_keeps_them(loaded, clock, tmp_path):
    before = texts(loaded)
    assert any(bg for bg, _ in before.values()) and any(notes for _, notes in before.values())
    result = run_import(loaded, clock, without_texts(tmp_path))
    assert texts(loaded) == before
    assert not [c for c in result.changes if c[1] == "priority_area"]
    with loaded() as session:  # the version records the texts in force
        version = session.scalars(select(PlanVersion).order_by(PlanVersion.id.desc())).first()
        recorded = {a["id"]: (a["background"], tuple(a["footnotes"])) for a in version.content["areas"]}
    assert recorded == {k: v for k, v in before.items() if k in recorded}


def test_a_plan_with_a_background_changes_it(loaded, clock, tmp_path):
    bare = without_texts(tmp_path)
    lines = bare.read_text(encoding="utf-8").splitlines()
    lines[0] += ";Bakgrund"
    lines[1] += ";En ny bakgrund för ungdomarna."
    bare.write_text("\n".join(lines) + "\n", encoding="utf-8")
    before = texts(loaded)
    run_import(loaded, clock, bare)
    after = texts(loaded)
    changed = {k for k in after if after[k][0] != before[k][0]}
    assert len(changed) == 1 and after[changed.pop()][0] == "En ny bakgrund för ungdomarna."
    assert {k: v[1] for k, v in after.items()} == {k: v[1] for k, v in before.items()}  # footnotes kept
