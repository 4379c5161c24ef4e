"""One scheduler acts at a time (a lease row), it catches up once, and silence is noticed (health)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tasks.scheduler import OnTheInterval, Ticker, next_tick
from tests.conftest import HARNOSAND, load_file, trygg
from workflow.clock import FixedClock
from workflow.db import transaction
from workflow.engine import heartbeat, lease
from workflow.engine.sweep import sweep
from workflow.status import engine_status

T0 = datetime(2012, 12, 17, 7, 0, tzinfo=UTC)


def test_only_one_scheduler_acts_and_a_dead_ones_lease_is_taken_over(sessions):
    clock = FixedClock(T0)
    fired: list[str] = []
    a = Ticker(sessions, lambda: fired.append("a"), clock=clock, holder="a")
    b = Ticker(sessions, lambda: fired.append("b"), clock=clock, holder="b")
    assert a.tick() and not b.tick()
    clock.advance(timedelta(minutes=1))
    assert a.tick() and not b.tick()  # a renews; b stands by
    assert fired == ["a", "a"]
    clock.advance(a.ttl + timedelta(seconds=1))  # a died without a word
    assert b.tick() and not a.tick()
    assert fired == ["a", "a", "b"]


def test_a_stopped_scheduler_hands_over_at_once(sessions):
    clock = FixedClock(T0)
    a = Ticker(sessions, lambda: None, clock=clock, holder="a")
    b = Ticker(sessions, lambda: None, clock=clock, holder="b")
    assert a.tick()
    a.stop()
    assert b.tick()


def test_the_lease_is_one_atomic_statement_per_step(sessions):
    with transaction(sessions) as session:
        assert lease.acquire(session, "x", "a", T0, timedelta(minutes=2))
        assert not lease.acquire(session, "x", "b", T0 + timedelta(minutes=1), timedelta(minutes=2))
        assert lease.acquire(session, "x", "b", T0 + timedelta(minutes=3), timedelta(minutes=2))


def test_a_tick_that_cannot_reach_the_broker_keeps_the_lease_and_tries_again(sessions):
    def broker_down() -> None:
        raise ConnectionError("redis is down")

    ticker = Ticker(sessions, broker_down, clock=FixedClock(T0), holder="a")
    assert ticker.tick()  # logged, not raised: the database still holds the work


def test_the_scheduler_ticks_on_the_minute_whenever_it_was_started(sessions):
    started = FixedClock(datetime(2012, 12, 17, 7, 59, 23, 400000, tzinfo=UTC))
    ticker = Ticker(sessions, lambda: None, clock=started, holder="a")
    assert ticker.next_tick() == datetime(2012, 12, 17, 8, 0, tzinfo=UTC)
    started.advance(timedelta(seconds=36, microseconds=600000))  # exactly 08:00:00: the next is 08:01
    assert ticker.next_tick() == datetime(2012, 12, 17, 8, 1, tzinfo=UTC)


def test_interval_keeps_its_meaning_as_the_step_between_ticks_on_the_wall_clock(sessions):
    clock = FixedClock(datetime(2012, 12, 17, 7, 52, 10, tzinfo=UTC))
    five_minutes = Ticker(sessions, lambda: None, clock=clock, interval=timedelta(minutes=5), holder="a")
    assert five_minutes.next_tick() == datetime(2012, 12, 17, 7, 55, tzinfo=UTC)
    assert next_tick(datetime(2012, 12, 17, 7, 52, 10, tzinfo=UTC), timedelta(seconds=15)) == datetime(
        2012, 12, 17, 7, 52, 15, tzinfo=UTC
    )


def test_after_the_catch_up_tick_at_start_the_trigger_falls_on_whole_minutes():
    trigger = OnTheInterval(timedelta(minutes=1))
    started = datetime(2012, 12, 17, 7, 59, 23, 400000, tzinfo=UTC)  # the tick at once, off the minute
    ticks = [started]
    for _ in range(3):
        ticks.append(trigger.get_next_fire_time(ticks[-1], ticks[-1] + timedelta(milliseconds=80)))
    assert ticks[1:] == [datetime(2012, 12, 17, 8, m, tzinfo=UTC) for m in (0, 1, 2)]


def test_health_reports_who_ran_when_and_what_is_stale(sessions):
    with sessions() as session:
        never = engine_status(session, T0)
    assert not never["healthy"] and set(never["problems"]) == {"scheduler_never_ran", "worker_never_ran"}
    Ticker(sessions, lambda: None, clock=FixedClock(T0), holder="a").tick()
    with transaction(sessions) as session:
        heartbeat.beat(session, "worker", T0, name="w1")
    with sessions() as session:
        fresh = engine_status(session, T0 + timedelta(minutes=2))
        stale = engine_status(session, T0 + timedelta(minutes=10))
    assert fresh["healthy"] and fresh["scheduler"]["age_seconds"] == 120 and fresh["lease"]["holder"] == "a"
    assert not stale["healthy"] and set(stale["problems"]) == {"scheduler_stale", "worker_stale"}


def test_a_scheduler_that_was_down_catches_up_once_without_a_storm(sessions):
    load_file(sessions, HARNOSAND)
    # Down from before the first reminder stage (11 December) until the 17th: one sweep then
    # sends each item's latest stage only, one mail per person.
    # A Monday: the coordinator's weekly summary is the one notice and mail more.
    first = sweep(sessions, datetime(2012, 12, 17, 9, 30, tzinfo=UTC))
    assert first.notices == 24 + 1 and len(first.mails) == 8 + 1
    again = sweep(sessions, datetime(2012, 12, 17, 9, 31, tzinfo=UTC))
    assert again.items == 0 and again.notices == 0 and again.mails == []


def test_trygg_health_exits_non_zero_when_stale_and_zero_when_running(db_url, sessions):
    env = {"TRYGG_DATABASE_URL": db_url, "COLUMNS": "200"}
    result = trygg("health", env=env)
    assert result.returncode == 1 and "aldrig" in result.stdout
    now = datetime.now(UTC)
    Ticker(sessions, lambda: None, clock=FixedClock(now), holder="a").tick()
    with transaction(sessions) as session:
        heartbeat.beat(session, "worker", now, name="w1")
    result = trygg("health", "--json", env=env)
    assert result.returncode == 0, result.stdout + result.stderr
    status = trygg("status", "--json", env=env)
    assert '"healthy": true' in status.stdout
