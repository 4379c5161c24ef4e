"""An archived agreement on the web: its links open a page that says so (403) and change nothing."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from tests.conftest import HARNOSAND, load_file
from tests.web_world import NOW, World, build
from workflow.agreement.models import Agreement
from workflow.db import make_engine, session_factory, transaction
from workflow.links.tokens import Action
from workflow.plan.models import Activity


@pytest.fixture
def world(tmp_path, sqlite_templates) -> World:
    url = f"sqlite:///{tmp_path / 'web.db'}"
    sqlite_templates.copy("harnosand", lambda u: load_file(session_factory(make_engine(u)), HARNOSAND), url)
    return build(session_factory(make_engine(url)), url)


def test_a_link_of_an_archived_agreement_says_so_and_its_post_changes_nothing(world):
    with transaction(world.sessions) as session:
        session.scalar(select(Agreement)).archived_at = NOW
    client = world.app().test_client()
    link = f"/l/{world.tokens[Action.DONE]}"
    page = client.get(link)
    assert page.status_code == 403 and "arkiverad" in page.text
    posted = client.post(link, data={"note": "klart"}, content_type="multipart/form-data")
    assert posted.status_code in (400, 403)  # no form to take a CSRF token from: refused either way
    with world.sessions() as session:
        assert session.scalar(select(Activity).where(Activity.state == "done")) is None
