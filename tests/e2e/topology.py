"""The distributed topology as processes: `trygg worker`s and `trygg scheduler`s on throwaway servers.

Every engine process runs the real command line under one fake wall clock (FakeClock), so the
day's mails are due whatever day the tests run on. The tests look from outside, as an operator
would: at the SMTP sink (what arrived, how often) and at the database (what is in flight).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from datetime import date, datetime
from pathlib import Path

from sqlalchemy import func, select

from tests.e2e.servers import FakeClock, PostgresServer, RedisServer, SmtpSink, kill_group, wait_until
from workflow.db import make_engine, session_factory
from workflow.engine.models import Heartbeat, Lease
from workflow.outbox.delivery import claim_lease
from workflow.outbox.models import Mail, MailStatus
from workflow.synthetic import as_yaml, synthetic_agreement

SCHEDULER_INTERVAL = 5  # seconds between ticks (the command's minimum; production uses 60)
SMTP_TIMEOUT = 10
LEASE = claim_lease(SMTP_TIMEOUT)  # how long a delivery claim lasts


def trygg_argv(*args: str) -> list[str]:
    """The installed `trygg` command beside this interpreter, or the same module run directly."""
    script = Path(sys.executable).with_name("trygg")
    return [str(script), *args] if script.exists() else [sys.executable, "-m", "tasks.cli", *args]


def write_agreement(path: Path, people: int, due: date) -> list[str]:
    """An agreement whose `people` officers each own one activity due on `due`; returns their addresses.

    Each officer is the contact of one organisation (the police or a department), so each
    gets exactly one mail a day: the day's mails are the people.
    """
    data = synthetic_agreement(activities=1, people=people + 3, around=due, spread_days=0)
    owners = ["Polis"] + [f"Enhet {i}" for i in range(1, min(people, 12) + 1)]
    data["plan"]["areas"] = [
        {
            "id": "omrade",
            "title": "Område",
            "goals": [
                {
                    "id": "mal",
                    "title": "Mål",
                    "activities": [
                        {
                            "id": f"akt-{i}",
                            "activity": f"Aktivitet {i}",
                            "timing": {"kind": "deadline", "due": due},
                            "responsible": who,
                        }
                        for i, who in enumerate(owners, start=1)
                    ],
                }
            ],
        }
    ]
    path.write_text(as_yaml(data), encoding="utf-8")
    return [f"person-{i}@example.org" for i in range(1, people + 1)]


@dataclass
class Outcome:
    """What a phase of a run came to, seen at the sink and in the database."""

    expected: int
    received: int  # messages accepted by the sink, duplicates included
    lost: int  # expected recipients that got nothing
    duplicates: int  # messages beyond the first of each Message-ID
    not_sent: int  # mail rows of the phase not marked sent


class Topology:
    """PostgreSQL, Redis, an SMTP sink, workers and schedulers: started, watched, faulted, stopped."""

    def __init__(
        self,
        *,
        pg: PostgresServer,
        database: str,
        redis: RedisServer,
        sink: SmtpSink,
        clock: FakeClock,
        workdir: Path,
    ) -> None:
        self.pg, self.redis, self.sink, self.clock, self.workdir = pg, redis, sink, clock, workdir
        self.db_url = pg.create_database(database)
        self.env = {
            **os.environ,
            "TRYGG_DATABASE_URL": self.db_url,
            "TRYGG_BROKER_URL": redis.url,
            "TRYGG_SMTP_URL": sink.url,
            "TRYGG_SMTP_TIMEOUT": str(SMTP_TIMEOUT),
            "TRYGG_MAIL_FROM": "trygg <trygg@example.org>",
            "TRYGG_MAIL_DIR": str(workdir / "mail"),
            "TZ": "UTC",
            **clock.env(),
        }
        self.procs: dict[str, subprocess.Popen] = {}
        self._engine = make_engine(self.db_url)
        self.sessions = session_factory(self._engine)
        self.expected: list[str] = []
        self.jumped = 0.0  # seconds the clock was moved on to let dead claims' leases lapse

    # -- setting up --------------------------------------------------------------------------

    def trygg(self, *args: str, timeout: float = 180) -> subprocess.CompletedProcess:
        """Run a one-shot `trygg` command (under the fake clock) and return its result."""
        return subprocess.run(
            trygg_argv(*args), env=self.env, cwd=self.workdir, capture_output=True, text=True, timeout=timeout
        )

    def prepare(self, people: int, due: date) -> None:
        """`trygg db upgrade` and `trygg load` of an agreement with `people` mails due on `due`."""
        for args in (("db", "upgrade"), ("load", str(self._agreement(people, due)))):
            result = self.trygg(*args)
            assert result.returncode == 0, f"trygg {' '.join(args)}: {result.stdout}{result.stderr}"

    def _agreement(self, people: int, due: date) -> Path:
        path = self.workdir / "agreement.yaml"
        self.expected = write_agreement(path, people, due)
        return path

    # -- processes ---------------------------------------------------------------------------

    def start(self, name: str, *args: str) -> subprocess.Popen:
        log = open(self.workdir / f"{name}.log", "a")  # noqa: SIM115 (closed with the process)
        proc = subprocess.Popen(
            trygg_argv(*args),
            env=self.env,
            cwd=self.workdir,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.procs[name] = proc
        return proc

    def start_workers(self, *names: str) -> None:
        """Start `trygg worker`s (one task at a time each) and wait until each has said it is ready."""
        procs = [self.start(name, "worker", "--pool", "solo", "--loglevel", "WARNING") for name in names]
        wait_until(
            lambda: all(self._beating("worker", p) for p in procs), f"{', '.join(names)} to start", timeout=90
        )

    def start_scheduler(self, name: str) -> None:
        proc = self.start(name, "scheduler", "--interval", str(SCHEDULER_INTERVAL))
        wait_until(
            lambda: self._beating(("scheduler", "scheduler-standby"), proc), f"{name} to tick", timeout=90
        )

    def _beating(self, roles: str | tuple[str, ...], proc: subprocess.Popen) -> bool:
        self.alive(proc)
        roles = (roles,) if isinstance(roles, str) else roles
        with self.sessions() as session:
            names = session.scalars(select(Heartbeat.name).where(Heartbeat.role.in_(roles)))
            return any(n.endswith(f":{proc.pid}") for n in names)

    def alive(self, proc: subprocess.Popen) -> None:
        if proc.poll() is not None:
            name = next(n for n, p in self.procs.items() if p is proc)
            raise AssertionError(f"{name} exited with {proc.returncode}:\n{self.log(name)}")

    def log(self, name: str) -> str:
        path = self.workdir / f"{name}.log"
        return path.read_text(errors="replace")[-5000:] if path.exists() else ""

    def kill(self, name: str, sig: int = signal.SIGKILL) -> None:
        """Kill one process (SIGKILL: no goodbye, its claims stay as they were)."""
        proc = self.procs.pop(name)
        os.kill(proc.pid, sig)
        proc.wait(timeout=30)

    def stop(self, name: str) -> None:
        kill_group(self.procs.pop(name), signal.SIGTERM)

    def close(self) -> None:
        for proc in self.procs.values():
            kill_group(proc, signal.SIGTERM)
        self.procs.clear()
        self._engine.dispose()

    # -- looking -----------------------------------------------------------------------------

    def statuses(self) -> dict[str, int]:
        with self.sessions() as session:
            return dict(session.execute(select(Mail.status, func.count()).group_by(Mail.status)).all())

    def in_flight(self) -> int:
        """Mails claimed at this moment: those a fault can catch between "250" and "sent"."""
        return self.statuses().get(MailStatus.SENDING, 0)

    def claimed(self, *, before: datetime | None = None) -> set[int]:
        """The mails claimed now; with `before`, only those claimed before that instant.

        Read again right after a fault, this finds the claims the fault caught, including one
        made in the moment between the first look and the fault: a claim a fault cut off stays
        "sending" until its lease lapses.
        """
        query = select(Mail.id).where(Mail.status == MailStatus.SENDING)
        if before is not None:
            query = query.where(Mail.claimed_until <= before + LEASE)
        with self.sessions() as session:
            return set(session.scalars(query))

    def lease_holder(self) -> str | None:
        with self.sessions() as session:
            lease = session.scalar(select(Lease).where(Lease.name == "scheduler"))
            return lease.holder if lease else None

    def heartbeat_names(self, role: str) -> set[str]:
        with self.sessions() as session:
            return set(session.scalars(select(Heartbeat.name).where(Heartbeat.role == role)))

    def wait_mid_delivery(self, fraction: float = 0.2, timeout: float = 180) -> None:
        """Until some of the day's mails arrived and others are being sent: the moment for a fault."""
        want = max(1, int(len(self.expected) * fraction))

        def mid() -> bool:
            for proc in self.procs.values():
                self.alive(proc)
            arrived = len(self.sink.per_message())
            assert arrived < len(self.expected), "delivery ended before the fault could be made"
            return arrived >= want and self.in_flight() > 0

        wait_until(mid, f"{want} mails to arrive with more in flight", timeout=timeout, every=0.02)

    def wait_delivered(self, *, kinds: set[str] | None = None, timeout: float = 240) -> None:
        """Until every expected recipient has a mail (of `kinds`) and no row is pending or sending.

        A row left "sending" by a claim that died waits for its lease (6× the SMTP timeout, at
        least two minutes). Instead of waiting that long, the shared clock is moved past the
        lease once nothing else moves; the jump is counted in `jumped`.
        """
        last_progress = [time.monotonic(), -1]

        def done() -> bool:
            for proc in self.procs.values():
                self.alive(proc)
            received = {r.recipient for r in self.sink.received if kinds is None or r.kind in kinds}
            statuses = self.statuses()
            busy = statuses.get(MailStatus.PENDING, 0) + statuses.get(MailStatus.SENDING, 0)
            if received >= set(self.expected) and busy == 0:
                return True
            progress = len(self.sink.received) + statuses.get(MailStatus.SENT, 0)
            if progress != last_progress[1]:
                last_progress[:] = [time.monotonic(), progress]
            elif time.monotonic() - last_progress[0] > SCHEDULER_INTERVAL + 3:
                self._let_dead_claims_lapse()
                last_progress[0] = time.monotonic()
            return False

        wait_until(done, "every mail to arrive", timeout=timeout, every=0.1)

    def _let_dead_claims_lapse(self) -> None:
        with self.sessions() as session:
            until = session.scalar(
                select(func.max(Mail.claimed_until)).where(Mail.status == MailStatus.SENDING)
            )
        if until is not None and until > self.clock.now():
            step = (until - self.clock.now()).total_seconds() + 1
            self.clock.advance(step)
            self.jumped += step

    def outcome(self, *, kinds: set[str] | None = None) -> Outcome:
        received = [r for r in self.sink.received if kinds is None or r.kind in kinds]
        per_message: dict[str, int] = {}
        for r in received:
            per_message[r.message_id] = per_message.get(r.message_id, 0) + 1
        got = {r.recipient for r in received}
        statuses = self.statuses()
        return Outcome(
            expected=len(self.expected),
            received=len(received),
            lost=sum(1 for person in self.expected if person not in got),
            duplicates=sum(n - 1 for n in per_message.values()),
            not_sent=sum(n for status, n in statuses.items() if status != MailStatus.SENT),
        )


def at(local: str) -> datetime:
    """An instant written in Stockholm time."""
    from zoneinfo import ZoneInfo

    return datetime.fromisoformat(local).replace(tzinfo=ZoneInfo("Europe/Stockholm"))
