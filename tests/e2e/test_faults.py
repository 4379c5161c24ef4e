"""Faults during delivery, on throwaway servers: nothing is lost, and duplicates stay within what was in flight.

Each test starts the topology (two workers, one scheduler), waits until the day's mails are
being delivered, makes one fault, and waits (bounded) until every mail has arrived. The
sink answers a little slowly, so that deliveries are in flight when the fault comes.
"""

from __future__ import annotations

import signal
import time
from datetime import date, timedelta

from tests.e2e.servers import wait_until
from tests.e2e.topology import SCHEDULER_INTERVAL, at

DUE = date(2013, 3, 15)  # a Friday
PEOPLE = 400
SLOW = 0.01  # seconds the sink takes per message


def running(
    topology,
    *,
    people: int = PEOPLE,
    start: str = "2013-03-15T08:00:05",
    due: date = DUE,
    delay: float = SLOW,
):
    topo = topology(start=at(start), delay=delay)
    topo.prepare(people, due)
    topo.start_workers("worker-1", "worker-2")
    topo.start_scheduler("scheduler-1")
    return topo


def caught(topo, before: set[int]) -> int:
    """Read right after a fault ended: how many mails were claimed while it lasted (those claimed
    just before it, and those still claimed since before its end)."""
    return len(before | topo.claimed(before=topo.clock.now()))


def finish(topo, record, fault: str, in_flight: int, began: float, engine_began, *, kinds=None) -> None:
    """Wait for every mail, check the promise, write the row."""
    topo.wait_delivered(kinds=kinds, timeout=300)
    result = topo.outcome(kinds=kinds)
    record(
        fault=fault,
        mails=result.expected,
        lost=result.lost,
        duplicates=result.duplicates,
        in_flight=in_flight,
        recovery_s=time.monotonic() - began,
        engine_clock_s=(topo.clock.now() - engine_began).total_seconds(),
    )
    assert result.lost == 0 and result.not_sent == 0
    assert result.duplicates <= in_flight, f"{result.duplicates} duplicates, {in_flight} in flight"


def test_kill_9_of_a_worker_in_the_middle_of_delivery_loses_nothing(topology, record):
    topo = running(topology)
    topo.wait_mid_delivery()
    in_flight, began, engine_began = topo.claimed(), time.monotonic(), topo.clock.now()
    topo.kill("worker-1", signal.SIGKILL)
    in_flight = caught(topo, in_flight)
    topo.start_workers("worker-3")  # what the compose file's restart policy does
    finish(topo, record, "kill -9 of a worker during delivery", in_flight, began, engine_began)


def test_a_redis_restart_during_delivery_loses_nothing(topology, record):
    topo = running(topology)
    topo.wait_mid_delivery()
    in_flight, began, engine_began = topo.claimed(), time.monotonic(), topo.clock.now()
    topo.redis.stop()  # no persistence: every queued task is gone with it
    time.sleep(3)
    topo.redis.start()
    in_flight = caught(topo, in_flight)
    finish(topo, record, "Redis restart during delivery (queue emptied)", in_flight, began, engine_began)


def test_a_postgresql_restart_during_delivery_loses_nothing(topology, record):
    topo = running(topology)
    topo.wait_mid_delivery()
    in_flight, began, engine_began = topo.claimed(), time.monotonic(), topo.clock.now()
    topo.pg.stop("fast")  # every connection is cut, open transactions roll back
    time.sleep(3)
    topo.pg.start()
    in_flight = caught(topo, in_flight)
    finish(topo, record, "PostgreSQL restart during delivery", in_flight, began, engine_began)


def test_a_second_scheduler_stands_by_and_takes_over_when_the_first_stops(topology, record):
    topo = running(topology)
    first = topo.procs["scheduler-1"].pid
    topo.wait_mid_delivery()
    in_flight, began, engine_began = topo.claimed(), time.monotonic(), topo.clock.now()
    topo.start_scheduler("scheduler-2")
    second = topo.procs["scheduler-2"].pid
    in_flight = caught(topo, in_flight)
    finish(topo, record, "a second scheduler started during delivery", in_flight, began, engine_began)
    # Only the first acted; the second beat as a standby.
    assert [n.rsplit(":", 1)[1] for n in topo.heartbeat_names("scheduler")] == [str(first)]
    assert [n.rsplit(":", 1)[1] for n in topo.heartbeat_names("scheduler-standby")] == [str(second)]
    topo.stop("scheduler-1")  # gives the lease up on the way out
    wait_until(
        lambda: (topo.lease_holder() or "").split(":")[1:2] == [str(second)],
        "the second scheduler to take the lease",
        timeout=4 * SCHEDULER_INTERVAL,
    )


def test_a_scheduler_down_for_three_days_catches_up_once_without_a_storm(topology, record):
    # Tuesday: the reminder 3 working days before Wednesday's deadline goes out.
    topo = running(topology, people=200, start="2013-03-12T08:00:05", due=date(2013, 3, 13), delay=0)
    topo.wait_delivered(kinds={"reminder"})
    assert topo.outcome(kinds={"reminder"}).duplicates == 0
    topo.stop("scheduler-1")
    # Three days pass with no scheduler: Wednesday's reminder ("today") and Thursday's overdue
    # notice (+1 working day) both fall due, and nothing acts on them.
    topo.clock.advance(timedelta(days=3).total_seconds())
    health = topo.trygg("health")
    assert health.returncode == 1, health.stdout + health.stderr  # the silence is noticed
    before = len(topo.sink.received)
    began, engine_began = time.monotonic(), topo.clock.now()
    topo.start_scheduler("scheduler-1")
    finish(
        topo,
        record,
        "scheduler down for 3 days (faked), then started",
        0,
        began,
        engine_began,
        kinds={"overdue"},
    )
    time.sleep(2 * SCHEDULER_INTERVAL)  # a few more ticks: nothing else may come
    after = topo.sink.received[before:]
    # Catch-up once: one mail per person, the latest stage only (the overdue notice), no missed reminder.
    assert len(after) == 200 and {r.kind for r in after} == {"overdue"}
    assert topo.trygg("health").returncode == 0
