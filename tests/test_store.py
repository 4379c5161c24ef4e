"""The store: migrations give exactly the models' schema; timestamps are aware UTC everywhere."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import select, text
from sqlalchemy.exc import StatementError

from workflow import migrate
from workflow.audit import AuditEntry
from workflow.db import make_engine, session_factory, transaction
from workflow.models import metadata


def test_migrations_produce_exactly_the_models_schema(engine):
    with engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        diff = compare_metadata(context, metadata)
    assert diff == []
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_upgrade_on_a_current_database_is_a_no_op(engine):
    migrate.upgrade(engine)
    assert migrate.current_revision(engine) == migrate.head_revision()


def test_timestamps_come_back_aware_utc(sessions):
    stockholm = timezone(timedelta(hours=2))
    at = datetime(2012, 6, 22, 23, 30, tzinfo=stockholm)  # midsommarafton, late
    with transaction(sessions) as session:
        session.add(AuditEntry(at=at, actor="t", action="a", entity="e", entity_key="k"))
    with sessions() as session:
        stored = session.scalar(select(AuditEntry.at))
    assert stored.tzinfo is not None and stored.utcoffset() == timedelta(0)
    assert stored == at and stored == datetime(2012, 6, 22, 21, 30, tzinfo=UTC)


def test_naive_timestamps_are_refused(sessions):
    with pytest.raises(StatementError, match="naive"):
        with transaction(sessions) as session:
            session.add(
                AuditEntry(at=datetime(2012, 1, 1), actor="t", action="a", entity="e", entity_key="k")
            )
            session.flush()


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'x.db'}")
    with engine.connect() as conn:
        assert conn.execute(text("pragma journal_mode")).scalar() == "wal"
        assert conn.execute(text("pragma busy_timeout")).scalar() == 30000
        assert conn.execute(text("pragma foreign_keys")).scalar() == 1
    engine.dispose()


def test_the_default_database_is_a_sqlite_file_under_var(tmp_path, monkeypatch):
    from workflow.settings import Settings

    monkeypatch.chdir(tmp_path)
    for name in ("TRYGG_DATABASE_URL", "TRYGG_BROKER_URL", "TRYGG_SMTP_URL"):
        monkeypatch.delenv(name, raising=False)
    settings = Settings()
    assert settings.database_url == "sqlite:///var/trygg.db"
    engine = make_engine(settings.database_url)
    migrate.upgrade(engine)
    assert (tmp_path / "var" / "trygg.db").exists()
    with session_factory(engine)() as session:
        assert session.execute(text("select count(*) from agreements")).scalar() == 0
    engine.dispose()


def test_every_change_names_who_made_it_in_one_of_three_ways(sessions, clock):
    """A person (the web), the engine, or someone on the command line: never an anonymous change."""
    from workflow.audit import SYSTEM, UnitOfWork, cli_actor, person_actor

    with sessions() as session:
        for actor in (SYSTEM, cli_actor("anna@kommun"), person_actor(7)):
            assert UnitOfWork(session, clock, actor).actor == actor
        for anonymous in ("", "anna", "person:", "person:x", "cli:", "system "):
            with pytest.raises(ValueError, match="actor"):
                UnitOfWork(session, clock, anonymous)
