"""The usual approach side by side: one APScheduler job per reminder, one Celery ETA task per reminder, trygg's sweep.

N reminders, of which `due` are due now and the rest spread over the coming days. Each
approach stores them through its ordinary API: APScheduler 3 `add_job(…, "date")` into a
`SQLAlchemyJobStore` on the same PostgreSQL; Celery `apply_async(eta=…)` to Redis, with one
worker (`--pool solo`) that takes them into its memory; trygg N activity rows with their
next_action_at streamed by one PostgreSQL `COPY` (workflow.db.bulk_insert) in one transaction. Then the due ones are fired: APScheduler
runs them from its store (misfire_grace_time=None, else the ones already late are skipped),
the Celery worker runs them at their ETA, trygg sweeps (decides, makes notices and mails — more
work than the others' no-op job). Then each is stopped and started again.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import redis
from sqlalchemy import text

from bench.common import (
    REDIS_URL,
    ROOT,
    Section,
    command,
    database,
    main_for,
    mib,
    ms,
    require_redis_db,
    secs,
    table,
)
from bench.world import DUE_AT, NOW, open_world
from workflow.db import bulk_insert, make_engine, session_factory, transaction
from workflow.plan.models import Activity

N = {"tiny": 500, "full": 100_000}
DUE = {"tiny": 50, "full": 1_000}
TIMEOUT = {"tiny": 120.0, "full": 900.0}
SCHEDULE_BOUND = {
    "tiny": 30.0,
    "full": 60.0,
}  # seconds of scheduling before a run is capped (make bench ≤ 12 min)

_fired: list[float] = []
_fired_lock = threading.Lock()


def fired(i: int) -> None:
    """The APScheduler job: note when it ran."""
    with _fired_lock:
        _fired.append(time.time())


def rss() -> int:
    return psutil.Process().memory_info().rss


def wait_for(condition, what: str, timeout: float, interval: float = 0.1):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if value := condition():
            return value
        time.sleep(interval)
    raise TimeoutError(f"timed out after {timeout:.0f} s waiting for {what}")


def offsets(n: int, due: int) -> list[timedelta]:
    """When each reminder is due, from now: `due` a minute ago, the rest within the next 30 days."""
    return [
        timedelta(minutes=-1) if i < due else timedelta(minutes=10 + i % (30 * 24 * 60)) for i in range(n)
    ]


# --- APScheduler 3 -------------------------------------------------------------------------


def apscheduler(url: str, size: str) -> dict:
    n, due = N[size], DUE[size]
    _fired.clear()
    logging.getLogger("apscheduler").setLevel(logging.ERROR)  # the skipped late jobs are expected
    sched, store = _aps_scheduler(url, misfire_grace_time=None, coalesce=False)
    sched.start(paused=True)
    before = rss()
    schedule, added = _aps_schedule(sched, n, due, size)
    held = rss() - before
    with store.engine.connect() as conn:
        stored = conn.execute(text("select pg_total_relation_size('apscheduler_jobs')")).scalar_one()
    t0 = time.time()
    sched.resume()
    wait_for(lambda: len(_fired) >= due, "APScheduler's due jobs", TIMEOUT[size])
    fire = max(_fired) - t0
    # Ten more jobs, with APScheduler's default misfire_grace_time (1 s), due while it is down.
    for i in range(10):
        sched.add_job(
            fired,
            "date",
            run_date=datetime.now(UTC) + timedelta(seconds=2),
            id=f"late{i}",
            args=[i],
            misfire_grace_time=1,
        )  # APScheduler 3's default
    sched.shutdown(wait=True)
    store.engine.dispose()
    time.sleep(3)  # down past their run time
    restarted = _aps_restart(url)
    return {"schedule": schedule, "fire": fire, "rss": held, "stored": stored, **restarted, "added": added}


def _aps_scheduler(url: str, **defaults):
    """A BackgroundScheduler on an SQLAlchemyJobStore at `url`, and the store."""
    from apscheduler.executors.pool import ThreadPoolExecutor
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.background import BackgroundScheduler

    store = SQLAlchemyJobStore(url=url)
    s = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(10)},
        job_defaults=defaults,
        timezone=UTC,
    )
    return s, store


def _aps_schedule(sched, n: int, due: int, size: str) -> tuple[float, int]:
    """Add one date job per reminder; the seconds it takes for all `n` (extrapolated if capped), and how many were added."""
    now = datetime.now(UTC)
    start = time.perf_counter()
    added = 0
    for i, off in enumerate(offsets(n, due)):
        sched.add_job(fired, "date", run_date=now + off, id=f"r{i}", args=[i], misfire_grace_time=None)
        added += 1
        if time.perf_counter() - start > SCHEDULE_BOUND[size] and added >= due:
            break  # capped: the rate is steady (one transaction per job), the rest is extrapolated
    return (time.perf_counter() - start) * n / added, added


def _aps_restart(url: str) -> dict:
    """Start a new scheduler on the same store: how long it takes, what it finds, which late jobs ran."""
    _fired.clear()
    sched, store = _aps_scheduler(url)
    start = time.perf_counter()
    sched.start()
    restart = time.perf_counter() - start
    time.sleep(1.5)
    late_ran = len(_fired)
    start = time.perf_counter()
    jobs = len(sched.get_jobs())
    listing = time.perf_counter() - start
    sched.shutdown(wait=False)
    store.engine.dispose()
    return {"restart": restart, "after_restart": jobs, "listing": listing, "late_ran": late_ran}


# --- Celery ETA tasks -------------------------------------------------------------------------


def celery_eta(size: str, folder: Path) -> dict:
    from bench.usual_celery import FIRED, app, remind

    require_redis_db(REDIS_URL)
    n, due = N[size], DUE[size]
    r = redis.Redis.from_url(REDIS_URL)
    r.flushdb()
    publish_later, later = _publish_later(n, due, size)
    workers = [_start_celery_worker("eta", folder)]
    proc = psutil.Process(workers[0].pid)
    try:
        _wait_until_held(r, len(later), "the worker to take every ETA task", size)
        worker_rss = proc.memory_info().rss
        redis_bytes = sum(r.memory_usage(k, samples=0) or 0 for k in ("unacked", "unacked_index"))
        t_due = datetime.now(UTC) + timedelta(seconds=5)
        start = time.perf_counter()
        with app.producer_or_acquire() as producer:
            for i in range(due):
                remind.apply_async(args=[n + i], eta=t_due, producer=producer)
        publish_due = time.perf_counter() - start
        wait_for(lambda: r.llen(FIRED) >= due, "the due ETA tasks", TIMEOUT[size])
        fire = max(float(x.split()[0]) for x in r.lrange(FIRED, 0, -1)) - t_due.timestamp()
        restarts = _celery_restarts(r, workers, folder, len(later), size)
    finally:
        for worker in workers:
            if worker.poll() is None:
                worker.kill()
                worker.wait()
        r.flushdb()
        r.close()
    return {
        "schedule": publish_later + publish_due,
        "fire": fire,
        "worker_rss": worker_rss,
        "redis": redis_bytes,
        **restarts,
        "later": len(later),
        "visibility": app.conf.broker_transport_options.get("visibility_timeout", 3600),
    }


def _publish_later(n: int, due: int, size: str) -> tuple[float, list[timedelta]]:
    """Publish an ETA task per reminder not yet due; the seconds for all (extrapolated if capped), and their offsets."""
    from bench.usual_celery import app, remind

    now = datetime.now(UTC)
    later = [off for off in offsets(n, due) if off > timedelta(0)]
    start = time.perf_counter()
    with app.producer_or_acquire() as producer:
        for i, off in enumerate(later):
            remind.apply_async(args=[i], eta=now + off, producer=producer)
            if time.perf_counter() - start > SCHEDULE_BOUND[size]:
                later = later[: i + 1]  # capped: the worker then holds fewer; the rate is extrapolated
                break
    return (time.perf_counter() - start) * (n - due) / len(later), later


def _celery_restarts(
    r: redis.Redis, workers: list[subprocess.Popen], folder: Path, later: int, size: str
) -> dict:
    """What happens to the held ETA tasks when the worker is stopped, then when a new one is killed."""
    from bench.usual_celery import QUEUE

    # A warm shutdown hands the held tasks back to the queue…
    workers[0].send_signal(signal.SIGTERM)
    workers[0].wait(timeout=300)
    after_term = r.llen(QUEUE) + _held(r)
    # …a killed worker leaves them in `unacked`, back only after the visibility timeout.
    workers.append(_start_celery_worker("eta2", folder))
    start = time.perf_counter()
    _wait_until_held(r, later, "the restarted worker to take them again", size)
    retake = time.perf_counter() - start
    workers[1].kill()
    workers[1].wait()
    return {
        "after_term": after_term,
        "retake": retake,
        "after_kill_queue": r.llen(QUEUE),
        "after_kill_unacked": _held(r),
    }


def _start_celery_worker(name: str, folder: Path) -> subprocess.Popen:
    """One `celery worker --pool solo` of bench.usual_celery, its log in `folder`."""
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "bench.usual_celery",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "WARNING",
            "--without-gossip",
            "--without-mingle",
            "--without-heartbeat",
            f"--hostname={name}.{os.getpid()}@%h",
        ],
        cwd=ROOT,
        stdout=open(folder / f"{name}.log", "w"),
        stderr=subprocess.STDOUT,
    )


def _held(r: redis.Redis) -> int:
    """ETA tasks a worker has taken and not yet acknowledged."""
    return r.hlen("unacked")


def _wait_until_held(r: redis.Redis, count: int, what: str, size: str) -> None:
    """Until the queue is empty and a worker holds `count` tasks."""
    from bench.usual_celery import QUEUE

    wait_for(lambda: r.llen(QUEUE) == 0 and _held(r) >= count, what, TIMEOUT[size], 0.5)


# --- trygg ----------------------------------------------------------------------------------


def trygg(url: str, size: str) -> dict:
    from bench.sweep_scaling import timed_sweep

    n, due = N[size], DUE[size]
    world = open_world(url)
    org0, orgs = world.owners
    goal0, goals = world.goals
    rows = [
        {
            "agreement_id": world.agreement_id,
            "goal_id": goal0 + i % goals,
            "key": f"r-{i}",
            "title": f"Aktivitet {i}",
            "position": i + 1,
            "when_text": "Under 2013",
            "responsible_text": "Enhet",
            "timing": {
                "kind": "deadline",
                "due": (NOW.date() if i < due else (NOW + off).date()).isoformat(),
            },
            "deadline": NOW.date() if i < due else (NOW + off).date(),
            "footnotes": [],
            "state": "open",
            "next_action_at": DUE_AT if i < due else NOW + off,
        }
        for i, off in enumerate(offsets(n, due))
    ]
    before = rss()
    start = time.perf_counter()
    with transaction(world.sessions) as session:
        bulk_insert(session, Activity.__table__, rows)  # PostgreSQL's COPY: no statement per row
        session.execute(
            text(
                f"insert into activity_owners (activity_id, organisation_id, role, position) "
                f"select id, {org0} + id % {orgs}, 'lead', 0 from activities where key like 'r-%'"
            )
        )
    schedule = time.perf_counter() - start
    del rows
    with world.engine.connect() as conn:
        stored = conn.execute(
            text("select pg_total_relation_size('activities') + pg_total_relation_size('activity_owners')")
        ).scalar_one()
        conn.execute(text("analyze"))
        conn.commit()
    world.engine.dispose()
    # A restart is a new process: a fresh engine, and the first sweep finds what is due.
    fresh = make_engine(url)
    swept = timed_sweep(session_factory(fresh))
    fresh.dispose()
    return {
        "schedule": schedule,
        "fire": swept["total"],
        "items": swept["items"],
        "notices": swept["notices"],
        "mails": swept["mails"],
        "stored": stored,
        "rss": rss() - before,
    }


def measure(size: str) -> dict:
    with tempfile.TemporaryDirectory(prefix="trygg-bench-") as tmp:
        with database("postgresql") as url:
            aps = apscheduler(url, size)
        cel = celery_eta(size, Path(tmp))
        with database("postgresql") as url:
            tr = trygg(url, size)
    return {"n": N[size], "due": DUE[size], "apscheduler": aps, "celery": cel, "trygg": tr}


def run(size: str = "full") -> Section:
    started = time.perf_counter()
    m = measure(size)
    a, c, t = m["apscheduler"], m["celery"], m["trygg"]
    n, due = m["n"], m["due"]
    ratio_a, ratio_c = a["schedule"] / t["schedule"], c["schedule"] / t["schedule"]
    body = "\n\n".join(
        [
            f"{n:,} reminders, {due:,} of them due now, the rest over the next 30 days. All on this machine's "
            "PostgreSQL and Redis (database 11).",
            table(
                [
                    "",
                    "APScheduler 3, SQLAlchemyJobStore (PostgreSQL)",
                    "Celery ETA tasks (Redis, 1 worker)",
                    "trygg (rows + sweep)",
                ],
                _comparison_rows(a, c, t, due),
            ),
            f"Scheduling: trygg is **{ratio_a:,.0f}×** faster than APScheduler and **{ratio_c:,.1f}×** faster than "
            f"Celery ETAs (target ≥ 50×). APScheduler writes one row per `add_job`, each in its own transaction "
            f"({ms(a['schedule'] / n)} a job); Celery publishes one message per task ({ms(c['schedule'] / n)} a task); "
            f"trygg streams the rows with one `COPY` ({t['schedule'] / n * 1e6:,.0f} µs a row).",
        ]
    )
    capped = _capped(a, c, n, due)
    if capped:
        body += "\n\nCapped: " + "; ".join(capped) + "."
    figures = {
        "vs_apscheduler": ratio_a,
        "vs_celery": ratio_c,
        "celery_rss": c["worker_rss"],
        "aps_schedule": a["schedule"],
        "celery_schedule": c["schedule"],
        "trygg_schedule": t["schedule"],
    }
    return Section(
        3, "The usual approach", command("usual", size), body, time.perf_counter() - started, figures
    )


def _comparison_rows(a: dict, c: dict, t: dict, due: int) -> list[list[str]]:
    """The table's rows: APScheduler, Celery and trygg side by side."""
    return [
        ["time to schedule", secs(a["schedule"]), secs(c["schedule"]), f"**{secs(t['schedule'])}**"],
        [
            f"time to fire the {due:,} due",
            secs(a["fire"]),
            secs(c["fire"]) + " after their ETA",
            f"{secs(t['fire'])} (one sweep: {t['notices']:,} notices, {t['mails']:,} mails)",
        ],
        [
            "process memory holding the schedule",
            f"+{mib(a['rss'])} (scheduler process)",
            f"{mib(c['worker_rss'])} worker RSS; Redis +{mib(c['redis'])}",
            f"{mib(max(0, t['rss']))}: no process holds the schedule (the rows are in the database)",
        ],
        [
            "stored",
            f"{mib(a['stored'])} (apscheduler_jobs)",
            "in the worker's memory and Redis `unacked`",
            f"{mib(t['stored'])} (activities + owners)",
        ],
        [
            "restart",
            f"all {a['after_restart']:,} jobs in the table ({secs(a['restart'])} to start; listing them "
            f"{secs(a['listing'])}); of 10 jobs with the default misfire_grace_time (1 s) due during 3 s downtime, "
            f"{a['late_ran']} ran",
            f"SIGTERM: {c['after_term']:,} of {c['later']:,} handed back to Redis, re-taken by a new worker in "
            f"{secs(c['retake'])}; SIGKILL: {c['after_kill_unacked']:,} stranded in `unacked` until the visibility "
            f"timeout ({c['visibility']} s) — and every ETA beyond it is delivered again each hour (duplicates)",
            f"everything: the rows are the schedule; the first sweep of a new process found {t['items']:,} due",
        ],
    ]


def _capped(a: dict, c: dict, n: int, due: int) -> list[str]:
    """Which side stopped scheduling at its time bound, and what was extrapolated."""
    capped = []
    if a["added"] < n:
        capped.append(
            f"APScheduler was capped at {a['added']:,} jobs ({SCHEDULE_BOUND['full']:.0f} s); its time to "
            f"schedule is extrapolated to {n:,} at the measured rate, and its table and restart hold {a['after_restart']:,}"
        )
    if c["later"] < n - due:
        capped.append(
            f"Celery was capped at {c['later']:,} ETA tasks ({SCHEDULE_BOUND['full']:.0f} s of publishing); "
            f"its time to schedule is extrapolated to {n:,}, its worker and Redis memory are for {c['later']:,} held tasks"
        )
    return capped


if __name__ == "__main__":
    main_for("usual", run)
