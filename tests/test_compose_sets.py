"""Composing the day's mails is set-based: a fixed number of statements whatever the number of mails,
and two composers at once on PostgreSQL put every notice in exactly one mail."""

from __future__ import annotations

import threading
from datetime import UTC, datetime

import pytest
from sqlalchemy import event, func, select

from tests.conftest import HARNOSAND, load_file
from workflow import migrate
from workflow.db import make_engine, session_factory, transaction
from workflow.engine.sweep import due_items
from workflow.outbox.batch import run_batch
from workflow.outbox.compose import compose
from workflow.outbox.models import Mail, Notice

# Down since before the first reminder stage: 24 notices to 8 people (tests/test_scheduler.py).
AT = datetime(2012, 12, 17, 9, 30, tzinfo=UTC)


def decide(sessions) -> None:
    with transaction(sessions) as session:
        for items in due_items():
            run_batch(session, items, AT, limit=10_000)


def test_composing_takes_the_same_few_statements_for_eight_mails_as_for_one(sessions, engine):
    load_file(sessions, HARNOSAND)
    decide(sessions)
    statements: list[str] = []
    event.listen(engine, "before_cursor_execute", lambda *args: statements.append(args[2]))
    with transaction(sessions) as session:
        done = compose(session, AT)
    assert len(done.mails) == 8 and done.notices == 24
    # Read notices, agreements, mailboxes (2); lock the day's mails, make the new ones; attach;
    # read the rules and kinds: no statement per mail.
    assert len(statements) <= 10, statements


@pytest.mark.postgres
def test_two_composers_at_once_put_every_notice_in_exactly_one_mail(postgres_url):
    engine = make_engine(postgres_url)
    try:
        migrate.upgrade(engine)
        sessions = session_factory(engine)
        load_file(sessions, HARNOSAND)
        decide(sessions)
        start = threading.Barrier(2)
        failures: list[BaseException] = []

        def composer() -> None:
            try:
                start.wait()
                while True:  # small batches, so the two interleave on the same people's mails
                    with transaction(sessions) as session:
                        if compose(session, AT, limit=3).picked == 0:
                            return
            except BaseException as exc:  # noqa: BLE001 - reported by the assertion below
                failures.append(exc)

        threads = [threading.Thread(target=composer) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
        assert failures == []
        with sessions() as session:
            assert session.scalar(select(func.count()).where(Notice.mail_id.is_(None))) == 0
            assert session.scalar(select(func.count()).select_from(Notice)) == 24
            assert session.scalar(select(func.count()).select_from(Mail)) == 8
    finally:
        engine.dispose()
