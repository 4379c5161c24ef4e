"""The clock process: an APScheduler job that ticks every minute, and acts only while it holds the lease.

Ticks fall on whole multiples of the interval on the wall clock (every minute on :00 by
default), not an interval after the process started: a mail due at 08:00 is swept at 08:00:00,
whenever the scheduler was started. A tick does not decide anything: it renews the lease, records a heartbeat and fires the sweep.
What is due, the digests and the catch-up after downtime all come from the database, so a
scheduler that was down catches up once, and a second scheduler only stands by.
"""

from __future__ import annotations

import logging
import os
import secrets
import signal
import socket
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from apscheduler.schedulers.blocking import BlockingScheduler
from apscheduler.triggers.base import BaseTrigger
from sqlalchemy.orm import Session, sessionmaker

from workflow.clock import Clock, SystemClock
from workflow.db import transaction
from workflow.engine import heartbeat, lease

log = logging.getLogger(__name__)

LEASE = "scheduler"
FORGET_SILENT = timedelta(days=7)
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def next_tick(after: datetime, interval: timedelta) -> datetime:
    """The first whole multiple of `interval` since the Unix epoch strictly after `after`.

    Whole minutes and hours of UTC are whole minutes and hours of Swedish time too."""
    step = interval // timedelta(microseconds=1)
    if step <= 0:
        raise ValueError(f"interval {interval} is not positive")
    elapsed = (after - EPOCH) // timedelta(microseconds=1)
    return EPOCH + timedelta(microseconds=(elapsed // step + 1) * step)


class OnTheInterval(BaseTrigger):
    """APScheduler's trigger for `next_tick`: an interval trigger counts from its start instead."""

    def __init__(self, interval: timedelta) -> None:
        self.interval = interval

    def get_next_fire_time(self, previous_fire_time: datetime | None, now: datetime) -> datetime:
        return next_tick(previous_fire_time or now, self.interval)


class Ticker:
    """One scheduler process: its identity, its lease and what it fires."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        fire: Callable[[], None],
        *,
        clock: Clock | None = None,
        interval: timedelta = timedelta(minutes=1),
        holder: str | None = None,
    ) -> None:
        self.sessions, self.fire = sessions, fire
        self.clock = clock or SystemClock()
        self.interval = interval
        # A lease outlives two missed ticks, so a slow tick does not hand over needlessly.
        self.ttl = interval * 2 + timedelta(seconds=30)
        self.holder = holder or f"{socket.gethostname()}:{os.getpid()}:{secrets.token_hex(4)}"

    def tick(self) -> bool:
        """Renew the lease; fire when held. Returns whether this process acted."""
        now = self.clock.now()
        with transaction(self.sessions) as session:
            held = lease.acquire(session, LEASE, self.holder, now, self.ttl)
            heartbeat.beat(session, "scheduler" if held else "scheduler-standby", now)
            if held:
                heartbeat.prune(session, now - FORGET_SILENT)
        if not held:
            log.info("another scheduler holds the lease; standing by")
            return False
        try:
            self.fire()
        except Exception:  # a broker that is down now is up at a later tick; the DB keeps the work
            log.exception("firing the sweep failed; the next tick tries again")
        return True

    def next_tick(self) -> datetime:
        """When this process ticks next, by its clock."""
        return next_tick(self.clock.now(), self.interval)

    def stop(self) -> None:
        with transaction(self.sessions) as session:
            lease.release(session, LEASE, self.holder)


def serve(ticker: Ticker) -> None:
    """Tick now, then on every multiple of the interval, until SIGTERM or Ctrl-C; give the lease up on
    the way out."""
    scheduler = BlockingScheduler(timezone=UTC)
    scheduler.add_job(
        ticker.tick,
        OnTheInterval(ticker.interval),
        next_run_time=ticker.clock.now(),  # at once: a scheduler that was down catches up now
        coalesce=True,  # ticks missed while busy or suspended become one
        max_instances=1,
        misfire_grace_time=int(ticker.interval.total_seconds()),
        id="tick",
    )

    def stop(signum, _frame) -> None:
        log.info("signal %s: stopping the scheduler", signum)
        scheduler.shutdown(wait=False)

    signal.signal(signal.SIGTERM, stop)
    try:
        scheduler.start()
    except KeyboardInterrupt:
        pass
    finally:
        ticker.stop()
