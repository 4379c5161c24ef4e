"""The pages read set-based: the number of SQL statements of a page does not grow with the activities.

One agreement of 20 activities and one of 200 (10×), the same people; each page is fetched once to
warm up and then counted (SQLAlchemy's `before_cursor_execute` on the test's engine).
"""

from __future__ import annotations

import pytest
from sqlalchemy import event

from tests.overview_world import build
from workflow.db import session_factory
from workflow.synthetic import deployment_email

# Pages of the desk (F's) are counted once they exist; until then they answer 404 and are skipped.
PAGES = {
    "/me": "person-1",
    "/overview": "ordforande",
    "/agreements/{key}": "samordnare",
    "/agreements/{key}/activities": "samordnare",
    "/agreements/{key}/report/2012": "ordforande",
}


def _count(world, engine, page: str, who: str, number: int) -> int | None:
    client = world.client(deployment_email(who, number))
    path = page.format(key=world.keys[number - 1])
    if client.get(path).status_code == 404:
        return None
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    event.listen(engine, "before_cursor_execute", count)
    try:
        answer = client.get(path)
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert answer.status_code == 200, path
    return len(statements)


@pytest.fixture
def world(db_url, engine, tmp_path):
    return build(session_factory(engine), db_url, tmp_path / "deployment", sizes=(20, 200))


# A page may skip a query when a list is empty (nothing done yet, no notes): the smaller agreement
# can then make a few statements fewer. A read per activity would add 180 (20 → 200 activities).
SLACK = 3


@pytest.mark.parametrize("page", list(PAGES))
def test_a_pages_statements_do_not_grow_with_the_number_of_activities(page, world, engine):
    small, large = (_count(world, engine, page, PAGES[page], number) for number in (1, 2))
    if small is None:
        pytest.skip(f"{page} is not there yet (404)")
    assert large <= small + SLACK, f"{page}: {small} statements with 20 activities, {large} with 200"


def test_my_tasks_read_the_same_statements_for_one_agreement_as_for_several(world, engine):
    """A regional police chief leads every agreement of the region under one address: /me reads their
    agreements together, not one round of statements each."""
    client = world.client(deployment_email("chef-polis", 1))
    assert "Syntetisk överenskommelse 002" in client.get("/me").text  # both agreements on the page
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    one = _count(world, engine, "/me", "ordforande", 1)  # the municipal chair: one agreement
    event.listen(engine, "before_cursor_execute", count)
    try:
        assert client.get("/me").status_code == 200
    finally:
        event.remove(engine, "before_cursor_execute", count)
    assert len(statements) <= one + SLACK, (
        f"/me: {one} statements for one agreement, {len(statements)} for two"
    )
