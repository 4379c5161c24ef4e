"""The distributed deployment as processes: PostgreSQL, Redis, two workers, one scheduler, an SMTP sink."""

from __future__ import annotations

import time
from datetime import date

from tests.e2e.topology import at

DUE = date(2013, 3, 15)  # a Friday; the reminder "today" goes at 08:00 in Stockholm
PEOPLE = 1000


def test_a_thousand_due_mails_arrive_exactly_once_through_two_workers_and_a_scheduler(topology, record):
    topo = topology(start=at("2013-03-15T08:00:05"))
    topo.prepare(PEOPLE, DUE)
    topo.start_workers("worker-1", "worker-2")
    began, engine_began = time.monotonic(), topo.clock.now()
    topo.start_scheduler("scheduler")

    topo.wait_delivered(timeout=300)
    result = topo.outcome()
    assert result.expected == PEOPLE and result.not_sent == 0
    assert result.lost == 0 and result.duplicates == 0 and result.received == PEOPLE
    # Both workers took part: each beat while running tasks, and the sink saw one mail per person.
    assert len(topo.heartbeat_names("worker")) == 2
    assert sorted(topo.sink.per_recipient().values()) == [1] * PEOPLE
    record(
        fault="none: the end-to-end run",
        mails=PEOPLE,
        lost=result.lost,
        duplicates=result.duplicates,
        in_flight=0,
        recovery_s=time.monotonic() - began,
        engine_clock_s=(topo.clock.now() - engine_began).total_seconds(),
    )
