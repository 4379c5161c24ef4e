"""`trygg admin add|remove|list`: deployment administrators, who see every agreement; audited."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from tests.conftest import trygg
from workflow.audit import AuditEntry
from workflow.db import make_engine, session_factory, transaction
from workflow.desk.access import access_of


@pytest.fixture
def env(cli_loaded) -> dict[str, str]:
    return {"TRYGG_DATABASE_URL": cli_loaded, "TRYGG_LANGUAGE": "en"}


def listed(env) -> list[str]:
    return [a["email"] for a in json.loads(trygg("admin", "list", "--json", env=env).stdout)["admins"]]


def test_an_added_administrator_is_listed_sees_every_agreement_and_the_change_is_audited(env):
    result = trygg("admin", "add", "Region.Admin@Example.org", env=env)
    assert result.returncode == 0, result.stderr
    assert trygg("admin", "add", "region.admin@example.org", env=env).returncode == 0  # once is enough
    assert listed(env) == ["region.admin@example.org"]
    assert "region.admin@example.org" in trygg("admin", "list", env=env).stdout
    with transaction(session_factory(make_engine(env["TRYGG_DATABASE_URL"]))) as session:
        access = access_of(session, "region.admin@example.org")
        assert access.admin and access.agreement_ids() is None
        entry = session.scalar(select(AuditEntry).where(AuditEntry.entity == "admin"))
        assert (entry.action, entry.channel) == ("create", "cli") and entry.actor.startswith("cli:")


def test_a_removed_administrator_is_gone_and_removing_an_unknown_one_is_an_error(env):
    trygg("admin", "add", "region.admin@example.org", env=env)
    assert trygg("admin", "remove", "region.admin@example.org", env=env).returncode == 0
    assert listed(env) == []
    again = trygg("admin", "remove", "region.admin@example.org", env=env)
    assert again.returncode == 2 and "not an administrator" in again.stderr


def test_an_address_that_is_not_one_is_refused(env):
    result = trygg("admin", "add", "not-an-address", env=env)
    assert result.returncode == 2 and "not an e-mail address" in result.stderr
    assert listed(env) == []
