"""The engine for real: PostgreSQL, Redis, `trygg worker` processes and an SMTP server (aiosmtpd).

Each test starts its own workers on its own database schema and Redis database; it sends
tasks as the scheduler does and waits (bounded) until the workers are idle, then looks at
what the SMTP server received and what the database says.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import redis
from sqlalchemy import func, select

from tasks.celery_app import make_celery
from tests.conftest import ROOT, deadline_area, load_file
from tests.smtp_server import Script
from workflow import migrate
from workflow.db import make_engine, session_factory
from workflow.engine.models import Heartbeat
from workflow.outbox.models import Mail, MailStatus, Notice
from workflow.synthetic import as_yaml, synthetic_agreement

# Celery workers as processes (one xdist worker runs these in turn: tests/xdist_groups.py).
pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.slow]

DAY = date(2013, 3, 15)  # a Friday
AT_EIGHT = datetime(2013, 3, 15, 8, 0, tzinfo=ZoneInfo("Europe/Stockholm"))
WAIT = 90.0  # seconds: a bound, never an expectation


def wait_for(condition, what: str, timeout: float = WAIT):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def agreement_file(tmp_path: Path, owners: list[str]) -> Path:
    """A small agreement: one deadline activity due on DAY per entry ("Polis", "Enhet 1", …)."""
    data = synthetic_agreement(activities=1, people=6, around=DAY, spread_days=0)
    data["plan"]["areas"] = deadline_area(owners, DAY)
    path = tmp_path / "agreement.yaml"
    path.write_text(as_yaml(data), encoding="utf-8")
    return path


class Engine:
    """Workers on a test schema and Redis database, and a way to talk to them."""

    def __init__(self, db_url: str, broker_url: str, smtp_url: str, tmp_path: Path) -> None:
        self.db_url, self.broker_url, self.tmp_path = db_url, broker_url, tmp_path
        self.env = {
            **os.environ,
            "TRYGG_DATABASE_URL": db_url,
            "TRYGG_BROKER_URL": broker_url,
            "TRYGG_SMTP_URL": smtp_url,
            "TRYGG_SMTP_TIMEOUT": "10",
            "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
        }
        self.sessions = session_factory(make_engine(db_url))
        self.celery = make_celery(broker_url)
        self.redis = redis.Redis.from_url(broker_url)
        self.workers: list[subprocess.Popen] = []

    def start_workers(self, n: int = 1) -> None:
        for i in range(n):
            log = open(self.tmp_path / f"worker-{i}.log", "w")  # noqa: SIM115 (closed with the process)
            self.workers.append(
                subprocess.Popen(
                    [sys.executable, "-m", "tasks.cli", "worker", "--pool", "solo", "--loglevel", "WARNING"],
                    env=self.env,
                    cwd=ROOT,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )
        wait_for(lambda: self._ready(), f"{n} worker(s) to say they are ready")

    def _ready(self) -> bool:
        for proc in self.workers:
            if proc.poll() is not None:
                logs = "\n".join(p.read_text() for p in self.tmp_path.glob("worker-*.log"))
                raise AssertionError(f"a worker exited with {proc.returncode}:\n{logs}")
        with self.sessions() as session:
            names = set(session.scalars(select(Heartbeat.name).where(Heartbeat.role == "worker")))
        return all(any(name.endswith(f":{p.pid}") for name in names) for p in self.workers)

    def send(self, task: str, now: datetime) -> None:
        self.celery.send_task(task, kwargs={"now": now.isoformat()})

    def idle(self) -> None:
        """Nothing queued, nothing in flight, every worker answering that it is doing nothing."""

        def quiet() -> bool:
            if self.redis.llen("celery") or self.redis.hlen("unacked"):
                return False
            inspect = self.celery.control.inspect(timeout=2.0, limit=len(self.workers))
            active, reserved = inspect.active() or {}, inspect.reserved() or {}
            return (
                len(active) == len(self.workers) == len(reserved)
                and not any(active.values())
                and not any(reserved.values())
                and not self.redis.llen("celery")
                and not self.redis.hlen("unacked")
            )

        wait_for(quiet, "the workers to finish")

    def mails(self, *where) -> list[Mail]:
        with self.sessions() as session:
            return list(session.scalars(select(Mail).where(*where).order_by(Mail.id)))

    def stop(self) -> None:
        for proc in self.workers:
            proc.terminate()
        for proc in self.workers:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self.celery.close()
        self.redis.close()
        self.sessions.kw["bind"].dispose()


@pytest.fixture
def engine_for(postgres_url, redis_url, smtp_server, tmp_path):
    """Make the engine for a list of owners and an SMTP script; workers always stop afterwards."""
    made: list[Engine] = []

    def make(owners: list[str], script: Script | None = None, workers: int = 1):
        server = smtp_server(script)
        eng = make_engine(postgres_url)
        migrate.upgrade(eng)
        eng.dispose()
        engine = Engine(postgres_url, redis_url, server.url, tmp_path)
        made.append(engine)
        load_file(engine.sessions, agreement_file(tmp_path, owners))
        engine.start_workers(workers)
        return engine, server

    yield make
    for engine in made:
        engine.stop()


def test_a_due_item_becomes_exactly_one_delivered_mail_and_a_second_sweep_sends_nothing(engine_for):
    engine, smtp = engine_for(["Polis"])
    engine.send("trygg.sweep", AT_EIGHT)
    engine.idle()
    (mail,) = engine.mails()
    assert mail.status == MailStatus.SENT and mail.kind == "reminder" and mail.smtp_reply.startswith("250")
    (received,) = smtp.messages
    assert received["Message-ID"] == mail.message_id and received["X-Trygg-Kind"] == "reminder"
    assert received["To"].addresses[0].addr_spec == "person-1@example.org"
    assert "i dag" in received["Subject"]

    engine.send("trygg.sweep", AT_EIGHT + timedelta(minutes=1))
    engine.send("trygg.sweep", AT_EIGHT + timedelta(minutes=2))
    engine.idle()
    assert len(smtp.messages) == 1 and len(engine.mails()) == 1


def test_two_sweeps_racing_send_once(engine_for):
    owners = [
        "Polis",
        "Enhet 1",
        "Enhet 2",
        "Polis i samverkan med Enhet 1",
        "Enhet 2 i samverkan med polis",
    ] * 8
    engine, smtp = engine_for(owners, workers=2)
    for _ in range(2):
        engine.send("trygg.sweep", AT_EIGHT)
    engine.idle()
    sent = engine.mails(Mail.status == MailStatus.SENT)
    recipients = [m["To"].addresses[0].addr_spec for m in smtp.messages]
    assert sorted(recipients) == ["person-1@example.org", "person-2@example.org", "person-3@example.org"]
    assert len(sent) == len(engine.mails()) == 3
    assert len({m["Message-ID"] for m in smtp.messages}) == 3
    with engine.sessions() as session:
        # One notice per activity and contact: 8 + 8 + 8 for the single owners, 16 + 16 for pairs.
        assert session.scalar(select(func.count()).select_from(Notice)) == 56


def test_a_4xx_then_success_is_delivered_once(engine_for):
    engine, smtp = engine_for(["Polis"], Script(temporary_failures=1))
    engine.send("trygg.sweep", AT_EIGHT)
    engine.idle()
    (mail,) = engine.mails()
    assert mail.status == MailStatus.PENDING and mail.attempts == 1 and mail.last_error.startswith("451")
    assert mail.next_attempt_at == AT_EIGHT + timedelta(minutes=1) and smtp.messages == []
    engine.send("trygg.deliver", AT_EIGHT + timedelta(seconds=30))  # too early: it waits in the row
    engine.idle()
    assert engine.mails()[0].attempts == 1
    engine.send("trygg.deliver", AT_EIGHT + timedelta(minutes=1))
    engine.idle()
    (mail,) = engine.mails()
    assert mail.status == MailStatus.SENT and mail.attempts == 2
    assert len(smtp.messages) == 1 and smtp.messages[0]["Message-ID"] == mail.message_id


def test_a_5xx_is_marked_failed_and_the_coordinator_is_told(engine_for):
    engine, smtp = engine_for(["Polis"], Script(refuse={"person-1@example.org": "550 5.1.1 No such user"}))
    engine.send("trygg.sweep", AT_EIGHT)
    engine.idle()
    failed, report = engine.mails()
    assert failed.status == MailStatus.FAILED and failed.last_error == "550 5.1.1 No such user"
    assert report.kind == "delivery_failure" and report.status == MailStatus.SENT
    (told,) = smtp.messages
    assert told["X-Trygg-Kind"] == "delivery_failure"
    assert told["To"].addresses[0].addr_spec == "samordnare@example.org"
    assert "person-1@example.org" in told.get_body(("plain",)).get_content()
