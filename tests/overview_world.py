"""A small deployment for the overview's tests: synthetic agreements loaded, some work done on time,
some late, and the engine's sweep run once at NOW."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path

from sqlalchemy import select

from web.app import create_app
from workflow.agreement.models import Admin, Agreement
from workflow.agreement.validate import read_agreement
from workflow.audit import UnitOfWork
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine.sweep import sweep
from workflow.loading import load_agreement
from workflow.plan.models import Activity
from workflow.settings import Settings
from workflow.synthetic import as_yaml, deployment_email, synthetic_agreement
from workflow.work import mark_done

KEY = "k" * 48
AROUND = date(2012, 6, 15)
NOW = datetime(2012, 9, 3, 8, 0, tzinfo=UTC)
ADMIN = "admin@example.org"


@dataclass
class Deployment:
    url: str
    sessions: object
    keys: list[str]

    def app(self):
        app = create_app(
            Settings(database_url=self.url, secret_key=KEY), sessions=self.sessions, clock=FixedClock(NOW)
        )
        app.config["TESTING"] = True
        return app

    def client(self, email: str | None):
        client = self.app().test_client()
        if email:
            with client.session_transaction() as s:
                s["email"] = email
        return client


def management(number: int) -> str:
    """The municipal chair of agreement `number`: management of that one agreement only."""
    return deployment_email("ordforande", number)


def officer(number: int) -> str:
    return deployment_email("person-1", number)


def build(sessions, url: str, folder: Path, sizes: tuple[int, ...] = (20, 20)) -> Deployment:
    """Load one synthetic agreement per entry of `sizes` (its number of activities); in agreement n,
    every (n+1)th activity due before NOW is left undone (late), the others are done on time."""
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for n, size in enumerate(sizes, start=1):
        data = synthetic_agreement(
            key=f"synthetic-{n:03d}", number=n, activities=size, people=15, around=AROUND, spread_days=90
        )
        paths.append(folder / f"{data['id']}.yaml")
        paths[-1].write_text(as_yaml(data), encoding="utf-8")
    keys = []
    for path in paths:
        with transaction(sessions) as session:
            load = FixedClock(datetime(2012, 1, 2, tzinfo=UTC))
            keys.append(
                load_agreement(session, read_agreement(path), clock=load, actor="cli:test").agreement_key
            )
    for n, key in enumerate(keys, start=1):
        _work(sessions, key, n)
    # The engine looks once at NOW (catching up): the ladder's notices are what the stages count.
    sweep(sessions, NOW, ran_at=NOW)
    with transaction(sessions) as session:
        session.add(Admin(email=ADMIN, added_at=NOW, added_by="cli:test"))
    return Deployment(url, sessions, keys)


def _work(sessions, key: str, n: int) -> None:
    with transaction(sessions) as session:
        agreement = session.scalar(select(Agreement).where(Agreement.key == key))
        due = session.scalars(
            select(Activity)
            .where(Activity.agreement_id == agreement.id, Activity.deadline < NOW.date())
            .order_by(Activity.id)
        ).all()
        for i, activity in enumerate(due):
            if i % (n + 1) == 0:
                continue  # left undone: late
            at = datetime.combine(activity.deadline - timedelta(days=1), time(10), tzinfo=UTC)
            mark_done(UnitOfWork(session, FixedClock(at), "cli:test"), activity)
