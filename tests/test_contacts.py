"""Contact people are inherited up the parent chain by one pure function; a parent loop never
hangs it, is refused in an agreement file with its place, and refuses a plan import when it is
already in the store."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import pytest
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select, update

from tests.conftest import HARNOSAND, ROOT, SEED, trygg
from workflow.agreement.contacts import parent_loops, resolve_contacts
from workflow.agreement.models import Agreement, Organisation, Person
from workflow.db import transaction
from workflow.plan.models import PlanVersion
from workflow.reminders.recipients import directory
from workflow.status import agreement_status

# Seconds a call may take before it counts as hanging: generous for a slow machine, and short
# enough that a regression fails the suite instead of stopping it.
PATIENCE = 10


def finishes(fn, *args, seconds: float = PATIENCE):
    """fn(*args) run in a daemon thread: its result, or a failure if it has not returned in time."""
    out: dict[str, object] = {}

    def run() -> None:
        try:
            out["value"] = fn(*args)
        except BaseException as exc:  # handed back to the test below
            out["error"] = exc

    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(seconds)
    if worker.is_alive():
        pytest.fail(f"{getattr(fn, '__name__', fn)} did not return within {seconds} s")
    if "error" in out:
        raise out["error"]  # type: ignore[misc]
    return out["value"]


# --- the pure function ------------------------------------------------------------------------


def test_an_organisation_without_contacts_gets_its_nearest_ancestors():
    parents = {"kommunen": None, "socialtjanst": "kommunen", "falt": "socialtjanst", "skola": "kommunen"}
    own = {"kommunen": ["anna"], "socialtjanst": ["erik"]}
    assert resolve_contacts(parents, own) == {
        "kommunen": ("anna",),
        "socialtjanst": ("erik",),
        "falt": ("erik",),
        "skola": ("anna",),
    }


def test_an_empty_list_of_own_contacts_counts_as_none():
    assert resolve_contacts({"a": "b", "b": None}, {"a": [], "b": [1, 2]}) == {"a": (1, 2), "b": (1, 2)}


def test_a_parent_outside_the_map_ends_the_chain_but_its_own_contacts_count():
    # plan import reads active organisations only: an inactive parent still lends its people.
    assert resolve_contacts({"a": "gone"}, {"gone": ["p"]}) == {"a": ("p",)}
    assert resolve_contacts({"a": "gone"}, {}) == {"a": ()}


def test_a_loop_without_contacts_yields_none_and_returns():
    parents = {"a": "b", "b": "a", "c": "a", "self": "self"}
    assert finishes(resolve_contacts, parents, {}) == {"a": (), "b": (), "c": (), "self": ()}


def test_a_loop_with_a_contact_lends_it_around_the_loop():
    parents = {"a": "b", "b": "c", "c": "a", "d": "c"}
    assert finishes(resolve_contacts, parents, {"b": ["bo"]}) == {
        "a": ("bo",),
        "b": ("bo",),
        "c": ("bo",),
        "d": ("bo",),
    }


def test_parent_loops_lists_each_loop_once_in_parent_order_from_its_first_member():
    parents = {"x": "c", "a": "b", "b": "c", "c": "a", "self": "self", "root": None, "leaf": "root"}
    assert finishes(parent_loops, parents) == [("a", "b", "c"), ("self",)]
    assert parent_loops({"a": "b", "b": None, "c": "unknown"}) == []


# Random parent maps over a few keys, with parents that may be absent from the map (as an
# inactive organisation is), so loops, self-loops, tails into loops and dangling links all occur.
KEYS = st.integers(0, 7)
PARENT_MAPS = st.dictionaries(KEYS, st.none() | st.integers(0, 9), max_size=8)
OUTSIDE = 9
OWN = st.dictionaries(st.integers(0, 9), st.lists(st.integers(100, 110), max_size=3), max_size=10)


@st.composite
def acyclic_parent_maps(draw) -> dict[int, int | None]:
    """A forest whose parents come earlier in a random labelling (or lie outside the map), its
    keys then shuffled so that the map is not in parent-first order."""
    n = draw(st.integers(0, 8))
    labels = draw(st.permutations(range(n)))
    parents = {labels[i]: draw(st.sampled_from([None, OUTSIDE, *labels[:i]])) for i in range(n)}
    return {k: parents[k] for k in draw(st.permutations(list(parents)))}


def naive_contacts(parents, own, org):
    """The rule as written in the docs, by recursion: safe only without loops."""
    if own.get(org):
        return tuple(own[org])
    parent = parents.get(org)
    return naive_contacts(parents, own, parent) if parent is not None else ()


def on_a_loop(parents, org) -> bool:
    cur = parents.get(org)
    for _ in range(len(parents)):
        if cur == org:
            return True
        if cur is None:
            return False
        cur = parents.get(cur)
    return False


@given(acyclic_parent_maps(), OWN)
def test_without_loops_the_result_is_the_naive_recursive_rule(parents, own):
    resolved = finishes(resolve_contacts, parents, own)
    assert resolved == {org: naive_contacts(parents, own, org) for org in parents}
    assert parent_loops(parents) == []


@given(PARENT_MAPS, OWN)
def test_any_parent_map_terminates_and_inherits_consistently(parents, own):
    resolved = finishes(resolve_contacts, parents, own)
    assert set(resolved) == set(parents)
    for org, parent in parents.items():
        if own.get(org):
            assert resolved[org] == tuple(own[org])
        elif parent is None:
            assert resolved[org] == ()
        elif parent not in parents:
            assert resolved[org] == tuple(own.get(parent, ()))
        else:
            assert resolved[org] == resolved[parent]
    for loop in parent_loops(parents):
        if not any(own.get(member) for member in loop):
            assert all(resolved[member] == () for member in loop)


@given(PARENT_MAPS)
def test_parent_loops_finds_every_organisation_on_a_loop_once_in_order(parents):
    loops = finishes(parent_loops, parents)
    members = [m for loop in loops for m in loop]
    assert len(members) == len(set(members))
    assert set(members) == {org for org in parents if on_a_loop(parents, org)}
    position = {org: i for i, org in enumerate(parents)}
    for loop in loops:
        assert all(parents[m] == loop[(i + 1) % len(loop)] for i, m in enumerate(loop))
        assert position[loop[0]] == min(position[m] for m in loop)


# --- an agreement file with a loop ------------------------------------------------------------

GOOD_AGREEMENT_TEXT = HARNOSAND.read_text(encoding="utf-8")
LOOP_FILE_TEXT = GOOD_AGREEMENT_TEXT.replace(
    "  - id: kommunen\n    name: Härnösands kommun\n    kind: party\n",
    "  - id: kommunen\n    name: Härnösands kommun\n    kind: party\n    parent: faltarbetare\n",
    1,
)


def test_trygg_check_refuses_a_parent_loop_at_its_place(tmp_path):
    assert LOOP_FILE_TEXT != GOOD_AGREEMENT_TEXT
    file = tmp_path / "loop.yaml"
    file.write_text(LOOP_FILE_TEXT, encoding="utf-8")
    line = LOOP_FILE_TEXT[: LOOP_FILE_TEXT.index("parent: faltarbetare")].count("\n") + 1

    result = trygg("check", str(file), env={"TRYGG_LANGUAGE": "sv", "COLUMNS": "300"})

    assert result.returncode == 2, result.stdout + result.stderr
    expected = (
        f"{file}:{line}:5: organisations[1].parent: överordnade organisationer bildar en slinga: "
        "'kommunen' → 'faltarbetare' → 'socialtjanst' → 'kommunen'"
    )
    assert expected in result.stderr


def test_trygg_check_refuses_an_organisation_that_is_its_own_parent(tmp_path):
    text = GOOD_AGREEMENT_TEXT.replace("    parent: socialtjanst\n", "    parent: faltarbetare\n", 1)
    file = tmp_path / "self.yaml"
    file.write_text(text, encoding="utf-8")
    result = trygg("check", str(file), "--json")
    assert result.returncode == 2
    assert '"path": "organisations[4].parent"' in result.stdout
    assert "'faltarbetare' → 'faltarbetare'" in result.stdout


# --- a loop already in the store ----------------------------------------------------------------


def put_a_loop_in_the_store(sessions) -> None:
    """polisen ↔ kommunen, neither with a contact of its own: as if written before the check."""
    with transaction(sessions) as session:
        ids = dict(session.execute(select(Organisation.key, Organisation.id)).all())
        for org, parent in (("polisen", "kommunen"), ("kommunen", "polisen")):
            session.execute(
                update(Organisation).where(Organisation.id == ids[org]).values(parent_id=ids[parent])
            )
        session.execute(
            update(Person)
            .where(Person.organisation_id.in_([ids["polisen"], ids["kommunen"]]))
            .values(is_contact=False)
        )


def plan_versions(sessions) -> int:
    with sessions() as session:
        return session.scalar(select(func.count()).select_from(PlanVersion))


@pytest.mark.slow  # a child process: a hang fails this test, not the whole run
def test_plan_import_refuses_a_loop_in_the_store_and_returns(loaded, db_url):
    put_a_loop_in_the_store(loaded)
    before = plan_versions(loaded)
    # A child process with a timeout of its own: a hang fails this test instead of the suite.
    result = subprocess.run(
        [sys.executable, "-m", "tasks.cli", "plan", "import", str(SEED)],
        capture_output=True,
        text=True,
        env={**os.environ, "TRYGG_DATABASE_URL": db_url, "TRYGG_LANGUAGE": "sv", "COLUMNS": "300"},
        cwd=ROOT,
        timeout=3 * PATIENCE,  # interpreter start-up included
    )
    assert result.returncode == 2, result.stdout + result.stderr
    assert "bildar en slinga: 'polisen' → 'kommunen' → 'polisen'" in result.stderr
    assert "Traceback" not in result.stderr
    assert plan_versions(loaded) == before


def test_status_and_the_sweeps_directory_return_on_a_loop_in_the_store(loaded):
    put_a_loop_in_the_store(loaded)
    with loaded() as session:
        agreement = session.scalars(select(Agreement)).one()
        ids = dict(session.execute(select(Organisation.key, Organisation.id)).all())

        people = finishes(directory, session, agreement.id)
        assert people.contacts[ids["polisen"]] == () and people.contacts[ids["kommunen"]] == ()
        assert people.contacts[ids["skola"]] != ()

        status = finishes(agreement_status, session, agreement)
        activities = [a for area in status["areas"] for a in area["activities"]]
        police_only = [
            a for a in activities if [o["id"] for o in a["owners"]] == ["polisen"] and not a["partners"]
        ]
        assert police_only and all(a["contacts"] == [] for a in police_only)
